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

    /// Compares a picture with a person's template and says what it found, in the form the store keeps.
    func judge(_ image: Data, personKind: String = "candidate", personId: String, engine: FaceEngine) async throws
        -> (FaceVerification, FaceVerificationInput)
    {
        let templateBytes = try await database.faceTemplate(personKind: personKind, personId: personId, model: engine.modelName).get()
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
        return (verification, input)
    }

    /// What to tell the person at the camera when the picture was not a match.
    func advice(_ verification: FaceVerification, mismatch: Message) -> Message? {
        switch verification.decision {
        case "unusable":
            (verification.flags.contains(.severalFaces) ? FaceError.severalFaces(max(2, verification.faceCount)) : FaceError.noFace).message
        case "mismatch": mismatch
        default: nil
        }
    }

    /// The invigilator's camera picture is compared with the candidate's registered photo; a match checks them in.
    @Sendable func faceCheck(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<FaceCheckResult> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        let admissionNumber = try context.parameters.require("admissionNumber")
        let engine = try face.requireEngine()
        let image = try await picture(request, limit: engine.configuration.maxBytes)
        let (verification, input) = try await judge(image, personId: admissionNumber, engine: engine)
        let (view, checkedIn) = try await database.recordCheckInVerification(
            sittingID, roomID, admissionNumber: admissionNumber, by: staff, result: input, capture: image)
        let message = advice(
            verification, mismatch: Message(zh: "与登记照片不符，请人工核对证件", en: "does not match the registered photo: check the ID document by eye"))
        return JSONResponse(FaceCheckResult(verification: view, checkedIn: checkedIn, message: message))
    }

    /// What the candidate's terminal learns of its own face check: the decision, never the score.
    struct TerminalFaceCheckResult: Codable, Sendable {
        var decision: String
        var checkedIn: Bool
        var message: Message?
        /// Self check-in tries left before only the invigilator can check the candidate in.
        var triesLeft: Int?
    }

    /// A face check taken by the candidate's terminal: self check-in before the paper opens (`?purpose=selfCheckIn`),
    /// or a random re-check during the exam (`?purpose=recheck`). A re-check whose camera could not be opened is
    /// recorded with `?failure=camera_unavailable` and an empty body, so that the console sees it.
    @Sendable func terminalFaceCheck(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<TerminalFaceCheckResult>
    {
        let session = try await candidate(request)
        let query = request.uri.queryParameters
        guard let purpose = query["purpose"].flatMap({ FacePurpose(rawValue: String($0)) }), purpose == .selfCheckIn || purpose == .recheck
        else {
            throw StoreError.invalidRequest("purpose 须为 selfCheckIn 或 recheck / purpose must be selfCheckIn or recheck")
        }
        try await database.requireTerminalFaceCheck(session, purpose: purpose)
        if let failure = query["failure"] {
            guard purpose == .recheck, failure == "camera_unavailable" else {
                throw StoreError.invalidRequest("failure 仅可为 camera_unavailable（仅用于抽检） / failure may only be camera_unavailable, on a re-check")
            }
            let input = FaceVerificationInput(
                similarity: nil, threshold: face.engine?.configuration.threshold ?? 0, decision: "unusable",
                problem: "camera_unavailable", face: nil, faceCount: 0, flags: [], model: face.engine?.modelName ?? "",
                imageWidth: 0, imageHeight: 0)
            _ = try await database.recordTerminalVerification(session, purpose: purpose, result: input, capture: nil)
            return JSONResponse(
                TerminalFaceCheckResult(
                    decision: "unusable", checkedIn: false,
                    message: Message(zh: "摄像头无法使用，已通知监考员", en: "the camera cannot be used; the invigilator has been told"),
                    triesLeft: nil))
        }
        let engine = try face.requireEngine()
        let image = try await picture(request, limit: engine.configuration.maxBytes)
        let (verification, input) = try await judge(image, personId: session.admissionNumber, engine: engine)
        let (view, checkedIn) = try await database.recordTerminalVerification(
            session, purpose: purpose, result: input, capture: image)
        let tries = purpose == .selfCheckIn ? try await database.faceCheckCount(session, purpose: .selfCheckIn) : 0
        let message = advice(
            verification,
            mismatch: purpose == .selfCheckIn
                ? Message(zh: "未能确认是本人，请正对摄像头后重试", en: "could not confirm it is you: face the camera and try again")
                : Message(zh: "已记录，请继续作答", en: "recorded; go on with the exam"))
        return JSONResponse(
            TerminalFaceCheckResult(
                decision: view.decision, checkedIn: checkedIn, message: message,
                triesLeft: purpose == .selfCheckIn && !checkedIn ? max(0, VenueDatabase.selfCheckInTries - tries) : nil))
    }

    /// A staff member signs in for duty by face (考评员人脸核验签到): the picture is matched with their registered photo.
    @Sendable func staffFaceSignIn(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<FaceCheckResult> {
        let staff = try await staff(request, roles: Set(StaffRole.allCases))
        guard try await database.staffHasPhoto(staff.username) else { throw StoreError.faceNotEnrolled("no_photo") }
        let engine = try face.requireEngine()
        let image = try await picture(request, limit: engine.configuration.maxBytes)
        let (verification, input) = try await judge(image, personKind: "staff", personId: staff.username, engine: engine)
        let view = try await database.recordStaffSignIn(staff, result: input, capture: image)
        let message = advice(
            verification, mismatch: Message(zh: "与登记照片不符，请联系考点管理员", en: "does not match the registered photo; ask the venue admin"))
        return JSONResponse(FaceCheckResult(verification: view, checkedIn: verification.decision == "match", message: message))
    }

    /// The staff member's own face sign-ins, newest first.
    @Sendable func staffFaceSignIns(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[FaceVerificationView]> {
        let staff = try await staff(request, roles: Set(StaffRole.allCases))
        return JSONResponse(
            try await database.faceVerifications(
                FaceVerificationFilter(personKind: "staff", personId: staff.username, purposes: [FacePurpose.staffSignIn.rawValue], limit: 20)))
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
            sittingID: text("sittingId"), roomID: text("roomId"), personKind: text("personKind"), personId: text("personId"),
            decision: text("decision"), purposes: text("purpose").map { $0.split(separator: ",").map(String.init) } ?? [],
            failedOnly: text("failed") == "1", from: text("from").flatMap { Int64($0) }, to: text("to").flatMap { Int64($0) },
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
