import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignInGuard
import VenuePackage
import VenueStore

extension VenueAPI {
    // MARK: Candidate

    struct CandidateLoginRequest: Decodable {
        var admissionNumber: String
        var idNumber: String
        var terminalId: String
    }

    @Sendable func candidateLogin(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let body = try await request.decode(as: CandidateLoginRequest.self, context: context)
        let key = "candidate:\(body.admissionNumber.prefix(64).uppercased())"
        if let wait = throttle.retryAfter([key, "address:\(context.remoteAddress ?? "")"]) {
            throw StoreError.loginRateLimited(retryAfterSeconds: wait)
        }
        let result: LoginResult
        do {
            result = try await database.candidateLogin(
                admissionNumber: body.admissionNumber, idNumber: body.idNumber,
                terminal: terminal(request, context: context, id: body.terminalId))
        } catch StoreError.loginFailed {
            throttle.failed(name: key, address: context.remoteAddress)
            throw StoreError.loginFailed
        }
        throttle.succeeded(name: key)
        var response = try JSONResponse(result).response(from: request, context: context)
        response.headers[.setCookie] = SessionCookie.candidate.setCookie(result.token)
        return response
    }

    @Sendable func attemptState(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<AttemptState> {
        JSONResponse(try await database.attemptState(try await candidate(request, allowPending: true)))
    }

    struct HeartbeatAnswer: Codable, Sendable {
        var clock: ClockView
        var status: String
        /// A face re-check is due now: the terminal takes a picture and sends it to `attempt/face-check`.
        var faceCheckDue: Bool
    }

    @Sendable func heartbeat(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<HeartbeatAnswer> {
        let session = try await candidate(request, allowPending: true)
        let now = Date()
        let (clock, status, faceCheckDue) = try await database.heartbeat(session, now: now)
        if !session.pending { presence.touch(attemptID: session.attemptID, terminalID: session.terminalID, at: now) }
        return JSONResponse(HeartbeatAnswer(clock: clock, status: status, faceCheckDue: faceCheckDue && !session.pending))
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

}
