import CentralStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignInGuard
import SyncProtocol

/// The office's admin API behind `/office/`: sign-in, the venues and how their sync goes, per sitting what has
/// arrived and what is missing, the completeness alerts, and what central refused. Every call but sign-in needs an
/// office session (`Authorization: Bearer …` or the `kd_office` cookie the sign-in sets).
struct OfficeAPI: Sendable {
    let database: CentralDatabase
    let policy: CompletenessPolicy
    /// Per user name (central usually sits behind a proxy, so one address can be the whole office): after five
    /// wrong passwords within ten minutes, that name waits 30 seconds, doubling up to 15 minutes.
    let throttle: LoginThrottle

    static let cookie = "kd_office"

    func register(on router: Router<BasicRequestContext>) {
        router.post("api/office/login", use: login)
        router.post("api/office/logout", use: logout)
        router.post("api/office/password", use: changePassword)
        router.get("api/office/me", use: me)
        router.get("api/office/venues", use: venues)
        router.get("api/office/completeness", use: completeness)
        router.get("api/office/alerts", use: alerts)
        router.get("api/office/reports", use: reports)
    }

    struct Login: Decodable {
        var username: String
        var password: String
    }

    @Sendable func login(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.decode(as: Login.self, context: context)
        guard body.username.count <= 64, body.password.count <= 256 else { throw CentralError.loginFailed }
        let key = "office:" + body.username.lowercased()
        if let wait = throttle.retryAfter([key]) { throw CentralError.loginRateLimited(retryAfterSeconds: wait) }
        let session: OfficeSession
        do {
            session = try await database.officeLogin(username: body.username, password: body.password)
        } catch CentralError.loginFailed {
            throttle.failed(name: key, address: nil)
            throw CentralError.loginFailed
        }
        throttle.succeeded(name: key)
        var response = try json(session, status: .ok)
        response.headers[.setCookie] =
            "\(Self.cookie)=\(session.token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(CentralDatabase.officeSessionValidity))"
        return response
    }

    struct PasswordChange: Decodable {
        var current: String
        var new: String
    }

    /// The signed-in user's own password; wrong current passwords count like wrong sign-ins.
    @Sendable func changePassword(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let body = try await request.decode(as: PasswordChange.self, context: context)
        let key = "office:" + account.username.lowercased()
        if let wait = throttle.retryAfter([key]) { throw CentralError.loginRateLimited(retryAfterSeconds: wait) }
        guard let token = Self.token(request) else { throw CentralError.signInRequired }
        do {
            try await database.changeOfficePassword(token: token, current: body.current, new: body.new)
        } catch CentralError.currentPasswordWrong {
            throttle.failed(name: key, address: nil)
            throw CentralError.currentPasswordWrong
        }
        return Response(status: .noContent)
    }

    @Sendable func logout(_ request: Request, context: BasicRequestContext) async throws -> Response {
        if let token = Self.token(request) { try await database.officeLogout(token: token) }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = "\(Self.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    @Sendable func me(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try json(try await signedIn(request))
    }

    @Sendable func venues(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.venueSyncSummaries())
    }

    @Sendable func completeness(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let venue = request.uri.queryParameters.get("venueId")
        return try json(try await database.completeness(policy: policy, venueID: venue))
    }

    @Sendable func alerts(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.completenessAlerts())
    }

    @Sendable func reports(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.syncReports(venueID: request.uri.queryParameters.get("venueId")))
    }

    func signedIn(_ request: Request) async throws -> OfficeAccount {
        guard let token = Self.token(request) else { throw CentralError.signInRequired }
        return try await database.officeAccount(token: token)
    }

    static func token(_ request: Request) -> String? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { return String(header.dropFirst(7)) }
        for part in request.headers[values: .cookie].flatMap({ $0.split(separator: ";") }) {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookie + "=") { return String(pair.dropFirst(cookie.count + 1)) }
        }
        return nil
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try SyncBatch.encoder.encode(value))))
    }
}

/// The office pages: `/office` goes to `/office/`; pages get a strict content security policy.
struct OfficePageMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/office" || request.uri.path == "/" {
            return Response(status: .movedPermanently, headers: [.location: "/office/"])
        }
        var response = try await next(request, context)
        if request.uri.path.hasPrefix("/office/") {
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
            response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
