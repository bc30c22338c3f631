import CentralStore
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignInGuard
import SyncProtocol
import VenuePackage

/// What the central service needs to run.
public struct CentralConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "0.0.0.0", port: Int = 8090) {
        self.host = host
        self.port = port
    }
}

/// The central office's HTTP API. Every answer is JSON; an error is `{"error": {"code", "message", "messageZh"}}`,
/// the same shape as the venue's.
public enum CentralApp {
    /// Where the office pages live: `Public/` copied beside the executable by SwiftPM.
    public static var publicFolder: String {
        Bundle.module.resourceURL?.appendingPathComponent("Public").path ?? "Public"
    }

    public static func buildRouter(
        database: CentralDatabase, logger: Logger, uploads: UploadSettings = .files(), alerts: AlertSettings = AlertSettings(),
        issuer: IssuerSettings = .ephemeral(), signIn: LoginThrottle = LoginThrottle()
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: CentralErrorMiddleware())
        router.add(middleware: OfficePageMiddleware())
        router.add(middleware: FileMiddleware(publicFolder, searchForIndexHtml: true, logger: logger))
        OfficeAPI(database: database, policy: alerts.policy, throttle: signIn).register(on: router)
        OfficeAuthoring(database: database, issuer: issuer).register(on: router)
        let api = CentralAPI(database: database, logger: logger, issuer: issuer)
        router.get("healthz", use: api.health)
        router.post("api/enrolments", use: api.enrol)
        router.post("api/sync/batches", use: api.receiveBatch)
        router.post("api/sync/sessions", use: api.openUploadSession)
        router.get("api/sync/packages", use: api.pendingPackages)
        router.get("api/sync/packages/:packageId", use: api.packageFile)
        router.post("api/sync/packages/:packageId/result", use: api.packageResult)
        router.get("api/sync/keys", use: api.releasedKeys)
        CentralUploads(database: database, settings: uploads, logger: logger).register(on: router)
        return router
    }

    /// The HTTP application, with the completeness monitor as its service (when `alerts` is given).
    public static func buildApplication(
        database: CentralDatabase, configuration: CentralConfiguration, logger: Logger, uploads: UploadSettings = .files(),
        alerts: AlertSettings? = nil, issuer: IssuerSettings = .ephemeral(), onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(database: database, logger: logger, uploads: uploads, alerts: alerts ?? AlertSettings(), issuer: issuer),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kaodian-central"),
            services: alerts.map { [CompletenessMonitor(database: database, settings: $0, logger: logger)] } ?? [],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

struct CentralAPI: Sendable {
    let database: CentralDatabase
    let logger: Logger
    let issuer: IssuerSettings

    struct Health: ResponseEncodable {
        var status: String
    }

    /// 200 when the database answers, 503 when it does not.
    @Sendable func health(_ request: Request, context: BasicRequestContext) async throws -> Response {
        do {
            try await database.ping()
            return try Health(status: "ok").response(from: request, context: context)
        } catch {
            logger.error("healthz: the database does not answer: \(error)")
            return CentralErrorMiddleware<BasicRequestContext>.response(
                code: "database_unavailable", en: "The central database does not answer.", zh: "中心数据库无响应。",
                status: .serviceUnavailable)
        }
    }

    struct Enrolment: Decodable {
        var venueId: String
        var code: String
        /// Base64 of the venue's Ed25519 public key (32 bytes).
        var publicKey: String
    }

    struct Enrolled: ResponseEncodable {
        var venueId: String
        var name: String
        var enrolledAt: Date
        /// The key central signs venue packages with: the venue trusts it from now on.
        var issuer: IssuerPublicKey?
    }

    /// A venue registers its public key with its one-time enrolment code.
    @Sendable func enrol(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.decode(as: Enrolment.self, context: context)
        guard let key = Data(base64Encoded: body.publicKey) else { throw CentralError.badPublicKey }
        let venue = try await database.enrol(venueID: body.venueId, code: body.code, publicKey: key)
        var response = try Enrolled(
            venueId: venue.id, name: venue.name, enrolledAt: venue.enrolledAt ?? Date(), issuer: try? issuer.key.publicKey())
            .response(from: request, context: context)
        response.status = .created
        return response
    }
}

extension CentralAPI {
    /// The largest batch body central reads (5000 items of ordinary size fit well within it).
    static let maxBatchBody = 64 << 20

    /// A signed batch from a venue: 200 with the receipt, or the refusal (403 signature, 409 replay or conflict).
    @Sendable func receiveBatch(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let collected = Data(try await request.body.collect(upTo: Self.maxBatchBody).readableBytesView)
        // A venue sends large batches gzip-compressed; the signature is over the uncompressed body.
        let body: Data
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": body = collected
        case SyncCompression.encoding:
            do {
                body = try SyncCompression.decompress(collected, maxSize: Self.maxBatchBody)
            } catch SyncCompression.Failure.tooLarge {
                throw CentralError.batchInvalid(
                    en: "uncompressed, the body is larger than \(Self.maxBatchBody >> 20) MiB", zh: "解压后内容超过 \(Self.maxBatchBody >> 20) MiB")
            } catch {
                throw CentralError.batchInvalid(en: "the gzip body is damaged", zh: "gzip 压缩内容已损坏")
            }
        case let other?:
            throw CentralError.batchInvalid(
                en: "Content-Encoding \"\(other)\" is not taken: send gzip or plain", zh: "不支持的 Content-Encoding“\(other)”：请用 gzip 或不压缩")
        }
        let receipt = try await database.receive(body: body, signature: request.headers[HTTPField.Name(SyncSignature.header)!])
        return try json(receipt, request: request, context: context)
    }

    /// A signed request for an upload session: 201 with a bearer token for the video uploads.
    @Sendable func openUploadSession(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        let session = try await database.openUploadSession(
            body: Data(body.readableBytesView), signature: request.headers[HTTPField.Name(SyncSignature.header)!])
        var response = try json(session, request: request, context: context)
        response.status = .created
        return response
    }

    func venue(_ request: Request) async throws -> String {
        try await CentralUploads.sessionVenue(of: request, database: database)
    }

    /// The packages central has issued for the calling venue and it has not reported on.
    @Sendable func pendingPackages(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try json(try await database.packages(venueID: try await venue(request), pending: true), request: request, context: context)
    }

    /// The keys of sealed papers central has released for the calling venue (at their release time, or by hand).
    @Sendable func releasedKeys(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try json(try await database.releasedKeys(venueID: try await venue(request)), request: request, context: context)
    }

    @Sendable func packageFile(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let venueID = try await venue(request)
        let data = try await database.packageFile(venueID: venueID, packageID: try context.parameters.require("packageId"))
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .cacheControl: "no-store", HTTPField.Name("Kaodian-Package-SHA256")!: SyncDigest.hex(data)],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct PackageResult: Decodable {
        var imported: Bool
        var result: String
    }

    @Sendable func packageResult(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let venueID = try await venue(request)
        let body = try await request.decode(as: PackageResult.self, context: context)
        try await database.recordPackageResult(
            venueID: venueID, packageID: try context.parameters.require("packageId"), imported: body.imported, result: body.result)
        return Response(status: .noContent)
    }

    func json(_ value: some Encodable, request: Request, context: BasicRequestContext) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try SyncBatch.encoder.encode(value))))
    }
}

