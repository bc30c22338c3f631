import ExamCore
import FaceEngine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VenueStore

/// Face verification at the invigilator's desk, the verification record, and enrolment status.
extension VenueAPI {
    struct FaceCheckResult: Codable, Sendable {
        var verification: FaceVerificationView
        /// True when the match checked the candidate in.
        var checkedIn: Bool
        /// What to tell the invigilator when the picture could not be judged.
        var message: Message?
    }

    struct FaceEnrolmentView: Codable, Sendable {
        var available: Bool
        var message: Message?
        var threshold: Double?
        var status: FaceEnrolmentStatus?
    }

    /// The picture in the request body (JPEG or PNG, as the browser captured it), within the engine's size limit.
    func picture(_ request: Request, limit: Int) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw FaceError.imageTooLarge(bytes: limit + 1, limit: limit)
        }
    }

    /// The invigilator's camera picture is compared with the candidate's registered photo; a match checks them in.
    @Sendable func faceCheck(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<FaceCheckResult> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        let admissionNumber = try context.parameters.require("admissionNumber")
        let engine = try face.requireEngine()
        let image = try await picture(request, limit: engine.configuration.maxBytes)
        let stored = try await database.faceTemplate(admissionNumber: admissionNumber, model: engine.modelName)
        let templateBytes = try stored.get()
        guard let template = FaceTemplate(model: engine.modelName, bytes: templateBytes) else {
            throw StoreError.faceNotEnrolled("face_template_unreadable")
        }
        let verification = try await engine.verify(image, against: template)
        let input = FaceVerificationInput(
            similarity: verification.similarity, threshold: verification.threshold, decision: verification.decision,
            problem: verification.problem,
            face: verification.face.map { ["x": $0.x, "y": $0.y, "width": $0.width, "height": $0.height, "score": $0.score] },
            faceCount: verification.faceCount, flags: verification.flags.map(\.rawValue), model: engine.modelName,
            imageWidth: verification.imageWidth, imageHeight: verification.imageHeight)
        let (view, checkedIn) = try await database.recordCheckInVerification(
            sittingID, roomID, admissionNumber: admissionNumber, by: staff, result: input, capture: image)
        let message: Message? =
            switch verification.decision {
            case "unusable":
                (verification.flags.contains(.severalFaces) ? FaceError.severalFaces(max(2, verification.faceCount)) : FaceError.noFace).message
            case "mismatch":
                Message(zh: "与登记照片不符，请人工核对证件", en: "does not match the registered photo: check the ID document by eye")
            default: nil
            }
        return JSONResponse(FaceCheckResult(verification: view, checkedIn: checkedIn, message: message))
    }

    /// Every face verification in the room, newest first.
    @Sendable func roomFaceVerifications(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<[FaceVerificationView]>
    {
        let (sittingID, roomID, _) = try await roomContext(request, context)
        return JSONResponse(
            try await database.faceVerifications(FaceVerificationFilter(sittingID: sittingID.rawValue, roomID: roomID.rawValue)))
    }

    /// The captured picture of one verification: the admin, or an invigilator of the room it was taken in.
    @Sendable func faceCapture(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let session = try await staff(request, roles: [.admin, .invigilator])
        let capture = try await database.faceCapture(id: try context.parameters.require("verificationId"))
        if session.role != .admin {
            guard let room = capture.roomID, session.mayActIn(room: Room.ID(room)) else { throw StoreError.forbidden }
        }
        let isPNG = capture.picture.starts(with: [0x89, 0x50, 0x4E, 0x47])
        return Response(
            status: .ok,
            headers: [.contentType: isPNG ? "image/png" : "image/jpeg", .cacheControl: "private, no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: capture.picture)))
    }

    @Sendable func faceEnrolment(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<FaceEnrolmentView> {
        _ = try await staff(request, roles: [.admin])
        guard let engine = face.engine else {
            return JSONResponse(FaceEnrolmentView(available: false, message: face.unavailable?.message, threshold: nil, status: nil))
        }
        return JSONResponse(
            FaceEnrolmentView(
                available: true, message: nil, threshold: engine.configuration.threshold,
                status: try await database.enrolmentStatus(model: engine.modelName)))
    }

    func faceFilter(_ request: Request) -> FaceVerificationFilter {
        let query = request.uri.queryParameters
        func text(_ name: Substring) -> String? { query[name].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        return FaceVerificationFilter(
            sittingID: text("sittingId"), roomID: text("roomId"), personId: text("personId"), decision: text("decision"),
            purpose: text("purpose"), from: text("from").flatMap { Int64($0) }, to: text("to").flatMap { Int64($0) },
            limit: text("limit").flatMap { Int($0) } ?? 500)
    }

    @Sendable func faceVerificationList(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<[FaceVerificationView]>
    {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.faceVerifications(faceFilter(request)))
    }

    @Sendable func faceVerificationCSV(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        var filter = faceFilter(request)
        if request.uri.queryParameters["limit"] == nil { filter.limit = 100_000 }
        return csvDownload(try await database.faceVerificationsCSV(filter), fileName: "face-verifications.csv")
    }
}
