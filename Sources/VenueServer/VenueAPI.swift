import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VenuePackage
import VenueStore

/// The venue's HTTP API: routes translate requests into `VenueDatabase` calls and answers into JSON.
struct VenueAPI: Sendable {
    let database: VenueDatabase
    let presence: Presence
    /// Folder of the central offices' public keys this venue trusts.
    let trustedIssuers: URL
    /// Where uploaded packages wait while they are checked.
    let incoming: URL
    let logger: Logger

    func addRoutes(to router: Router<VenueRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse(["status": "ok"]) }

        let api = router.group("api")
        // Candidate terminal
        api.post("candidate/login", use: candidateLogin)
        api.get("attempt", use: attemptState)
        api.post("attempt/heartbeat", use: heartbeat)
        api.get("attempt/paper", use: attemptPaper)
        api.post("attempt/answers", use: saveAnswers)
        api.post("attempt/events", use: recordEvents)
        api.post("attempt/attachments", use: uploadAttachment)
        api.get("attempt/attachments/:attachmentId", use: candidateAttachment)
        api.post("attempt/submit", use: submit)
        api.get("attempt/photo", use: candidatePhoto)
        // Staff
        api.post("staff/login", use: staffLogin)
        api.get("staff/me", use: staffMe)
        api.post("session/logout", use: logout)
        api.get("console/sittings", use: consoleSittings)
        api.post("console/sittings/:sittingId/start", use: startSitting)
        api.get("console/sittings/:sittingId/rooms/:roomId/roster", use: roster)
        api.post("console/sittings/:sittingId/extensions", use: extendTime)
        api.get("photos/:admissionNumber", use: staffPhoto)
        // Venue admin
        api.get("admin/packages", use: importedPackages)
        api.post("admin/packages", use: importPackage)
        api.get("admin/sittings/:sittingId/results", use: results)
        api.get("admin/sittings/:sittingId/results.csv", use: resultsCSV)
        api.get("admin/attempts/:attemptId", use: review)
        api.get("admin/attempts/:attemptId/log", use: answerLog)
        api.get("admin/attachments/:attachmentId", use: staffAttachment)
    }

    // MARK: Candidate

    struct CandidateLoginRequest: Decodable {
        var admissionNumber: String
        var idNumber: String
        var terminalId: String
    }

    @Sendable func candidateLogin(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let body = try await request.decode(as: CandidateLoginRequest.self, context: context)
        let result = try await database.candidateLogin(
            admissionNumber: body.admissionNumber, idNumber: body.idNumber,
            terminal: terminal(request, context: context, id: body.terminalId))
        var response = try JSONResponse(result).response(from: request, context: context)
        response.headers[.setCookie] = SessionCookie.candidate.setCookie(result.token)
        return response
    }

    @Sendable func attemptState(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<AttemptState> {
        JSONResponse(try await database.attemptState(try await candidate(request)))
    }

    struct HeartbeatAnswer: Codable, Sendable {
        var clock: ClockView
        var status: String
    }

    @Sendable func heartbeat(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<HeartbeatAnswer> {
        let session = try await candidate(request)
        let now = Date()
        let (clock, status) = try await database.clock(session, now: now)
        presence.touch(attemptID: session.attemptID, terminalID: session.terminalID, at: now)
        return JSONResponse(HeartbeatAnswer(clock: clock, status: status))
    }

    @Sendable func attemptPaper(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<AttemptPaper> {
        JSONResponse(try await database.attemptPaper(try await candidate(request)))
    }

    struct SaveRequest: Decodable {
        var changes: [AnswerChange]
    }

    @Sendable func saveAnswers(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SaveReceipt> {
        let receivedAt = Date()
        let session = try await candidate(request)
        let body = try await request.decode(as: SaveRequest.self, context: context)
        let receipt = try await database.saveAnswers(session, changes: body.changes, receivedAt: receivedAt)
        presence.touch(attemptID: session.attemptID, terminalID: session.terminalID, at: receivedAt)
        return JSONResponse(receipt)
    }

    struct EventsRequest: Decodable {
        var events: [AttemptEventInput]
    }

    struct Acknowledged: Codable, Sendable {
        var acknowledged: [String]
    }

    @Sendable func recordEvents(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<Acknowledged> {
        let session = try await candidate(request)
        let body = try await request.decode(as: EventsRequest.self, context: context)
        return JSONResponse(Acknowledged(acknowledged: try await database.recordEvents(session, events: body.events)))
    }

    /// The file is the raw request body; `questionId` and `name` come in the query.
    @Sendable func uploadAttachment(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<AttachmentReference>
    {
        let session = try await candidate(request)
        guard let questionID = request.uri.queryParameters["questionId"].map(String.init),
            let name = request.uri.queryParameters["name"].map(String.init), !name.isEmpty
        else { throw StoreError.invalidRequest("questionId and name are needed in the query") }
        let limit = AttachmentKind.largestAllowedBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw StoreError.attachmentTooLarge(limit: limit)
        }
        let reference = try await database.storeAttachment(
            session, questionID: questionID, fileName: name, data: Data(buffer.readableBytesView))
        return JSONResponse(reference, status: .created)
    }

    @Sendable func candidateAttachment(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let session = try await candidate(request)
        let attachment = try await database.attachment(id: try context.parameters.require("attachmentId"))
        guard attachment.attemptID == session.attemptID else { throw StoreError.attachmentUnknown("") }
        return try fileResponse(attachment.file, contentType: attachment.kind.contentType, downloadName: attachment.name)
    }

    struct SubmitRequest: Decodable {
        var confirm: Bool
    }

    @Sendable func submit(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SubmitResult> {
        let session = try await candidate(request)
        let body = try await request.decode(as: SubmitRequest.self, context: context)
        guard body.confirm else { throw StoreError.invalidRequest("confirm must be true to submit") }
        return JSONResponse(try await database.submit(session))
    }

    @Sendable func candidatePhoto(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let session = try await candidate(request)
        return photoResponse(try await database.photo(admissionNumber: session.admissionNumber))
    }

    // MARK: Staff

    struct StaffLoginRequest: Decodable {
        var username: String
        var password: String
        var terminalId: String?
    }

    @Sendable func staffLogin(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let body = try await request.decode(as: StaffLoginRequest.self, context: context)
        guard body.username.count <= 64, body.password.count <= 256 else { throw StoreError.staffLoginFailed }
        let result = try await database.staffLogin(
            username: body.username, password: body.password,
            terminal: terminal(request, context: context, id: body.terminalId ?? "console"))
        var response = try JSONResponse(result).response(from: request, context: context)
        response.headers[.setCookie] = SessionCookie.staff.setCookie(result.token)
        return response
    }

    struct StaffView: Codable, Sendable {
        var username: String
        var name: String
        var role: String
        var rooms: [String]
    }

    @Sendable func staffMe(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<StaffView> {
        let session = try await staff(request, roles: Set(StaffRole.allCases))
        return JSONResponse(
            StaffView(username: session.username, name: session.name, role: session.role.rawValue, rooms: session.rooms.map(\.rawValue)))
    }

    @Sendable func logout(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let cookie: SessionCookie = request.uri.queryParameters["as"] == "staff" ? .staff : .candidate
        let session = try await session(request, cookie: cookie)
        switch session {
        case .candidate(let candidate): try await database.logout(sessionID: candidate.sessionID)
        case .staff(let staff): try await database.logout(sessionID: staff.sessionID)
        }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = cookie.clearCookie
        return response
    }

    @Sendable func consoleSittings(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<[SittingOverview]>
    {
        let session = try await staff(request, roles: [.admin, .invigilator])
        return JSONResponse(try await database.sittings(for: session))
    }

    @Sendable func startSitting(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let sittingID = Sitting.ID(try context.parameters.require("sittingId"))
        let session = try await staff(request, roles: [.admin, .invigilator])
        try await requireSittingAccess(session, sittingID: sittingID)
        return JSONResponse(try await database.startSitting(sittingID, by: session.username))
    }

    @Sendable func roster(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[RosterEntry]> {
        let sittingID = Sitting.ID(try context.parameters.require("sittingId"))
        let roomID = Room.ID(try context.parameters.require("roomId"))
        _ = try await staff(request, room: roomID)
        let entries = try await database.roster(sittingID: sittingID, roomID: roomID).map { entry in
            var entry = entry
            if let attemptID = entry.attemptId, let beat = presence.lastBeat(attemptID: attemptID) {
                entry.lastHeartbeat = beat.at.millis
            }
            return entry
        }
        return JSONResponse(entries)
    }

    struct ExtendRequest: Decodable {
        var attemptId: String?
        var seconds: Int
        var reason: String
    }

    @Sendable func extendTime(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let sittingID = Sitting.ID(try context.parameters.require("sittingId"))
        let session = try await staff(request, roles: [.admin, .invigilator])
        try await requireSittingAccess(session, sittingID: sittingID)
        let body = try await request.decode(as: ExtendRequest.self, context: context)
        try await database.extendTime(
            sittingID: sittingID, attemptID: body.attemptId, seconds: body.seconds, reason: body.reason, by: session.username)
        return Response(status: .noContent)
    }

    @Sendable func staffPhoto(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin, .invigilator, .examiner, .supervisor])
        return photoResponse(try await database.photo(admissionNumber: try context.parameters.require("admissionNumber")))
    }

    /// Invigilators act only on sittings held in one of their rooms.
    func requireSittingAccess(_ session: StaffSession, sittingID: Sitting.ID) async throws {
        guard session.role != .admin else { return }
        let visible = try await database.sittings(for: session)
        guard visible.contains(where: { $0.id == sittingID.rawValue }) else { throw StoreError.forbidden }
    }

    // MARK: Admin

    @Sendable func importedPackages(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[ImportSummary]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.importedPackages())
    }

    /// The package file is the raw request body. It is written to disk, checked whole, and only then imported.
    @Sendable func importPackage(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ImportSummary> {
        _ = try await staff(request, roles: [.admin])
        let file = incoming.appendingPathComponent(UUID().uuidString + ".kdpkg")
        defer { try? FileManager.default.removeItem(at: file) }
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw StoreError.invalidRequest("the upload could not be stored")
        }
        let handle = try FileHandle(forWritingTo: file)
        var total = 0
        do {
            for try await buffer in request.body {
                total += buffer.readableBytes
                guard UInt64(total) <= PackageReader.maxUnpackedBytes else {
                    throw StoreError.invalidRequest("the package is larger than this venue accepts")
                }
                try handle.write(contentsOf: Data(buffer.readableBytesView))
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        return JSONResponse(try await VenueImporter(database: database, trustedIssuers: trustedIssuers).importPackage(at: file))
    }

    @Sendable func results(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[ResultRow]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.results(sittingID: Sitting.ID(try context.parameters.require("sittingId"))))
    }

    @Sendable func resultsCSV(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        let sittingID = try context.parameters.require("sittingId")
        let csv = try await database.resultsCSV(sittingID: Sitting.ID(sittingID))
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"results-\(sittingID).csv\"",
                .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
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

    // MARK: Helpers

    func terminal(_ request: Request, context: VenueRequestContext, id: String) -> TerminalInfo {
        TerminalInfo(terminalID: id, userAgent: request.headers[.userAgent], address: context.remoteAddress)
    }

    /// Photos may be SVG placeholders: served so that no script in them can ever run.
    func photoResponse(_ photo: (contentType: String, data: Data)) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: photo.contentType, .cacheControl: "private, max-age=300",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: photo.data)))
    }

    func fileResponse(_ url: URL, contentType: String, downloadName: String) throws -> Response {
        let data = try Data(contentsOf: url)
        let encoded = downloadName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "attachment"
        return Response(
            status: .ok,
            headers: [
                .contentType: contentType, .cacheControl: "private, no-store",
                .contentDisposition: "attachment; filename*=UTF-8''\(encoded)",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
