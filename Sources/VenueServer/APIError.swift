import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VenuePackage
import VenueStore

/// The JSON error body every failing API call returns:
/// `{"error": {"code": "…", "message": "…", "messageZh": "…", "problems": [...]}}`.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
        var messageZh: String
        var problems: [PackageProblem]?
        /// With `login_rate_limited`: seconds until the next try.
        var retryAfterSeconds: Int?
    }
    var error: Detail
}

/// HTTP status for each stable error code.
enum ErrorStatus {
    static func status(for code: String) -> HTTPResponse.Status {
        switch code {
        case "login_failed", "staff_login_failed", "session_unknown", "session_expired", "session_ended": .unauthorized
        case "forbidden", "late_entry_closed", "password_change_required", "candidate_marked_absent": .forbidden
        case "not_found", "no_sitting": .notFound
        case "terminal_moved", "sitting_not_started", "time_is_up", "attempt_submitted", "sitting_already_started",
            "package_wrong_venue", "package_conflicts_with_started_sitting", "room_paused", "move_pending", "move_rejected",
            "staff_exists", "room_not_running", "room_not_paused", "room_over", "move_not_pending", "face_override_required",
            "face_check_in_required", "face_check_not_due", "face_check_attempts_used", "already_checked_in", "paper_sealed", "skill_sheet_submitted":
            .conflict
        case "attachment_too_large", "payload_too_large", "image_too_large", "image_too_many_pixels": .contentTooLarge
        case "face_engine_unavailable": .serviceUnavailable
        case "face_picture_deleted": .gone
        case "face_not_enrolled", "skill_score_invalid": .unprocessableContent
        case "attachment_type_not_allowed", "unsupported_media_type": .unsupportedMediaType
        case "login_rate_limited": .tooManyRequests
        default:
            code.hasPrefix("package_") || code.hasPrefix("candidate_") || code.hasPrefix("seat_")
                || code.hasPrefix("question_") || code.hasPrefix("paper_") || code.hasPrefix("sitting_")
                || code.hasPrefix("staff_") || code.hasPrefix("room_") || code.hasPrefix("venue_")
                || code.hasPrefix("recording_") || code.hasPrefix("upload_")
                ? .unprocessableContent : .badRequest
        }
    }
}

/// Turns every error into the JSON error body with its status, so no caller ever sees a bare 500 page.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PackageError {
            return Self.response(code: error.code, message: error.message, problems: error.problems)
        } catch StoreError.loginRateLimited(let seconds) {
            let error = StoreError.loginRateLimited(retryAfterSeconds: seconds)
            var response = Self.response(code: error.code, message: error.message, retryAfter: seconds)
            response.headers[.retryAfter] = String(seconds)
            return response
        } catch let error as any CodedError {
            return Self.response(code: error.code, message: error.message)
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .contentTooLarge: "payload_too_large"
                case .unsupportedMediaType: "unsupported_media_type"
                case .methodNotAllowed: "method_not_allowed"
                default: "invalid_request"
                }
            let detail = error.body ?? error.status.reasonPhrase
            var response = Self.response(
                code: code,
                message: Message(zh: Self.chinese(error.status) + "：" + detail, en: detail), status: error.status)
            response.headers.append(contentsOf: error.headers)
            return response
        } catch {
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return Self.response(
                code: "internal_error",
                message: Message(zh: "服务器内部错误，已记录，请联系考点管理员", en: "internal error; it has been logged, please tell the venue admin"),
                status: .internalServerError)
        }
    }

    static func chinese(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "找不到该地址"
        case .contentTooLarge: "请求内容过大"
        case .unsupportedMediaType: "不支持的内容类型"
        case .methodNotAllowed: "不支持该请求方法"
        default: "请求无效"
        }
    }

    static func response(
        code: String, message: Message, problems: [PackageProblem]? = nil, status: HTTPResponse.Status? = nil,
        retryAfter: Int? = nil
    ) -> Response {
        let body = ErrorBody(
            error: .init(code: code, message: message.en, messageZh: message.zh, problems: problems, retryAfterSeconds: retryAfter))
        let data = (try? JSONEncoder.api.encode(body)) ?? Data()
        return Response(
            status: status ?? ErrorStatus.status(for: code),
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension JSONEncoder {
    /// The API's JSON: unescaped slashes, ISO-8601 dates.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

/// A JSON response with a chosen status.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(value))))
    }
}
