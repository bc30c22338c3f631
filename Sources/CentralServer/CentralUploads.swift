import CentralStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SyncProtocol

/// Where central keeps the venues' video, the upload limits, and the clock the uploads go by (tests move it).
public struct UploadSettings: Sendable {
    public var storage: any RecordingStorage
    public var policy: UploadPolicy
    public var clock: @Sendable () -> Date

    public init(storage: any RecordingStorage, policy: UploadPolicy = UploadPolicy(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.policy = policy
        self.clock = clock
    }

    /// `central serve`'s default: the folder `central-storage` in the working directory.
    public static let defaultStorageFolder = "central-storage"

    public static func files(at folder: String = defaultStorageFolder, keepFreeBytes: Int64 = UploadPolicy().keepFreeBytes) -> UploadSettings {
        UploadSettings(storage: FileRecordingStorage(root: URL(fileURLWithPath: folder)), policy: UploadPolicy(keepFreeBytes: keepFreeBytes))
    }
}

/// The venues' resumable video uploads, tus 1.0.0 with the creation, checksum, termination and expiration
/// extensions, under `/api/uploads`:
///
/// - `OPTIONS /api/uploads` (or an upload's URL): what this server supports; no token needed.
/// - `POST /api/uploads`: creates the upload named by the venue's `uploadId` in `Upload-Metadata` (idempotent).
/// - `HEAD /api/uploads/{uploadId}`: the acknowledged offset.
/// - `PATCH /api/uploads/{uploadId}`: one chunk at the acknowledged offset, acknowledged once fsynced.
/// - `DELETE /api/uploads/{uploadId}`: ends an unfinished upload; a finished one is refused (`upload_finished`).
///
/// Every request but OPTIONS needs `Tus-Resumable: 1.0.0` (else 412) and `Authorization: Bearer <upload session
/// token>` (else 401). POST, PATCH and DELETE are routes; HEAD and OPTIONS, which tus allows on any of these URLs,
/// are answered by `TusMiddleware`, which also adds the tus headers to every answer under `/api/uploads`.
struct CentralUploads: Sendable {
    let database: CentralDatabase
    let settings: UploadSettings
    let logger: Logger

