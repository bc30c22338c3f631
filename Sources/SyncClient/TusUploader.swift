import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SyncProtocol

/// Uploads one recording segment to the central office with tus 1.0.0 (`/api/uploads`), resumably: it asks
/// central for the acknowledged offset (HEAD, or a create, which is safe to repeat because the venue chooses the
/// upload id), then sends the rest in chunks, each with `Upload-Checksum: sha256 …`. A chunk central refuses with
/// 460 (it arrived damaged) is sent again; after a cut, a refusal of the offset or a restart of the venue, the
/// upload continues from the offset central acknowledged, so at most one chunk is sent twice.
public struct TusUploader: Sendable {
    public let baseURL: String
    /// The upload session's bearer token (`CentralClient.openUploadSession`).
    public var token: String
    let http: HTTPClient
    /// Bytes per PATCH.
    public var chunkSize: Int
    /// The most time one request may take.
    public var timeout: TimeAmount
    /// How many failures in a row (no answer, or an answer that moves nothing) are retried before giving up.
    public var retries: Int
    /// The pause after the n-th failure in a row is n times this.
    public var retryDelay: Duration
    /// Limits the upload rate (bytes per second) when set; shared by every upload made with this value.
    let bucket: TokenBucket?
    /// For fault tests: returns true for chunks to damage in transit (after their checksum was computed).
    var damage: (@Sendable (_ offset: Int64, _ attempt: Int) -> Bool)?

    public init(
        baseURL: String, token: String, http: HTTPClient = .shared, chunkSize: Int = 4 << 20, bytesPerSecond: Int? = nil,
        timeout: TimeAmount = .seconds(60), retries: Int = 5, retryDelay: Duration = .seconds(1)
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.http = http
        self.chunkSize = max(1, chunkSize)
        self.timeout = timeout
        self.retries = retries
        self.retryDelay = retryDelay
        self.bucket = bytesPerSecond.map { TokenBucket(bytesPerSecond: max(1, $0)) }
    }

    /// How an upload is going, for the sync page.
    public struct Progress: Sendable, Equatable {
        /// Bytes central has acknowledged.
        public var offset: Int64
        public var length: Int64
        /// Bytes sent in this run, chunks sent again included.
        public var bytesSent: Int64
        /// This run's average sending rate.
        public var bytesPerSecond: Double
    }

    /// What one run did.
    public struct Outcome: Sendable, Equatable {
        public var length: Int64
        /// Central's acknowledged offset when this run began (what an earlier run had sent).
        public var resumedFrom: Int64
        public var bytesSent: Int64
        /// Chunks central refused as damaged (460) and that were sent again.
        public var chunksResent: Int
        /// Central already held this segment's video under another upload id; nothing was sent.
        public var alreadyReceived: Bool
    }

    /// How many times one chunk is sent again after central found it damaged.
    static let checksumRetries = 3

    public func uploadURL(_ uploadId: String) -> String { baseURL + TusProtocol.uploadsPath + "/" + uploadId }

