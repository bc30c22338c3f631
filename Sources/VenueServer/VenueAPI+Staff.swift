import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SignInGuard
import VenuePackage
import VenueStore

extension VenueAPI {
    // MARK: Staff accounts

    struct StaffLoginRequest: Decodable {
        var username: String
        var password: String
        var terminalId: String?
    }

    @Sendable func staffLogin(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let body = try await request.decode(as: StaffLoginRequest.self, context: context)
        guard body.username.count <= 64, body.password.count <= 256 else { throw StoreError.staffLoginFailed }
        let key = "staff:\(body.username.lowercased())"
        if let wait = throttle.retryAfter([key, "address:\(context.remoteAddress ?? "")"]) {
            throw StoreError.loginRateLimited(retryAfterSeconds: wait)
        }
        let result: LoginResult
        do {
            result = try await database.staffLogin(
                username: body.username, password: body.password,
                terminal: terminal(request, context: context, id: body.terminalId ?? "console"))
        } catch StoreError.staffLoginFailed {
            throttle.failed(name: key, address: context.remoteAddress)
            throw StoreError.staffLoginFailed
        }
        throttle.succeeded(name: key)
        var response = try JSONResponse(result).response(from: request, context: context)
        response.headers[.setCookie] = SessionCookie.staff.setCookie(result.token)
        return response
    }

    struct StaffView: Codable, Sendable {
        var username: String
        var name: String
        var role: String
        var rooms: [String]
        var mustChangePassword: Bool
    }