    init(database: CentralDatabase, settings: UploadSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    func register(on router: Router<BasicRequestContext>) {
        router.add(middleware: TusMiddleware(uploads: self))
        router.post("api/uploads", use: create)
        router.patch("api/uploads/:uploadId", use: patch)
        router.delete("api/uploads/:uploadId", use: terminate)
    }

    enum Field {
        static let resumable = HTTPField.Name(TusProtocol.Header.resumable)!
        static let version = HTTPField.Name(TusProtocol.Header.version)!
        static let extensions = HTTPField.Name(TusProtocol.Header.extensions)!
        static let maxSize = HTTPField.Name(TusProtocol.Header.maxSize)!
        static let checksumAlgorithm = HTTPField.Name(TusProtocol.Header.checksumAlgorithm)!
        static let offset = HTTPField.Name(TusProtocol.Header.offset)!
        static let length = HTTPField.Name(TusProtocol.Header.length)!
        static let metadata = HTTPField.Name(TusProtocol.Header.metadata)!
        static let checksum = HTTPField.Name(TusProtocol.Header.checksum)!
        static let expires = HTTPField.Name(TusProtocol.Header.expires)!
        static let deferLength = HTTPField.Name("Upload-Defer-Length")!
    }

    /// The venue whose upload session token the request carries.
    func venue(of request: Request) async throws -> String {
        try await Self.sessionVenue(of: request, database: database, now: settings.clock())
    }

    /// The venue of the upload session token in `Authorization: Bearer …` (uploads and the package channel).
    static func sessionVenue(of request: Request, database: CentralDatabase, now: Date = Date()) async throws -> String {
        guard let value = request.headers[.authorization], value.count > 7, value.prefix(7).lowercased() == "bearer " else {
            throw CentralError.uploadSessionInvalid
        }
        let token = value.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 256 else { throw CentralError.uploadSessionInvalid }
        return try await database.venueForUploadToken(token, now: now)
    }

    static func number(_ request: Request, _ field: HTTPField.Name, required name: String) throws -> Int64 {
        guard let text = request.headers[field] else {
            throw CentralError.uploadInvalid(en: "the \(name) header is missing", zh: "缺少 \(name) 头")
        }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int64(text) else {
            throw CentralError.uploadInvalid(en: "\(name) must be a whole number from 0", zh: "\(name) 须为不小于 0 的整数")
        }
        return value
    }

    /// The headers every answer about an upload carries: where it stands and, while open, when it expires.
    static func state(_ upload: RecordingUpload, into headers: inout HTTPFields) {
        headers[Field.offset] = String(upload.offset)
        if upload.state == .open { headers[Field.expires] = TusProtocol.httpDate(upload.expiresAt) }
        headers[.cacheControl] = "no-store"
    }

    /// POST /api/uploads: 201 with `Location` and the offset (0 for a new upload, the current one for a repeat).
    @Sendable func create(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let venue = try await venue(of: request)
        if request.headers[Field.deferLength] != nil {
            throw CentralError.uploadInvalid(
                en: "Upload-Defer-Length is not supported: give Upload-Length", zh: "不支持 Upload-Defer-Length：请给出 Upload-Length")
        }
        let length = try Self.number(request, Field.length, required: "Upload-Length")
        guard let header = request.headers[Field.metadata] else {
            throw CentralError.uploadInvalid(
                en: "Upload-Metadata is missing (uploadId, cameraId, session, sequence, sha256)",
                zh: "缺少 Upload-Metadata（uploadId、cameraId、session、sequence、sha256）")
        }
        let metadata: UploadMetadata
        switch UploadMetadata.parse(header) {
        case .success(let parsed): metadata = parsed
        case .failure(let error):
            throw CentralError.uploadInvalid(en: "Upload-Metadata: \(error.reason)", zh: "Upload-Metadata 有误：\(error.reason)")
        }
        if let size = request.headers[.contentLength].flatMap(Int.init), size > 0 {
            throw CentralError.uploadInvalid(
                en: "creating an upload takes no body (send the data with PATCH)", zh: "创建上传不带内容（数据请用 PATCH 发送）")
        }
        let upload = try await database.createUpload(
            venueID: venue, metadata: metadata, length: length, storage: settings.storage, policy: settings.policy,
            now: settings.clock())
        var headers: HTTPFields = [.location: "\(TusProtocol.uploadsPath)/\(upload.uploadId)"]
        Self.state(upload, into: &headers)
        return Response(status: .created, headers: headers)
    }

    /// HEAD /api/uploads/{uploadId}: 200 with the offset and the length; no body, never cached.
    func head(uploadID: String, request: Request) async throws -> Response {
        let venue = try await venue(of: request)
        let upload = try await database.upload(venueID: venue, uploadID: uploadID, storage: settings.storage, now: settings.clock())
        var headers: HTTPFields = [Field.length: String(upload.length)]
        headers[Field.metadata] = UploadMetadata(uploadId: upload.uploadId, segment: upload.segment, sha256: upload.sha256).header
        Self.state(upload, into: &headers)
        return Response(status: .ok, headers: headers)
    }

    /// PATCH /api/uploads/{uploadId}: 204 with the new offset once the chunk is on disk.
    @Sendable func patch(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let venue = try await venue(of: request)
        let uploadID = context.parameters.get("uploadId") ?? ""
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == TusProtocol.chunkContentType else { throw CentralError.uploadContentType }
        let offset = try Self.number(request, Field.offset, required: "Upload-Offset")
        var checksum: UploadChecksum?
        if let header = request.headers[Field.checksum] {
            switch UploadChecksum.parse(header) {
            case .success(let parsed): checksum = parsed
            case .failure(.unsupported(let name)): throw CentralError.uploadChecksumUnsupported(name)
            case .failure(.malformed):
                throw CentralError.uploadInvalid(
                    en: "Upload-Checksum must be \"<algorithm> <base64 digest>\"", zh: "Upload-Checksum 须为“算法 base64摘要”")
            }
        }
        let max = settings.policy.maxChunkBytes
        if let size = request.headers[.contentLength].flatMap(Int.init), size > max { throw CentralError.uploadChunkTooLarge(max) }
        let chunk: ByteBuffer
        do {
            chunk = try await request.body.collect(upTo: max)
        } catch is NIOTooManyBytesError {
            throw CentralError.uploadChunkTooLarge(max)
        }
        let upload = try await database.appendChunk(
            venueID: venue, uploadID: uploadID, offset: offset, chunk: chunk, checksum: checksum, storage: settings.storage,
            policy: settings.policy, now: settings.clock())
        var headers = HTTPFields()
        Self.state(upload, into: &headers)
        return Response(status: .noContent, headers: headers)
    }

    /// DELETE /api/uploads/{uploadId}: 204 once an unfinished upload is ended and its data removed.
    @Sendable func terminate(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let venue = try await venue(of: request)
        try await database.terminateUpload(
            venueID: venue, uploadID: context.parameters.get("uploadId") ?? "", storage: settings.storage, now: settings.clock())
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    /// OPTIONS: what this server supports.
    func options() -> Response {
        var headers = HTTPFields()
        headers[Field.resumable] = TusProtocol.version
        headers[Field.version] = TusProtocol.version
        headers[Field.extensions] = TusProtocol.extensions
        headers[Field.checksumAlgorithm] = TusProtocol.checksumAlgorithms.joined(separator: ",")
        headers[Field.maxSize] = String(settings.policy.maxLength)
        return Response(status: .noContent, headers: headers)
    }
}

/// The tus protocol layer for everything under `/api/uploads`: answers OPTIONS and HEAD, refuses a request without
/// `Tus-Resumable: 1.0.0` (412 with `Tus-Version`), turns upload errors into their JSON answers here so that they
/// too carry `Tus-Resumable` (and, for HEAD, no body), and lets every other path through untouched.
struct TusMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let uploads: CentralUploads

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let base = TusProtocol.uploadsPath
        guard path == base || path.hasPrefix(base + "/") else { return try await next(request, context) }
        if request.method == .options { return uploads.options() }
        var response: Response
        do {
            let version = request.headers[CentralUploads.Field.resumable]
            guard version == TusProtocol.version else { throw CentralError.tusVersionUnsupported(version ?? "none") }
            let rest = path.dropFirst(base.count + 1)
            if request.method == .head, path != base, !rest.isEmpty, !rest.contains("/") {
                response = try await uploads.head(uploadID: String(rest), request: request)
            } else {
                response = try await next(request, context)
            }
        } catch let error as CentralError {
            let status = CentralErrorMiddleware<Context>.status(error)
            if request.method == .head {
                response = Response(status: status, headers: [.cacheControl: "no-store"])
            } else {
                response = CentralErrorMiddleware<Context>.response(code: error.code, en: error.messageEn, zh: error.messageZh, status: status)
            }
            switch error {
            case .tusVersionUnsupported: response.headers[CentralUploads.Field.version] = TusProtocol.version
            case .uploadSessionInvalid: response.headers[.wwwAuthenticate] = "Bearer"
            default: break
            }
        }
        response.headers[CentralUploads.Field.resumable] = TusProtocol.version
        return response
    }
}
