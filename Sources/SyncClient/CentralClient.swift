import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SyncProtocol

/// Why a call to the central office did not succeed, in words for the sync page.
public enum CentralCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: the link is down, central is away, or the connection was cut.
    case unreachable(String)
    /// Central answered with a refusal (its code and messages; for `item_conflict` and `item_unusable`, the items it
    /// names, each with its reason).
    case refused(status: Int, code: String, message: String, messageZh: String, items: [UnusableItem])
    /// Central answered something this venue cannot read.
    case badAnswer(status: Int)

    public var description: String {
        switch self {
        case .unreachable(let detail): "central unreachable: \(detail)"
        case .refused(let status, let code, let message, _, _): "refused (\(status) \(code)): \(message)"
        case .badAnswer(let status): "unreadable answer (HTTP \(status))"
        }
    }
}

/// The venue's side of the conversation with the central office: signed batches and upload sessions.
public struct CentralClient: Sendable {
    public let baseURL: String
    public let venueID: String
    let key: Curve25519.Signing.PrivateKey
    let http: HTTPClient
    /// How long one call may take before it counts as a failure.
    public var timeout: TimeAmount

    /// The HTTP client for the central office: a refused or unanswered connection fails the call at once (after at
    /// most 5 s) instead of being retried until the request's deadline, so the agent knows the link is down and
    /// tries again on its own schedule. Lives as long as the process.
    public static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(
        baseURL: String, venueID: String, key: Curve25519.Signing.PrivateKey, http: HTTPClient = CentralClient.http,
        timeout: TimeAmount = .seconds(30)
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.venueID = venueID
        self.key = key
        self.http = http
        self.timeout = timeout
    }

    /// Sends `items` as a new signed batch (a fresh batch id each call, so a retry after a cut is not a replay).
    public func send(_ items: [SyncItem], now: Date = Date()) async throws -> SyncReceipt {
        let body = try SyncBatch.encoder.encode(SyncBatch(venueId: venueID, createdAt: now, items: items))
        return try await post("/api/sync/batches", body: body, purpose: .batch, compress: true, expecting: SyncReceipt.self)
    }

    /// A bearer token for video uploads.
    public func openUploadSession(now: Date = Date()) async throws -> SyncSession {
        let body = try SyncBatch.encoder.encode(SyncSessionRequest(venueId: venueID, createdAt: now))
        return try await post("/api/sync/sessions", body: body, purpose: .session, expecting: SyncSession.self)
    }

    /// A package central has issued for this venue and the venue has not reported on.
    public struct PendingPackage: Codable, Sendable, Equatable {
        public var packageId: String
        public var sha256: String
        public var bytes: Int64
    }

    public func pendingPackages(token: String) async throws -> [PendingPackage] {
        let answer = try await call(.GET, "/api/sync/packages", token: token, limit: 1 << 20)
        guard let list = try? SyncBatch.decoder.decode([PendingPackage].self, from: answer) else {
            throw CentralCallError.badAnswer(status: 200)
        }
        return list
    }

    /// Downloads a package into `file`, checking its size and SHA-256 against what central announced.
    public func downloadPackage(_ package: PendingPackage, token: String, to file: URL) async throws {
        let data = try await call(.GET, "/api/sync/packages/" + package.packageId, token: token, limit: Int(package.bytes) + 1)
        guard Int64(data.count) == package.bytes, SyncDigest.hex(data) == package.sha256 else {
            throw CentralCallError.refused(
                status: 200, code: "package_download_damaged", message: "package \(package.packageId) arrived damaged (size or SHA-256)",
                messageZh: "考务包 \(package.packageId) 下载后校验不符", items: [])
        }
        try data.write(to: file, options: .atomic)
    }

    /// The code (启封码) of a sealed paper that central has released to this venue, at or after the sitting's start.
    public struct ReleasedKey: Codable, Sendable, Equatable {
        public var packageId: String
        public var sittingId: String
        public var code: String
        public init(packageId: String, sittingId: String, code: String) {
            self.packageId = packageId
            self.sittingId = sittingId
            self.code = code
        }
    }

    /// The keys central has released for this venue's sealed papers (`GET /api/sync/keys`, same bearer token as the
    /// packages).
    public func releasedKeys(token: String) async throws -> [ReleasedKey] {
        let answer = try await call(.GET, "/api/sync/keys", token: token, limit: 1 << 20)
        guard let list = try? SyncBatch.decoder.decode([ReleasedKey].self, from: answer) else {
            throw CentralCallError.badAnswer(status: 200)
        }
        return list
    }

    /// Tells central the venue imported the package, or refused it (and why).
    public func reportPackage(_ packageID: String, imported: Bool, result: String, token: String) async throws {
        struct Result: Encodable {
            var imported: Bool
            var result: String
        }
        _ = try await call(
            .POST, "/api/sync/packages/\(packageID)/result", token: token, limit: 1 << 16,
            body: try JSONEncoder().encode(Result(imported: imported, result: result)))
    }

    func call(_ method: HTTPMethod, _ path: String, token: String, limit: Int, body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(300))
            answer = try await response.body.collect(upTo: limit)
        } catch {
            throw CentralCallError.unreachable(String(describing: error))
        }
        let data = Data(answer.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            if let refusal = try? SyncBatch.decoder.decode(SyncRefusal.self, from: data) {
                throw CentralCallError.refused(
                    status: Int(response.status.code), code: refusal.error.code, message: refusal.error.message,
                    messageZh: refusal.error.messageZh, items: refusal.namedItems)
            }
            throw CentralCallError.badAnswer(status: Int(response.status.code))
        }
        return data
    }

    /// True when central's health check answers 200 within a few seconds.
    public func isReachable() async -> Bool {
        var request = HTTPClientRequest(url: baseURL + "/healthz")
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: .seconds(5)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.status == .ok
    }

    /// Signs `body` and posts it; with `compress`, a body worth compressing travels gzip-compressed (the signature
    /// stays that of the plain body).
    func post<T: Decodable>(
        _ path: String, body: Data, purpose: SyncSignature.Purpose, compress: Bool = false, expecting: T.Type
    ) async throws -> T {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: SyncSignature.header, value: try SyncSignature.sign(body, purpose: purpose, key: key))
        if compress, let compressed = SyncCompression.compress(body) {
            request.headers.add(name: "Content-Encoding", value: SyncCompression.encoding)
            request.body = .bytes(ByteBuffer(bytes: compressed))
        } else {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            answer = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw CentralCallError.unreachable(String(describing: error))
        }
        let data = Data(answer.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            if let refusal = try? SyncBatch.decoder.decode(SyncRefusal.self, from: data) {
                throw CentralCallError.refused(
                    status: Int(response.status.code), code: refusal.error.code, message: refusal.error.message,
                    messageZh: refusal.error.messageZh, items: refusal.namedItems)
            }
            throw CentralCallError.badAnswer(status: Int(response.status.code))
        }
        guard let value = try? SyncBatch.decoder.decode(T.self, from: data) else {
            throw CentralCallError.badAnswer(status: Int(response.status.code))
        }
        return value
    }
}
