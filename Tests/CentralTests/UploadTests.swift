import CentralServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SyncProtocol
import TestSupport
import Testing

@testable import CentralStore
@testable import SyncClient

/// A clock the tests can move forward (expiry, session tokens).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var shift: TimeInterval = 0

    func now() -> Date { lock.withLock { Date().addingTimeInterval(shift) } }
    func advance(_ seconds: TimeInterval) { lock.withLock { shift += seconds } }
}

/// One enrolled venue and a live central server on 127.0.0.1 with its recordings in a temporary folder.
struct UploadBench: Sendable {
    static let venueID = "KD-UP-01"
    let database: CentralDatabase
    let storage: FileRecordingStorage
    let clock: TestClock
    let client: any TestClientProtocol
    let base: String
    let venue: CentralClient
    let folder: URL

    /// A segment whose record central has received in a signed batch, and its file on the venue's disk.
    struct Segment {
        var key: RecordingSegmentKey
        var file: URL
        var data: Data
        var sha256: String
    }

    /// Writes `bytes` random bytes as a segment file and reports its record to central through `CentralClient.send`.
    func segment(_ sequence: Int, bytes: Int, recordedSHA256: String? = nil) async throws -> Segment {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let key = RecordingSegmentKey(cameraId: "cam-101", session: "5f0c6c1e-2b7a-4c1e-9d3a-1f2e3d4c5b6a", sequence: sequence)
        let file = folder.appendingPathComponent("venue-\(sequence).mp4")
        try data.write(to: file)
        let sha = SyncDigest.hex(data)
        let payload: [String: Any] = [
            "cameraId": key.cameraId, "roomId": "R101", "session": key.session, "sequence": sequence,
            "fileName": "\(key.session)-\(String(format: "%06d", sequence)).mp4", "startedAt": 1_767_225_600_000 + sequence * 60_000,
            "endedAt": 1_767_225_660_000 + sequence * 60_000, "duration": 60.0, "bytes": bytes, "sha256": recordedSHA256 ?? sha,
            "codec": "h264", "width": 1920, "height": 1080, "recovered": 0,
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
        let item = SyncItem(
            id: "segment-\(key.session)-\(sequence)", seq: Int64(sequence + 1), kind: "segment", sittingId: nil, createdAt: 1_767_225_660_000,
            payload: text)
        let receipt = try await venue.send([item])
        #expect(receipt.stored == [item.id])
        return Segment(key: key, file: file, data: data, sha256: sha)
    }

    func uploader(token: String, chunk: Int = 1 << 20, bytesPerSecond: Int? = nil) -> TusUploader {
        TusUploader(baseURL: base, token: token, chunkSize: chunk, bytesPerSecond: bytesPerSecond, retries: 3, retryDelay: .milliseconds(50))
    }

    func stored(_ segment: Segment) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: storage.recordingPath(RecordingRef(venueId: Self.venueID, segment: segment.key))))
    }

    func partialLength(_ uploadId: String) async throws -> Int64? {
        try await storage.partialLength(PartialUploadRef(venueId: Self.venueID, uploadId: uploadId))
    }

    func videoReceivedAt(_ segment: Segment) async throws -> Date? {
        let rows = try await database.client.query(
            """
            SELECT video_received_at FROM recording_segment WHERE venue_id = \(Self.venueID) AND camera_id = \(segment.key.cameraId)
                AND session = \(segment.key.session) AND sequence = \(segment.key.sequence)
            """, logger: Logger(label: "test"))
        var found: Date?
        for try await value in rows.decode(Date?.self) { found = value }
        return found
    }

    // Raw tus requests, for what the uploader never sends.
    static let tus: HTTPFields = [HTTPField.Name("Tus-Resumable")!: "1.0.0"]

    func headers(_ token: String?, _ more: [String: String] = [:], tus: Bool = true) -> HTTPFields {
        var fields = tus ? Self.tus : HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in more { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    func create(_ token: String?, _ metadata: UploadMetadata, length: Int, tus: Bool = true) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/uploads", method: .post,
            headers: headers(token, ["Upload-Length": String(length), "Upload-Metadata": metadata.header], tus: tus))
    }

    func patch(_ token: String, _ id: String, offset: Int, _ bytes: Data, checksum: UploadChecksum?, type: String = TusProtocol.chunkContentType)
        async throws -> TestResponse
    {
        var more = ["Upload-Offset": String(offset), "Content-Type": type]
        if let checksum { more["Upload-Checksum"] = checksum.header }
        return try await client.execute(uri: "/api/uploads/\(id)", method: .patch, headers: headers(token, more), body: ByteBuffer(bytes: bytes))
    }

    func head(_ token: String?, _ id: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/uploads/\(id)", method: .head, headers: headers(token))
    }
}