/// Turns errors into the JSON error body with a status that fits them.
struct CentralErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as CentralError {
            var conflicts: [String]?
            var unusable: [UnusableItem]?
            if case .itemConflict(let ids) = error { conflicts = ids }
            if case .itemsUnusable(let items) = error { unusable = items }
            var response = Self.response(
                code: error.code, en: error.messageEn, zh: error.messageZh, status: Self.status(error), conflicts: conflicts,
                unusable: unusable)
            if case .loginRateLimited(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch let error as OfficeError {
            return Self.response(
                code: error.code, en: error.message.en, zh: error.message.zh,
                status: error.kind == .notFound ? .notFound : error.kind == .conflict ? .conflict : .unprocessableContent,
                problems: error.problems)
        } catch let error as HTTPError {
            let detail = error.body ?? error.status.reasonPhrase
            return Self.response(code: "invalid_request", en: detail, zh: "请求无效：\(detail)", status: error.status)
        } catch is NIOTooManyBytesError {
            return Self.response(
                code: "body_too_large", en: "The request body is larger than this call takes.", zh: "请求内容超过该接口的上限。",
                status: .contentTooLarge)
        } catch is DecodingError {
            return Self.response(
                code: "invalid_request", en: "The request body is not the JSON this call takes.", zh: "请求内容不是该接口要求的 JSON。",
                status: .badRequest)
        } catch {
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return Self.response(code: "internal", en: "Internal error.", zh: "服务器内部错误。", status: .internalServerError)
        }
    }