    /// Uploads `file` (the segment whose record central already has, with this SHA-256) as `uploadId`.
    /// Throws `CentralCallError`: `.unreachable` once the retries are spent (call again later: it resumes),
    /// `.refused` for what retrying cannot fix (an expired session — 401 —, a conflicting id, a file that does not
    /// match the segment's record).
    public func upload(
        file: URL, uploadId: String, segment: RecordingSegmentKey, sha256: String,
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Outcome {
        let metadata = UploadMetadata(uploadId: uploadId, segment: segment, sha256: sha256.lowercased())
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let length = Int64(try handle.seekToEnd())
        let started = ContinuousClock.now
        var sent: Int64 = 0
        var resent = 0
        var failures = 0

        func report(_ offset: Int64) {
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            progress(Progress(offset: offset, length: length, bytesSent: sent, bytesPerSecond: seconds > 0 ? Double(sent) / seconds : 0))
        }
        /// Counts a failure that moved nothing; waits before the next try, or gives up.
        func failed(_ error: CentralCallError) async throws {
            failures += 1
            guard failures <= retries else { throw error }
            try await Task.sleep(for: retryDelay * failures)
        }

        var offset: Int64
        while true {
            do {
                guard let found = try await establish(metadata, length: length) else {
                    return Outcome(length: length, resumedFrom: 0, bytesSent: 0, chunksResent: 0, alreadyReceived: true)
                }
                offset = found
                break
            } catch let error as CentralCallError {
                guard case .unreachable = error else { throw error }
                try await failed(error)
            }
        }
        let resumedFrom = offset
        report(offset)
        var attempt = 0
        while offset < length {
            try Task.checkCancellation()
            let size = Int(min(Int64(chunkSize), length - offset))
            try handle.seek(toOffset: UInt64(offset))
            guard let data = try handle.read(upToCount: size), data.count == size else {
                throw CentralCallError.unreachable("the file \(file.path) is shorter than when the upload began")
            }
            let checksum = UploadChecksum(of: data, algorithm: .sha256)
            var bytes = ByteBuffer(bytes: data)
            if let damage, damage(offset, attempt) { bytes.setInteger(bytes.getInteger(at: 0, as: UInt8.self)! ^ 0xFF, at: 0) }
            let counter = ByteCounter()
            let answer: Answer
            do {
                answer = try await patch(uploadId, offset: offset, bytes: bytes, checksum: checksum, counter: counter)
            } catch let error as CentralCallError {
                sent += counter.value
                try await failed(error)
                if let current = try? await establish(metadata, length: length) { offset = current }
                attempt = 0
                continue
            }
            sent += counter.value
            switch answer.status {
            case 204:
                guard let next = answer.offset, next > offset, next <= length else { throw CentralCallError.badAnswer(status: 204) }
                offset = next
                failures = 0
                attempt = 0
                report(offset)
            case TusProtocol.checksumMismatchStatus:
                // Damaged on the way: central kept nothing of it. Send the same chunk again (a few times at most:
                // a chunk damaged every time points at something a retry cannot mend).
                resent += 1
                attempt += 1
                if attempt > Self.checksumRetries { throw answer.refusal }
            case 404, 409, 410:
                // Central's offset differs (an earlier answer was lost), or the upload expired: ask again.
                try await failed(answer.refusal)
                guard let current = try await establish(metadata, length: length) else {
                    return Outcome(length: length, resumedFrom: resumedFrom, bytesSent: sent, chunksResent: resent, alreadyReceived: true)
                }
                offset = current
                attempt = 0
            case 500..<600:
                try await failed(answer.refusal)
                if let current = try? await establish(metadata, length: length) { offset = current }
            default:
                throw answer.refusal
            }
        }
        return Outcome(length: length, resumedFrom: resumedFrom, bytesSent: sent, chunksResent: resent, alreadyReceived: false)
    }

    /// Central's acknowledged offset for the upload, creating it if central has none (or only an expired one);
    /// nil when central already holds the segment's video under another id.
    func establish(_ metadata: UploadMetadata, length: Int64) async throws -> Int64? {
        let head = try await send(.HEAD, uploadURL(metadata.uploadId))
        if head.status == 200 {
            guard let offset = head.offset, head.length == length else {
                throw CentralCallError.refused(
                    status: 409, code: "upload_length_differs",
                    message: "central holds upload \(metadata.uploadId) with length \(head.length.map(String.init) ?? "?"), "
                        + "the file has \(length) bytes",
                    messageZh: "中心的上传 \(metadata.uploadId) 长度与文件不同", items: [])
            }
            return offset
        }
        guard head.status == 404 || head.status == 410 else { throw head.refusal }
        var headers = HTTPHeaders()
        headers.add(name: TusProtocol.Header.length, value: String(length))
        headers.add(name: TusProtocol.Header.metadata, value: metadata.header)
        let created = try await send(.POST, baseURL + TusProtocol.uploadsPath, headers: headers)
        if created.status == 409, created.code == "recording_already_received" { return nil }
        guard created.status == 201, let offset = created.offset else { throw created.refusal }
        return offset
    }

    func patch(_ uploadId: String, offset: Int64, bytes: ByteBuffer, checksum: UploadChecksum, counter: ByteCounter) async throws -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: TusProtocol.chunkContentType)
        headers.add(name: TusProtocol.Header.offset, value: String(offset))
        headers.add(name: TusProtocol.Header.checksum, value: checksum.header)
        let body = PacedBytes(bytes: bytes, piece: 64 << 10, bucket: bucket, counter: counter)
        return try await send(.PATCH, uploadURL(uploadId), headers: headers, body: .stream(body, length: .known(Int64(bytes.readableBytes))))
    }

    /// What central answered, with the tus headers and, for a refusal, its error body.
    struct Answer: Sendable {
        var status: Int
        var offset: Int64?
        var length: Int64?
        var code: String?
        var refusal: CentralCallError
    }

    func send(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], body: HTTPClientRequest.Body? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        request.headers.add(name: TusProtocol.Header.resumable, value: TusProtocol.version)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body { request.body = body }
        let response: HTTPClientResponse
        let data: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            data = try await response.body.collect(upTo: 1 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw CentralCallError.unreachable(String(describing: error))
        }
        let status = Int(response.status.code)
        let number = { (name: String) in response.headers.first(name: name).flatMap { Int64($0) } }
        var refusal = CentralCallError.badAnswer(status: status)
        var code: String?
        if let body = try? SyncBatch.decoder.decode(SyncRefusal.self, from: Data(data.readableBytesView)) {
            code = body.error.code
            refusal = .refused(
                status: status, code: body.error.code, message: body.error.message, messageZh: body.error.messageZh,
                items: body.namedItems)
        } else if method == .HEAD, status >= 400 {
            // A HEAD answer has no body: name the usual refusals by their status.
            code = [401: "upload_session_invalid", 412: "tus_version_unsupported", 404: "upload_unknown", 410: "upload_gone"][status]
                ?? "http_\(status)"
            refusal = .refused(
                status: status, code: code!, message: "central answered HEAD with \(status)", messageZh: "中心对 HEAD 的回答为 \(status)",
                items: [])
        }
        return Answer(
            status: status, offset: number(TusProtocol.Header.offset), length: number(TusProtocol.Header.length), code: code,
            refusal: refusal)
    }
}