func errorCode(_ response: TestResponse) -> String? {
    try? JSONDecoder().decode(ErrorReply.self, from: Data(response.body.readableBytesView)).error.code
}

extension TestResponse {
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// Runs `body` with a live central server (its own PostgreSQL) and an enrolled venue.
func withUploadBench(
    policy: UploadPolicy = UploadPolicy(maxChunkBytes: 2 << 20), _ body: @Sendable (UploadBench) async throws -> Void
) async throws {
    try await withCentralDatabase { database, _ in
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kaodian-uploads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let storage = FileRecordingStorage(root: folder.appendingPathComponent("central"))
        let clock = TestClock()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let router = CentralApp.buildRouter(
            database: database, logger: logger, uploads: UploadSettings(storage: storage, policy: policy, clock: { clock.now() }))
        let (_, code) = try await database.addVenue(id: UploadBench.venueID, name: "上传考点")
        let key = Curve25519.Signing.PrivateKey()
        _ = try await database.enrol(venueID: UploadBench.venueID, code: code, publicKey: key.publicKey.rawRepresentation)
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
            .test(.live) { client in
                let base = "http://127.0.0.1:\(client.port!)"
                let bench = UploadBench(
                    database: database, storage: storage, clock: clock, client: client, base: base,
                    venue: CentralClient(baseURL: base, venueID: UploadBench.venueID, key: key), folder: folder)
                try await body(bench)
            }
    }
}

@Suite("Central: venues upload recordings with tus, resumably and verified", .serialized, .timeLimit(.minutes(3)))
struct UploadTests {
    @Test func aSegmentUploadsInChunksAndCentralKeepsItByteForByte() async throws {
        try await withUploadBench { bench in
            // Given a 5.5 MiB segment whose record central has received in a batch, and an upload session,
            let segment = try await bench.segment(0, bytes: 5 << 20 + 512 << 10)
            let session = try await bench.venue.openUploadSession()
            let uploads = ProgressLog()
            // when the venue uploads it in 1 MiB chunks,
            let outcome = try await bench.uploader(token: session.token).upload(
                file: segment.file, uploadId: "up-0", segment: segment.key, sha256: segment.sha256, progress: { uploads.add($0) })
            // then every byte went once, central keeps the file byte for byte where the segment's key says, marks the
            // segment's video received, and the partial upload is gone.
            #expect(outcome == .init(length: Int64(segment.data.count), resumedFrom: 0, bytesSent: Int64(segment.data.count), chunksResent: 0, alreadyReceived: false))
            #expect(try bench.stored(segment) == segment.data)
            #expect(try bench.storage.recordingPath(RecordingRef(venueId: UploadBench.venueID, segment: segment.key)).hasSuffix(
                "recordings/KD-UP-01/cam-101/\(segment.key.session)/000000.mp4"))
            #expect(try await bench.videoReceivedAt(segment) != nil)
            #expect(try await bench.partialLength("up-0") == nil)
            let upload = try #require(try await bench.database.uploads(venueID: UploadBench.venueID, segment: segment.key).first)
            #expect(upload.state == .complete && upload.offset == upload.length && upload.completedAt != nil)
            // The progress callback saw every chunk acknowledged, up to the whole file.
            let offsets = uploads.entries.map(\.offset)
            #expect(offsets.first == 0 && offsets.last == Int64(segment.data.count) && offsets.count == 7)
            #expect(uploads.entries.last!.bytesPerSecond > 0)