    @Sendable func staffMe(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<StaffView> {
        let session = try await staff(request, roles: Set(StaffRole.allCases), allowingPasswordChange: true)
        return JSONResponse(
            StaffView(
                username: session.username, name: session.name, role: session.role.rawValue,
                rooms: session.rooms.map(\.rawValue), mustChangePassword: session.mustChangePassword))
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    @Sendable func changePassword(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let session = try await staff(request, roles: Set(StaffRole.allCases), allowingPasswordChange: true)
        let body = try await request.decode(as: PasswordChange.self, context: context)
        let key = "staff:\(session.username.lowercased())"
        if let wait = throttle.retryAfter([key]) { throw StoreError.loginRateLimited(retryAfterSeconds: wait) }
        do {
            try await database.changePassword(session, current: body.currentPassword, new: body.newPassword)
        } catch StoreError.staffLoginFailed {
            throttle.failed(name: key, address: context.remoteAddress)
            throw StoreError.staffLoginFailed
        }
        return Response(status: .noContent)
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

    // MARK: Console

    @Sendable func consoleSittings(_ request: Request, context: VenueRequestContext) async throws
        -> JSONResponse<[SittingOverview]>
    {
        let session = try await staff(request, roles: [.admin, .invigilator])
        return JSONResponse(try await database.sittings(for: session))
    }

    /// Starts every room of a sitting (admins); invigilators start their own room.
    @Sendable func startSitting(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let session = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.startSitting(Sitting.ID(try context.parameters.require("sittingId")), by: session))
    }

    /// The sitting and room named in the path, with a staff member allowed to act there.
    func roomContext(_ request: Request, _ context: VenueRequestContext) async throws -> (Sitting.ID, Room.ID, StaffSession) {
        let sittingID = Sitting.ID(try context.parameters.require("sittingId"))
        let roomID = Room.ID(try context.parameters.require("roomId"))
        return (sittingID, roomID, try await staff(request, room: roomID))
    }

    func currentRoomView(_ sittingID: Sitting.ID, _ roomID: Room.ID) async throws -> RoomView {
        let presence = self.presence
        return try await database.roomView(sittingID: sittingID, roomID: roomID) { presence.lastBeat(attemptID: $0)?.at.millis }
    }

    @Sendable func roomView(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<RoomView> {
        let (sittingID, roomID, _) = try await roomContext(request, context)
        return JSONResponse(try await currentRoomView(sittingID, roomID))
    }

    /// Server-sent events: the room view now and every two seconds, until the browser goes away or the server stops
    /// (or after `max` events, for tools).
    @Sendable func roomLive(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, _) = try await roomContext(request, context)
        let first = try await currentRoomView(sittingID, roomID)
        let logger = self.logger
        let limit = request.uri.queryParameters["max"].flatMap { Int($0) } ?? Int.max
        let body = ResponseBody { writer in
            var view: RoomView? = first
            var sent = 0
            let started = ContinuousClock.now
            // A stream lasts at most ten minutes; EventSource reconnects by itself.
            while !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now - started < .seconds(600) {
                if let current = view {
                    sent += 1
                    let json = try JSONEncoder.api.encode(current)
                    var buffer = ByteBuffer(string: "event: room\ndata: ")
                    buffer.writeBytes(json)
                    buffer.writeString("\n\n")
                    try await writer.write(buffer)
                    if sent >= limit { break }
                }
                try? await Task.sleep(for: .seconds(2))
                do {
                    view = try await currentRoomView(sittingID, roomID)
                } catch {
                    logger.warning("live room view failed: \(error)")
                    view = nil
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }

    @Sendable func roomReport(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<RoomReport> {
        let (sittingID, roomID, _) = try await roomContext(request, context)
        return JSONResponse(try await database.roomReport(sittingID: sittingID, roomID: roomID))
    }

    struct Reason: Decodable {
        var reason: String?
    }

    /// The reason in an optional JSON body (an empty body means no reason).
    func reason(_ request: Request, _ context: VenueRequestContext) async throws -> String? {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        guard buffer.readableBytes > 0 else { return nil }
        return try JSONDecoder().decode(Reason.self, from: Data(buffer.readableBytesView)).reason
    }

    @Sendable func startRoom(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        return JSONResponse(try await database.startRoom(sittingID, roomID, by: staff, reason: try await reason(request, context)))
    }

    @Sendable func pauseRoom(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        return JSONResponse(
            try await database.pauseRoom(sittingID, roomID, by: staff, reason: try await reason(request, context) ?? ""))
    }

    @Sendable func resumeRoom(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        return JSONResponse(try await database.resumeRoom(sittingID, roomID, by: staff, reason: try await reason(request, context)))
    }

    @Sendable func endRoom(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<ClockView> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        return JSONResponse(try await database.endRoom(sittingID, roomID, by: staff, reason: try await reason(request, context) ?? ""))
    }

    struct ExtendRequest: Decodable {
        var attemptId: String?
        var seconds: Int
        var reason: String
    }

    @Sendable func extendTime(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        let body = try await request.decode(as: ExtendRequest.self, context: context)
        try await database.extendTime(
            sittingID, roomID, attemptID: body.attemptId, seconds: body.seconds, reason: body.reason, by: staff)
        return Response(status: .noContent)
    }

    struct IncidentRequest: Decodable {
        var admissionNumber: String?
        var category: IncidentCategory
        var note: String
        var occurredAt: Int64?
    }

    struct Created: Codable, Sendable {
        var id: String
    }

    @Sendable func recordIncident(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<Created> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        let body = try await request.decode(as: IncidentRequest.self, context: context)
        let id = try await database.recordIncident(
            sittingID, roomID, admissionNumber: body.admissionNumber, category: body.category, note: body.note,
            occurredAt: body.occurredAt.map(Date.init(millis:)), by: staff)
        return JSONResponse(Created(id: id), status: .created)
    }

    struct NoteRequest: Decodable {
        var note: String?
        var reason: String?
        /// With check-in after a failed face check: the verification being overridden, and why.
        var verificationId: String?
        var overrideReason: String?
    }

    func noteRequest(_ request: Request) async throws -> NoteRequest? {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        guard buffer.readableBytes > 0 else { return nil }
        do {
            return try JSONDecoder().decode(NoteRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw StoreError.invalidRequest("the body must be JSON like {\"note\": \"…\"}")
        }
    }

    func note(_ request: Request, _ context: VenueRequestContext) async throws -> String? {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        guard buffer.readableBytes > 0 else { return nil }
        let body = try JSONDecoder().decode(NoteRequest.self, from: Data(buffer.readableBytesView))
        return body.note ?? body.reason
    }

    /// Manual check-in against the photo; with `verificationId` it overrides a failed face check (a reason is required).
    @Sendable func checkIn(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        let admissionNumber = try context.parameters.require("admissionNumber")
        let body = try await noteRequest(request)
        if let verificationID = body?.verificationId {
            try await database.overrideFaceCheckIn(
                sittingID, roomID, admissionNumber: admissionNumber, verificationID: verificationID, by: staff,
                reason: body?.overrideReason ?? body?.reason ?? body?.note ?? "")
        } else {
            try await database.checkIn(sittingID, roomID, admissionNumber: admissionNumber, by: staff, note: body?.note ?? body?.reason)
        }
        return Response(status: .noContent)
    }

    @Sendable func markAbsent(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        try await database.markAbsent(
            sittingID, roomID, admissionNumber: try context.parameters.require("admissionNumber"), by: staff,
            reason: try await note(request, context))
        return Response(status: .noContent)
    }

    @Sendable func forceSubmit(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SubmitResult> {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        return JSONResponse(
            try await database.forceSubmit(
                sittingID, roomID, admissionNumber: try context.parameters.require("admissionNumber"), by: staff,
                reason: try await note(request, context) ?? ""))
    }

    @Sendable func approveMove(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        try await database.approveMove(sittingID, roomID, moveID: try context.parameters.require("moveId"), by: staff)
        return Response(status: .noContent)
    }

    @Sendable func rejectMove(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let (sittingID, roomID, staff) = try await roomContext(request, context)
        try await database.rejectMove(
            sittingID, roomID, moveID: try context.parameters.require("moveId"), by: staff,
            reason: try await reason(request, context) ?? "")
        return Response(status: .noContent)
    }

    /// A candidate's photo: admins and supervisors see every candidate, invigilators and examiners those seated in
    /// their rooms.
    @Sendable func staffPhoto(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let session = try await staff(request, roles: [.admin, .invigilator, .examiner, .supervisor])
        let admissionNumber = try context.parameters.require("admissionNumber")
        if session.role == .invigilator || session.role == .examiner {
            let rooms = try await database.rooms(of: admissionNumber)
            guard rooms.contains(where: session.mayActIn(room:)) else { throw StoreError.forbidden }
        }
        return photoResponse(try await database.photo(admissionNumber: admissionNumber))
    }
}