/// A token bucket: takes bytes at `bytesPerSecond` on average, with bursts up to a quarter of a second's worth.
actor TokenBucket {
    let rate: Double
    let capacity: Double
    var tokens: Double
    var last = ContinuousClock.now

    init(bytesPerSecond: Int) {
        rate = Double(bytesPerSecond)
        capacity = max(Double(64 << 10), rate / 4)
        tokens = capacity
    }

    /// Waits until `count` bytes may go.
    func take(_ count: Int) async throws {
        let now = ContinuousClock.now
        tokens = min(capacity, tokens + rate * ((now - last) / .seconds(1)))
        last = now
        tokens -= Double(count)
        if tokens < 0 { try await Task.sleep(for: .seconds(-tokens / rate)) }
    }
}

/// Counts the bytes handed to the connection (to report what was sent, even for a chunk cut off halfway).
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int64 = 0

    func add(_ bytes: Int) { lock.withLock { count += Int64(bytes) } }
    var value: Int64 { lock.withLock { count } }
}

/// A chunk handed to the connection in pieces, each after the token bucket lets it go.
struct PacedBytes: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: ByteBuffer
    let piece: Int
    let bucket: TokenBucket?
    let counter: ByteCounter

    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ByteBuffer
        let piece: Int
        let bucket: TokenBucket?
        let counter: ByteCounter

        mutating func next() async throws -> ByteBuffer? {
            guard rest.readableBytes > 0, let slice = rest.readSlice(length: Swift.min(piece, rest.readableBytes)) else { return nil }
            if let bucket { try await bucket.take(slice.readableBytes) }
            counter.add(slice.readableBytes)
            return slice
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: bytes, piece: piece, bucket: bucket, counter: counter) }
}
