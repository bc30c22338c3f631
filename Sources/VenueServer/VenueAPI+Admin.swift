import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VenuePackage
import VenueStore

extension VenueAPI {
    // MARK: Admin

    @Sendable func importedPackages(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[ImportSummary]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.importedPackages())
    }

    /// The package file is the raw request body. It is written to disk, checked whole, and only then imported.
    @Sendable func importPackage(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ImportSummary> {
        let admin = try await staff(request, roles: [.admin])
        let file = incoming.appendingPathComponent(UUID().uuidString + ".kdpkg")
        defer { try? FileManager.default.removeItem(at: file) }
        try await Self.store(
            request.body, at: file, limit: Int(clamping: PackageReader.maxUnpackedBytes),
            tooLarge: StoreError.invalidRequest("the package is larger than this venue accepts"))
        let summary = try await VenueImporter(database: database, trustedIssuers: trustedIssuers)
            .importPackage(at: file, actor: admin.username, role: admin.role.rawValue)
        face.enrolNewPhotos()
        return JSONResponse(summary)
    }

    struct UnsealRequest: Decodable {
        var code: String
    }

    /// Opens a sealed paper with the code (启封码) the central office gave the chief invigilator; answers with the
    /// sitting as the console lists it. A wrong code is 422 `paper_seal_wrong_code` and changes nothing.
    @Sendable func unsealPaper(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SittingOverview> {
        let admin = try await staff(request, roles: [.admin])
        let sittingID = Sitting.ID(try context.parameters.require("sittingId"))
        let body = try await request.decode(as: UnsealRequest.self, context: context)
        try await database.unseal(sitting: sittingID, code: body.code, actor: admin.username, role: admin.role.rawValue)
        guard let overview = try await database.sittings(for: admin).first(where: { $0.id == sittingID.rawValue }) else {
            throw StoreError.notFound("场次 \(sittingID) / the sitting \(sittingID)")
        }
        return JSONResponse(overview)
    }

    @Sendable func results(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[ResultRow]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.results(sittingID: Sitting.ID(try context.parameters.require("sittingId"))))
    }

    @Sendable func resultsCSV(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        let sittingID = try context.parameters.require("sittingId")
        let csv = try await database.resultsCSV(sittingID: Sitting.ID(sittingID))
        return csvDownload(csv, fileName: "results-\(sittingID).csv")
    }

    @Sendable func review(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<AttemptReview> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.review(attemptID: try context.parameters.require("attemptId")))
    }

    @Sendable func answerLog(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[AnswerLogEntry]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(
            try await database.answerLog(
                attemptID: try context.parameters.require("attemptId"),
                questionID: request.uri.queryParameters["questionId"].map(String.init)))
    }

    @Sendable func staffAttachment(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        let attachment = try await database.attachment(id: try context.parameters.require("attachmentId"))
        return try fileResponse(attachment.file, contentType: attachment.kind.contentType, downloadName: attachment.name)
    }


    // MARK: Staff accounts

    @Sendable func staffAccounts(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[StaffAccount]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.staffAccounts())
    }

    struct NewStaff: Decodable {
        var username: String
        var name: String
        var role: StaffRole
        var rooms: [String]?
        var password: String
    }

    @Sendable func createStaff(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        let body = try await request.decode(as: NewStaff.self, context: context)
        try await database.createStaff(
            by: admin, username: body.username, name: body.name, role: body.role, rooms: body.rooms ?? [], password: body.password)
        return Response(status: .created)
    }

    @Sendable func updateStaff(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        let update = try await request.decode(as: StaffUpdate.self, context: context)
        try await database.updateStaff(by: admin, username: try context.parameters.require("username"), update: update)
        return Response(status: .noContent)
    }

    // MARK: Audit log

    func auditFilter(_ request: Request) -> AuditFilter {
        let query = request.uri.queryParameters
        func text(_ name: Substring) -> String? { query[name].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        return AuditFilter(
            actor: text("actor"), action: text("action"), sittingID: text("sittingId"), roomID: text("roomId"),
            admissionNumber: text("admissionNumber"), from: text("from").flatMap { Int64($0) }, to: text("to").flatMap { Int64($0) },
            limit: text("limit").flatMap { Int($0) } ?? 500)
    }

    @Sendable func auditLog(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[AuditEntry]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.auditLog(auditFilter(request)))
    }

    @Sendable func auditCSV(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        var filter = auditFilter(request)
        if request.uri.queryParameters["limit"] == nil { filter.limit = 100_000 }
        let csv = try await database.auditCSV(filter)
        return csvDownload(csv, fileName: "audit-log.csv")
    }

    /// A CSV file for the browser to save, never cached.
    func csvDownload(_ csv: String, fileName: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(fileName)\"",
                .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
    }
}