            // Uploading it again sends nothing: central says the offset is the length.
            let again = try await bench.uploader(token: session.token).upload(
                file: segment.file, uploadId: "up-0", segment: segment.key, sha256: segment.sha256)
            #expect(again.bytesSent == 0 && again.resumedFrom == Int64(segment.data.count))
            // Another id for a segment central already holds: nothing is sent, the venue learns it is there.
            let other = try await bench.uploader(token: session.token).upload(
                file: segment.file, uploadId: "up-0-again", segment: segment.key, sha256: segment.sha256)
            #expect(other.alreadyReceived && other.bytesSent == 0)
            // A finished upload cannot be removed by the venue.
            let delete = try await bench.client.execute(uri: "/api/uploads/up-0", method: .delete, headers: bench.headers(session.token))
            #expect(delete.status == .conflict && errorCode(delete) == "upload_finished")
            #expect(try bench.stored(segment) == segment.data)
        }
    }

    @Test func anInterruptedUploadResumesFromTheAcknowledgedOffsetSendingAtMostOneChunkTwice() async throws {
        try await withUploadBench { bench in
            let segment = try await bench.segment(1, bytes: 8 << 20)
            let session = try await bench.venue.openUploadSession()
            // Given an upload at 4 MiB/s (1 MiB chunks) that is stopped once central has acknowledged 3 MiB,
            let (acknowledged, signal) = AsyncStream.makeStream(of: Int64.self)
            let first = Task {
                try await bench.uploader(token: session.token, bytesPerSecond: 4 << 20).upload(
                    file: segment.file, uploadId: "up-1", segment: segment.key, sha256: segment.sha256,
                    progress: { signal.yield($0.offset) })
            }
            var reports = acknowledged.makeAsyncIterator()
            var seen: Int64 = 0
            while let offset = await reports.next() {
                if offset >= 3 << 20 {
                    seen = offset
                    first.cancel()
                    break
                }
            }
            _ = await first.result
            signal.finish()
            var lastSeen = seen
            while let offset = await reports.next() { lastSeen = max(lastSeen, offset) }
            #expect(seen >= 3 << 20 && seen < 8 << 20)
            // (central holds what it acknowledged, and nothing is published yet)
            #expect(try await bench.videoReceivedAt(segment) == nil)

            // when a new uploader (as after a restart of the venue) takes it up,
            let outcome = try await bench.uploader(token: session.token).upload(
                file: segment.file, uploadId: "up-1", segment: segment.key, sha256: segment.sha256)
            // then it starts from central's acknowledged offset — at least what the first one saw acknowledged,
            // at most one chunk (the one cut off) beyond it — and sends only the rest.
            #expect(outcome.resumedFrom >= lastSeen && outcome.resumedFrom <= lastSeen + (1 << 20))
            #expect(outcome.bytesSent == Int64(segment.data.count) - outcome.resumedFrom)
            #expect(try bench.stored(segment) == segment.data)
            #expect(try await bench.videoReceivedAt(segment) != nil)
        }
    }

    @Test func aDamagedChunkIsRefusedWith460KeepsNothingAndIsAcceptedWhenSentAgain() async throws {
        try await withUploadBench { bench in
            let segment = try await bench.segment(2, bytes: 3 << 20)
            let token = try await bench.venue.openUploadSession().token
            let metadata = UploadMetadata(uploadId: "up-2", segment: segment.key, sha256: segment.sha256)
            let created = try await bench.create(token, metadata, length: segment.data.count)
            #expect(created.status == .created && created.header("Location") == "/api/uploads/up-2")
            #expect(created.header("Upload-Offset") == "0" && created.header("Tus-Resumable") == "1.0.0")
            #expect(created.header("Upload-Expires").flatMap(TusProtocol.parseHTTPDate) != nil)

            // A chunk whose bytes do not match its checksum: 460, and central keeps nothing of it.
            let chunk = segment.data.prefix(1 << 20)
            var damaged = Data(chunk)
            damaged[100] ^= 0x01
            let refused = try await bench.patch(token, "up-2", offset: 0, damaged, checksum: UploadChecksum(of: chunk))
            #expect(refused.status.code == 460 && errorCode(refused) == "upload_checksum_mismatch")
            #expect(try await bench.head(token, "up-2").header("Upload-Offset") == "0")
            #expect(try await bench.partialLength("up-2") == 0)
            // The same chunk sent again intact is acknowledged (sha1, as tuspy sends it, works too).
            let accepted = try await bench.patch(token, "up-2", offset: 0, Data(chunk), checksum: UploadChecksum(of: chunk, algorithm: .sha1))
            #expect(accepted.status == .noContent && accepted.header("Upload-Offset") == String(1 << 20))
            #expect(accepted.header("Upload-Expires") != nil)
            let head = try await bench.head(token, "up-2")
            #expect(head.status == .ok && head.header("Upload-Offset") == String(1 << 20))
            #expect(head.header("Upload-Length") == String(segment.data.count) && head.header("Cache-Control") == "no-store")
            // An unknown checksum algorithm and a malformed one are refused, and change nothing.
            let md5 = try await bench.client.execute(
                uri: "/api/uploads/up-2", method: .patch,
                headers: bench.headers(token, ["Upload-Offset": String(1 << 20), "Content-Type": TusProtocol.chunkContentType, "Upload-Checksum": "md5 AAAA"]),
                body: ByteBuffer(bytes: segment.data[(1 << 20)..<(2 << 20)]))
            #expect(md5.status == .badRequest && errorCode(md5) == "upload_checksum_unsupported")

            // The uploader, when a chunk is damaged on the way, sends it again and finishes.
            var uploader = bench.uploader(token: token)
            uploader.damage = { offset, attempt in offset == 2 << 20 && attempt == 0 }
            let outcome = try await uploader.upload(file: segment.file, uploadId: "up-2", segment: segment.key, sha256: segment.sha256)
            #expect(outcome.resumedFrom == 1 << 20 && outcome.chunksResent == 1)
            #expect(outcome.bytesSent == Int64(segment.data.count) - (1 << 20) + (1 << 20))
            #expect(try bench.stored(segment) == segment.data)
        }
    }

    @Test func creationIsSafeToRepeatAndEveryBadRequestIsRefusedWithItsReason() async throws {
        try await withUploadBench { bench in
            let segment = try await bench.segment(3, bytes: 1 << 20)
            let token = try await bench.venue.openUploadSession().token
            let metadata = UploadMetadata(uploadId: "up-3", segment: segment.key, sha256: segment.sha256)

            // Discovery: OPTIONS needs no token and says what central supports.
            let options = try await bench.client.execute(uri: "/api/uploads", method: .options)
            #expect(options.status == .noContent && options.header("Tus-Version") == "1.0.0")
            #expect(options.header("Tus-Extension") == "creation,checksum,termination,expiration")
            #expect(options.header("Tus-Checksum-Algorithm") == "sha256,sha1" && options.header("Tus-Max-Size") == String(8 << 30))

            let first = try await bench.create(token, metadata, length: segment.data.count)
            #expect(first.status == .created)
            let chunk = segment.data.prefix(256 << 10)
            #expect(try await bench.patch(token, "up-3", offset: 0, Data(chunk), checksum: UploadChecksum(of: chunk)).status == .noContent)
            // The same create again: 201, the same Location, the current offset.
            let again = try await bench.create(token, metadata, length: segment.data.count)
            #expect(again.status == .created && again.header("Location") == first.header("Location"))
            #expect(again.header("Upload-Offset") == String(256 << 10))
            // The same id for something else: 409.
            var other = metadata
            other.sha256 = String(repeating: "ab", count: 32)
            let conflict = try await bench.create(token, other, length: segment.data.count)
            #expect(conflict.status == .conflict && errorCode(conflict) == "upload_id_conflict")
            #expect(try await bench.create(token, metadata, length: 12345).status == .conflict)
            // An upload for a segment whose record has not arrived, or that does not match its record.
            let unknown = try await bench.create(
                token, UploadMetadata(uploadId: "up-x", segment: .init(cameraId: "cam-9", session: "s", sequence: 0), sha256: segment.sha256),
                length: segment.data.count)
            #expect(unknown.status == .conflict && errorCode(unknown) == "upload_segment_unknown")
            let otherLength = try await bench.create(token, UploadMetadata(uploadId: "up-y", segment: segment.key, sha256: segment.sha256), length: 99)
            #expect(otherLength.status == .conflict && errorCode(otherLength) == "upload_segment_mismatch")
            let otherSHA = try await bench.create(token, UploadMetadata(uploadId: "up-y", segment: segment.key, sha256: other.sha256), length: segment.data.count)
            #expect(otherSHA.status == .conflict && errorCode(otherSHA) == "upload_segment_mismatch")
            // Malformed creation requests.
            for (length, header) in [
                ("1024", "uploadId dXAtYg==,cameraId Y2FtLTEwMQ=="),  // no session, sequence, sha256
                ("1024", "uploadId Li4v,cameraId Y2FtLTEwMQ==,session cw==,sequence MA==,sha256 " + Data(segment.sha256.utf8).base64EncodedString()),  // "../"
                ("1024", "uploadId !!!"),
                ("-5", metadata.header), ("12abc", metadata.header), ("0", metadata.header),
            ] {
                let response = try await bench.client.execute(
                    uri: "/api/uploads", method: .post, headers: bench.headers(token, ["Upload-Length": length, "Upload-Metadata": header]))
                #expect(response.status == .badRequest && errorCode(response) == "upload_invalid", "\(length) \(header)")
            }
            let tooLarge = try await bench.create(token, metadata, length: (8 << 30) + 1)
            #expect(tooLarge.status == .contentTooLarge && errorCode(tooLarge) == "upload_too_large")

            // PATCH: the wrong offset, the wrong body type, a chunk too large, past the end.
            let wrongOffset = try await bench.patch(token, "up-3", offset: 0, Data(chunk), checksum: nil)
            #expect(wrongOffset.status == .conflict && errorCode(wrongOffset) == "upload_offset_mismatch")
            let wrongType = try await bench.patch(token, "up-3", offset: 256 << 10, Data(chunk), checksum: nil, type: "application/octet-stream")
            #expect(wrongType.status == .unsupportedMediaType && errorCode(wrongType) == "upload_content_type")
            let big = try await bench.patch(token, "up-3", offset: 256 << 10, Data(count: (2 << 20) + 1), checksum: nil)
            #expect(big.status == .contentTooLarge && errorCode(big) == "upload_chunk_too_large")
            let past = try await bench.patch(token, "up-3", offset: 256 << 10, Data(count: 1 << 20), checksum: nil)
            #expect(past.status == .badRequest && errorCode(past) == "upload_invalid")
            #expect(try await bench.head(token, "up-3").header("Upload-Offset") == String(256 << 10))
            #expect(try await bench.partialLength("up-3") == 256 << 10)

            // Unknown upload; no tus version; a wrong, missing or expired token.
            #expect(try await bench.head(token, "up-none").status == .notFound)
            let noVersion = try await bench.create(token, metadata, length: segment.data.count, tus: false)
            #expect(noVersion.status == .preconditionFailed && noVersion.header("Tus-Version") == "1.0.0")
            #expect(errorCode(noVersion) == "tus_version_unsupported")
            let oldVersion = try await bench.client.execute(
                uri: "/api/uploads/up-3", method: .head,
                headers: [.authorization: "Bearer \(token)", HTTPField.Name("Tus-Resumable")!: "0.2.2"])
            #expect(oldVersion.status == .preconditionFailed)
            let badToken = try await bench.create("not-a-token", metadata, length: segment.data.count)
            #expect(badToken.status == .unauthorized && errorCode(badToken) == "upload_session_invalid")
            #expect(badToken.header("WWW-Authenticate") == "Bearer")
            #expect(try await bench.create(nil, metadata, length: segment.data.count).status == .unauthorized)
            #expect(try await bench.head("not-a-token", "up-3").status == .unauthorized)
            bench.clock.advance(2 * 3600)
            let expired = try await bench.patch(token, "up-3", offset: 256 << 10, Data(chunk), checksum: nil)
            #expect(expired.status == .unauthorized && errorCode(expired) == "upload_session_invalid")
            // The uploader reports the expired session as a refusal the sync agent can act on.
            await #expect(throws: CentralCallError.self) {
                try await bench.uploader(token: token).upload(file: segment.file, uploadId: "up-3", segment: segment.key, sha256: segment.sha256)
            }
        }
    }

    @Test func terminationAndExpiryRemoveTheDataAndTheUploadCanStartAgain() async throws {
        try await withUploadBench(policy: UploadPolicy(expiry: 600, maxChunkBytes: 2 << 20)) { bench in
            let segment = try await bench.segment(4, bytes: 2 << 20)
            let token = try await bench.venue.openUploadSession().token
            let metadata = UploadMetadata(uploadId: "up-4", segment: segment.key, sha256: segment.sha256)
            let chunk = segment.data.prefix(1 << 20)
            #expect(try await bench.create(token, metadata, length: segment.data.count).status == .created)
            #expect(try await bench.patch(token, "up-4", offset: 0, Data(chunk), checksum: UploadChecksum(of: chunk)).status == .noContent)
            #expect(try await bench.partialLength("up-4") == 1 << 20)

            // Termination: 204, the data is gone, the upload answers 410.
            let deleted = try await bench.client.execute(uri: "/api/uploads/up-4", method: .delete, headers: bench.headers(token))
            #expect(deleted.status == .noContent)
            #expect(try await bench.partialLength("up-4") == nil)
            #expect(try await bench.head(token, "up-4").status == .gone)
            let afterDelete = try await bench.patch(token, "up-4", offset: 1 << 20, Data(chunk), checksum: nil)
            #expect(afterDelete.status == .gone && errorCode(afterDelete) == "upload_gone")
            #expect(try await bench.client.execute(uri: "/api/uploads/up-none", method: .delete, headers: bench.headers(token)).status == .notFound)
            // Created again with the same id and metadata, it starts from 0.
            let recreated = try await bench.create(token, metadata, length: segment.data.count)
            #expect(recreated.status == .created && recreated.header("Upload-Offset") == "0")
            #expect(try await bench.patch(token, "up-4", offset: 0, Data(chunk), checksum: UploadChecksum(of: chunk)).status == .noContent)

            // Expiry: 10 minutes (here) after the last chunk an unfinished upload answers 410 and its data is removed.
            let expires = try #require(try await bench.head(token, "up-4").header("Upload-Expires").flatMap(TusProtocol.parseHTTPDate))
            #expect(abs(expires.timeIntervalSince(bench.clock.now()) - 600) < 5)
            bench.clock.advance(601)
            #expect(try await bench.head(token, "up-4").status == .gone)
            #expect(try await bench.partialLength("up-4") == nil)

            // The sweep removes expired uploads nobody asks about.
            let second = try await bench.segment(5, bytes: 1 << 20)
            let secondMeta = UploadMetadata(uploadId: "up-5", segment: second.key, sha256: second.sha256)
            #expect(try await bench.create(token, secondMeta, length: second.data.count).status == .created)
            #expect(try await bench.partialLength("up-5") == 0)
            bench.clock.advance(601)
            #expect(try await bench.database.sweepExpiredUploads(storage: bench.storage, now: bench.clock.now()) == 1)
            #expect(try await bench.partialLength("up-5") == nil)
            #expect(try await bench.database.uploads(venueID: UploadBench.venueID, segment: second.key).first?.state == .expired)

            // The uploader takes an expired upload up again from 0 and finishes it.
            let outcome = try await bench.uploader(token: token).upload(file: segment.file, uploadId: "up-4", segment: segment.key, sha256: segment.sha256)
            #expect(outcome.resumedFrom == 0 && outcome.bytesSent == Int64(segment.data.count))
            #expect(try bench.stored(segment) == segment.data)
        }
    }

    @Test func uploadsStopShortOfFillingCentralsDiskAndGoOnOnceThereIsRoom() async throws {
        // Given central told to keep more space free than any disk has,
        try await withUploadBench(policy: UploadPolicy(maxChunkBytes: 2 << 20, keepFreeBytes: .max / 4)) { bench in
            let segment = try await bench.segment(7, bytes: (2 << 20) + 5)
            let token = try await bench.venue.openUploadSession().token
            // when the venue uploads a segment, then central refuses it with 507 and says why in both languages, and
            // keeps nothing of it.
            let error = await #expect(throws: CentralCallError.self) {
                try await bench.uploader(token: token).upload(file: segment.file, uploadId: "up-7", segment: segment.key, sha256: segment.sha256)
            }
            guard case .refused(let status, let code, let message, let messageZh, _) = error else {
                Issue.record("\(String(describing: error))")
                return
            }
            #expect(status == 507 && code == "recording_storage_full")
            #expect(message.contains("nearly full") && messageZh.contains("空间不足"), "\(message) / \(messageZh)")
            #expect(try await bench.database.uploads(venueID: UploadBench.venueID, segment: segment.key).isEmpty)
            #expect(try await bench.partialLength("up-7") == nil)

            // An upload already under way when the disk fills: the chunk that would eat into the kept space is refused
            // and nothing of it is kept; once there is room the same chunk goes on and the recording is whole.
            let room = UploadPolicy(maxChunkBytes: 2 << 20, keepFreeBytes: 0)
            let full = UploadPolicy(maxChunkBytes: 2 << 20, keepFreeBytes: .max / 4)
            let metadata = UploadMetadata(uploadId: "up-7", segment: segment.key, sha256: segment.sha256)
            _ = try await bench.database.createUpload(
                venueID: UploadBench.venueID, metadata: metadata, length: Int64(segment.data.count), storage: bench.storage, policy: room)
            func append(_ offset: Int, _ policy: UploadPolicy) async throws -> RecordingUpload {
                let end = min(segment.data.count, offset + (1 << 20))
                return try await bench.database.appendChunk(
                    venueID: UploadBench.venueID, uploadID: "up-7", offset: Int64(offset), chunk: ByteBuffer(bytes: segment.data[offset..<end]),
                    checksum: nil, storage: bench.storage, policy: policy)
            }
            #expect(try await append(0, room).offset == 1 << 20)
            let refusal = await #expect(throws: CentralError.self) { _ = try await append(1 << 20, full) }
            #expect(refusal?.code == "recording_storage_full")
            #expect(try await bench.partialLength("up-7") == 1 << 20)
            #expect(try await bench.head(token, "up-7").header("Upload-Offset") == String(1 << 20))
            #expect(try await append(1 << 20, room).offset == 2 << 20)
            #expect(try await append(2 << 20, room).state == .complete)
            #expect(try bench.stored(segment) == segment.data)
        }
    }

    @Test func aFileThatDoesNotMatchItsRecordIsDiscardedAndReported() async throws {
        try await withUploadBench { bench in
            // Given a segment record whose SHA-256 is not the file's (the venue's copy changed after it was recorded),
            let recorded = String(repeating: "0", count: 64)
            let segment = try await bench.segment(6, bytes: (1 << 20) + 17, recordedSHA256: recorded)
            let token = try await bench.venue.openUploadSession().token
            // when the file is uploaded under the record's digest (every chunk intact),
            let error = await #expect(throws: CentralCallError.self) {
                try await bench.uploader(token: token).upload(file: segment.file, uploadId: "up-6", segment: segment.key, sha256: recorded)
            }
            // then the last chunk is refused with the reason, nothing is published, the data is discarded (offset
            // back to 0), and the office sees a report.
            guard case .refused(let status, let code, _, _, _) = error else { Issue.record("\(String(describing: error))"); return }
            #expect(status == 422 && code == "upload_digest_mismatch")
            #expect(try await bench.videoReceivedAt(segment) == nil)
            #expect(try await bench.partialLength("up-6") == 0)
            #expect(try await bench.head(token, "up-6").header("Upload-Offset") == "0")
            #expect(!FileManager.default.fileExists(
                atPath: try bench.storage.recordingPath(RecordingRef(venueId: UploadBench.venueID, segment: segment.key))))
            let reports = try await bench.database.syncReports(venueID: UploadBench.venueID)
            #expect(reports.contains { $0.code == "upload_digest_mismatch" && $0.detail.contains("up-6") })
        }
    }

    @Test func theBandwidthLimitHoldsTheRate() async throws {
        try await withUploadBench { bench in
            let segment = try await bench.segment(7, bytes: 3 << 20)
            let token = try await bench.venue.openUploadSession().token
            // 3 MiB at 2 MiB/s with a quarter-second burst cannot take less than (3 − 0.5) / 2 s.
            let started = ContinuousClock.now
            let outcome = try await bench.uploader(token: token, bytesPerSecond: 2 << 20).upload(
                file: segment.file, uploadId: "up-7", segment: segment.key, sha256: segment.sha256)
            #expect(ContinuousClock.now - started >= .milliseconds(1250))
            #expect(outcome.bytesSent == 3 << 20)
        }
    }
}

/// Progress reports collected from the uploader's callback.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [TusUploader.Progress] = []

    func add(_ progress: TusUploader.Progress) { lock.withLock { list.append(progress) } }
    var entries: [TusUploader.Progress] { lock.withLock { list } }
}