    static func status(_ error: CentralError) -> HTTPResponse.Status {
        switch error {
        case .venueUnknown: .notFound
        case .enrolmentCodeWrong, .venueRevoked: .forbidden
        case .enrolmentUsed, .venueExists: .conflict
        case .enrolmentExpired: .gone
        case .badPublicKey, .badVenueID, .badDatabaseURL: .badRequest
        case .databaseUnavailable: .serviceUnavailable
        case .venueNotEnrolled, .signatureInvalid: .forbidden
        case .batchInvalid: .badRequest
        case .itemsUnusable: .unprocessableContent
        case .batchReplayed, .itemConflict: .conflict
        case .uploadSessionInvalid: .unauthorized
        case .uploadInvalid, .uploadChecksumUnsupported: .badRequest
        case .tusVersionUnsupported: .preconditionFailed
        case .uploadUnknown: .notFound
        case .uploadGone: .gone
        case .uploadIdConflict, .uploadSegmentUnknown, .uploadSegmentMismatch, .recordingAlreadyReceived, .uploadOffsetMismatch,
            .uploadFinished:
            .conflict
        case .uploadChecksumMismatch: .init(code: 460, reasonPhrase: "Checksum Mismatch")
        case .uploadTooLarge, .uploadChunkTooLarge: .contentTooLarge
        case .uploadContentType: .unsupportedMediaType
        case .uploadDigestMismatch: .unprocessableContent
        case .recordingStorageFailed: .internalServerError
        case .recordingStorageFull: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .badUsername: .badRequest
        case .loginFailed, .signInRequired: .unauthorized
        case .loginRateLimited: .tooManyRequests
        case .currentPasswordWrong: .forbidden
        case .passwordTooWeak: .unprocessableContent
        case .packageExists: .conflict
        case .packageUnknown: .notFound
        }
    }

    static func response(
        code: String, en: String, zh: String, status: HTTPResponse.Status, conflicts: [String]? = nil, unusable: [UnusableItem]? = nil,
        problems: [Message] = []
    ) -> Response {
        let data: Data
        if problems.isEmpty {
            let refusal = SyncRefusal(error: .init(code: code, message: en, messageZh: zh, conflicts: conflicts, unusable: unusable))
            data = (try? JSONEncoder().encode(refusal)) ?? Data()
        } else {
            let body = RefusalWithProblems(error: .init(code: code, message: en, messageZh: zh, problems: problems))
            data = (try? JSONEncoder().encode(body)) ?? Data()
        }
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An error body that lists every problem found (a form, a rule, a list checked whole).
struct RefusalWithProblems: Encodable {
    struct Failure: Encodable {
        var code: String
        var message: String
        var messageZh: String
        var problems: [Message]
    }
    var error: Failure
}
