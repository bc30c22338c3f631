import Foundation
import Logging
import NIOCore
import PostgresNIO
import SyncProtocol

/// The limits of central's video uploads.
public struct UploadPolicy: Sendable {
    /// An unfinished upload expires this long after its last chunk (or its creation); its data is then removed.
    public var expiry: TimeInterval
    /// The largest upload central accepts (`Tus-Max-Size`).
    public var maxLength: Int64
    /// The largest chunk one PATCH may carry (it is held in memory until it is checked and written).
    public var maxChunkBytes: Int

    /// Space the recording storage keeps free for everything else (the database, logs): an upload or a chunk that
    /// would eat into it is refused (`recording_storage_full`) and the venue tries again later.
    public var keepFreeBytes: Int64

    public init(
        expiry: TimeInterval = 7 * 86400, maxLength: Int64 = 8 << 30, maxChunkBytes: Int = 16 << 20, keepFreeBytes: Int64 = 1 << 30
    ) {
        self.expiry = expiry
        self.maxLength = maxLength
        self.maxChunkBytes = maxChunkBytes
        self.keepFreeBytes = keepFreeBytes
    }

    /// Refuses `bytes` more when the storage would then have less than `keepFreeBytes` free.
    func checkRoom(for bytes: Int64, in storage: any RecordingStorage) async throws {
        guard bytes > 0, let free = try await storage.freeBytes() else { return }
        if free - bytes < keepFreeBytes { throw CentralError.recordingStorageFull(needed: bytes, free: free, kept: keepFreeBytes) }
    }
}

/// One resumable upload as central knows it.
public struct RecordingUpload: Sendable, Equatable {
    public enum State: String, Sendable {
        case open, complete, expired, terminated
    }

    public var venueId: String
    public var uploadId: String
    public var segment: RecordingSegmentKey
    public var length: Int64
    /// What central has acknowledged: the bytes up to here are durable.
    public var offset: Int64
    public var sha256: String
    public var state: State
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date
    public var completedAt: Date?

    var ref: PartialUploadRef { PartialUploadRef(venueId: venueId, uploadId: uploadId) }
    var recording: RecordingRef { RecordingRef(venueId: venueId, segment: segment) }
}

extension CentralDatabase {
    // MARK: Creation

    /// Creates the upload `metadata.uploadId` for the venue, or answers the one it already has: the same id with
    /// the same segment, length and SHA-256 is the same upload (a repeated create changes nothing, an expired or
    /// ended one starts again from 0); with anything different it is a conflict. A new upload needs the segment's
    /// row (from a batch) with this SHA-256 and `bytes` = `length`, and a segment whose video central does not hold.
    public func createUpload(
        venueID: String, metadata: UploadMetadata, length: Int64, storage: any RecordingStorage, policy: UploadPolicy,
        now: Date = Date()
    ) async throws -> RecordingUpload {
        guard TusProtocol.isSafeID(metadata.uploadId), TusProtocol.isSafeID(metadata.segment.cameraId),
            TusProtocol.isSafeID(metadata.segment.session), TusProtocol.isSHA256Hex(metadata.sha256), metadata.segment.sequence >= 0
        else {
            throw CentralError.uploadInvalid(en: "the upload metadata is not valid", zh: "上传元数据无效")
        }
        guard length > 0 else {
            throw CentralError.uploadInvalid(en: "Upload-Length must be a whole number above 0", zh: "Upload-Length 须为大于 0 的整数")
        }
        guard length <= policy.maxLength else { throw CentralError.uploadTooLarge(policy.maxLength) }
        let ref = PartialUploadRef(venueId: venueID, uploadId: metadata.uploadId)
        let upload = try await storing(ref) {
            try await transaction { connection in
                if let existing = try await self.loadUpload(ref, lock: true, connection: connection) {
                    guard existing.segment == metadata.segment, existing.sha256 == metadata.sha256, existing.length == length else {
                        throw CentralError.uploadIdConflict(metadata.uploadId)
                    }
                    switch existing.state {
                    case .complete: return existing
                    case .open where existing.expiresAt > now: return existing
                    case .open, .expired, .terminated:
                        try await policy.checkRoom(for: length, in: storage)
                        try await storage.createPartial(ref)
                        return try await self.updateUpload(
                            ref, offset: 0, state: .open, expiresAt: now.addingTimeInterval(policy.expiry), now: now,
                            connection: connection)
                    }
                }
                let key = metadata.segment
                let rows = try await connection.query(
                    """
                    SELECT bytes, sha256, video_received_at FROM recording_segment
                    WHERE venue_id = \(venueID) AND camera_id = \(key.cameraId) AND session = \(key.session)
                        AND sequence = \(key.sequence)
                    """, logger: self.logger)
                var segment: (Int64, String, Date?)?
                for try await row in rows.decode((Int64, String, Date?).self) { segment = row }
                guard let (bytes, sha256, received) = segment else { throw CentralError.uploadSegmentUnknown(key.description) }
                guard bytes == length else {
                    throw CentralError.uploadSegmentMismatch(
                        en: "Upload-Length is \(length) bytes, the segment's record says \(bytes)",
                        zh: "Upload-Length 为 \(length) 字节，片段记录为 \(bytes) 字节")
                }
                guard sha256.lowercased() == metadata.sha256 else {
                    throw CentralError.uploadSegmentMismatch(
                        en: "the SHA-256 differs from the segment's record", zh: "SHA-256 与片段记录不同")
                }
                guard received == nil else { throw CentralError.recordingAlreadyReceived(key.description) }
                try await policy.checkRoom(for: length, in: storage)
                let expires = now.addingTimeInterval(policy.expiry)
                try await connection.query(
                    """
                    INSERT INTO recording_upload (venue_id, upload_id, camera_id, session, sequence, length, upload_offset, sha256,
                        state, created_at, updated_at, expires_at)
                    VALUES (\(venueID), \(metadata.uploadId), \(key.cameraId), \(key.session), \(key.sequence), \(length), 0,
                        \(metadata.sha256), 'open', \(now), \(now), \(expires))
                    """, logger: self.logger)
                // A leftover file of the same name (a removal that failed) is emptied: the new upload starts at 0.
                try await storage.createPartial(ref)
                return RecordingUpload(
                    venueId: venueID, uploadId: metadata.uploadId, segment: key, length: length, offset: 0, sha256: metadata.sha256,
                    state: .open, createdAt: now, updatedAt: now, expiresAt: expires, completedAt: nil)
            }
        }
        // Venues create uploads all the time: a good moment to clear a few expired ones.
        do {
            _ = try await sweepExpiredUploads(storage: storage, now: now, limit: 20)
        } catch {
            logger.warning("sweeping expired uploads failed: \(error)")
        }
        return upload
    }

    // MARK: Reading

    /// The upload as it stands (HEAD). An unfinished upload past its expiry is expired here (its data removed).
    public func upload(venueID: String, uploadID: String, storage: any RecordingStorage, now: Date = Date()) async throws -> RecordingUpload {
        let ref = PartialUploadRef(venueId: venueID, uploadId: uploadID)
        guard TusProtocol.isSafeID(uploadID) else { throw CentralError.uploadUnknown(uploadID) }
        guard let upload = try await loadUpload(ref, lock: false, connection: nil) else { throw CentralError.uploadUnknown(uploadID) }
        switch upload.state {
        case .complete: return upload
        case .expired, .terminated: throw CentralError.uploadGone(uploadID)
        case .open:
            if upload.expiresAt <= now {
                try await expire(ref, storage: storage, now: now)
                throw CentralError.uploadGone(uploadID)
            }
            return upload
        }
    }

    /// The upload for the record of a segment, if any (newest first): for the office's pages and the tests.
    public func uploads(venueID: String, segment: RecordingSegmentKey) async throws -> [RecordingUpload] {
        var uploads: [RecordingUpload] = []
        let rows = try await client.query(
            """
            SELECT upload_id FROM recording_upload WHERE venue_id = \(venueID) AND camera_id = \(segment.cameraId)
                AND session = \(segment.session) AND sequence = \(segment.sequence) ORDER BY updated_at DESC
            """, logger: logger)
        var ids: [String] = []
        for try await id in rows.decode(String.self) { ids.append(id) }
        for id in ids {
            if let upload = try await loadUpload(PartialUploadRef(venueId: venueID, uploadId: id), lock: false, connection: nil) {
                uploads.append(upload)
            }
        }
        return uploads
    }

    // MARK: Chunks

    /// Appends one chunk (PATCH). The chunk is checked against its checksum first (a mismatch keeps nothing);
    /// `offset` must be the acknowledged offset. The bytes are written and fsynced before the new offset is stored,
    /// so an acknowledged offset always has its data on disk. The chunk that completes the file makes central hash
    /// the whole file and compare it with the segment's record: a match publishes the recording and marks the
    /// segment's video received, a mismatch discards everything (offset back to 0), reports it, and is refused.
    public func appendChunk(
        venueID: String, uploadID: String, offset: Int64, chunk: ByteBuffer, checksum: UploadChecksum?,
        storage: any RecordingStorage, policy: UploadPolicy, now: Date = Date()
    ) async throws -> RecordingUpload {
        guard TusProtocol.isSafeID(uploadID) else { throw CentralError.uploadUnknown(uploadID) }
        guard chunk.readableBytes <= policy.maxChunkBytes else { throw CentralError.uploadChunkTooLarge(policy.maxChunkBytes) }
        guard offset >= 0 else {
            throw CentralError.uploadInvalid(en: "Upload-Offset must be a whole number from 0", zh: "Upload-Offset 须为不小于 0 的整数")
        }
        if let checksum, !checksum.matches(chunk.readableBytesView) { throw CentralError.uploadChecksumMismatch }
        // An upload already begun still needs room for each chunk: several venues may be filling the same disk.
        try await policy.checkRoom(for: Int64(chunk.readableBytes), in: storage)
        let ref = PartialUploadRef(venueId: venueID, uploadId: uploadID)

        enum Outcome: Sendable {
            case stored(RecordingUpload)
            case gone
            case lost
            case digestMismatch(RecordingUpload, String)
        }
        var published: RecordingRef?
        let outcome: Outcome
        do {
            outcome = try await storing(ref) {
                try await transaction { connection -> Outcome in
                    guard let upload = try await self.loadUpload(ref, lock: true, connection: connection) else {
                        throw CentralError.uploadUnknown(uploadID)
                    }
                    switch upload.state {
                    case .expired, .terminated: throw CentralError.uploadGone(uploadID)
                    case .complete:
                        // A repeat of the last (empty) request is answered again; anything else is past the end.
                        guard offset == upload.length, chunk.readableBytes == 0 else {
                            throw CentralError.uploadOffsetMismatch(expected: upload.length, got: offset)
                        }
                        return .stored(upload)
                    case .open: break
                    }
                    if upload.expiresAt <= now {
                        try await self.expire(ref, storage: storage, now: now, connection: connection)
                        return .gone
                    }
                    guard offset == upload.offset else { throw CentralError.uploadOffsetMismatch(expected: upload.offset, got: offset) }
                    guard offset + Int64(chunk.readableBytes) <= upload.length else {
                        throw CentralError.uploadInvalid(
                            en: "the chunk goes past Upload-Length (\(upload.length) bytes)",
                            zh: "数据块超出 Upload-Length（\(upload.length) 字节）")
                    }
                    if chunk.readableBytes == 0 { return .stored(upload) }
                    // The acknowledged data must be there; if it is not (storage lost it), start again from 0.
                    guard let held = try await storage.partialLength(ref), held >= upload.offset else {
                        try await storage.createPartial(ref)
                        _ = try await self.updateUpload(
                            ref, offset: 0, state: .open, expiresAt: now.addingTimeInterval(policy.expiry), now: now,
                            connection: connection)
                        return .lost
                    }
                    try await storage.write(chunk, at: offset, to: ref)
                    let newOffset = offset + Int64(chunk.readableBytes)
                    if newOffset < upload.length {
                        return .stored(
                            try await self.updateUpload(
                                ref, offset: newOffset, state: .open, expiresAt: now.addingTimeInterval(policy.expiry), now: now,
                                connection: connection))
                    }
                    // The whole file is here: it must be the file the segment's record describes.
                    let digest = try await storage.sha256(of: ref, length: upload.length)
                    guard digest == upload.sha256 else {
                        try await storage.truncatePartial(ref, to: 0)
                        let reset = try await self.updateUpload(
                            ref, offset: 0, state: .open, expiresAt: now.addingTimeInterval(policy.expiry), now: now,
                            connection: connection)
                        return .digestMismatch(reset, digest)
                    }
                    let key = upload.segment
                    let rows = try await connection.query(
                        """
                        SELECT video_received_at FROM recording_segment
                        WHERE venue_id = \(venueID) AND camera_id = \(key.cameraId) AND session = \(key.session)
                            AND sequence = \(key.sequence)
                        FOR UPDATE
                        """, logger: self.logger)
                    var received: Date??
                    for try await value in rows.decode(Date?.self) { received = value }
                    // Two uploads of the same segment: the first to finish publishes, the other only finishes.
                    if case .some(.none) = received {
                        try await storage.publish(ref, as: upload.recording)
                        published = upload.recording
                        try await connection.query(
                            """
                            UPDATE recording_segment SET video_received_at = \(now)
                            WHERE venue_id = \(venueID) AND camera_id = \(key.cameraId) AND session = \(key.session)
                                AND sequence = \(key.sequence)
                            """, logger: self.logger)
                    }
                    try await connection.query(
                        """
                        UPDATE recording_upload SET upload_offset = length, state = 'complete', completed_at = \(now),
                            updated_at = \(now)
                        WHERE venue_id = \(venueID) AND upload_id = \(uploadID)
                        """, logger: self.logger)
                    var done = upload
                    done.offset = upload.length
                    done.state = .complete
                    done.completedAt = now
                    done.updatedAt = now
                    return .stored(done)
                }
            }
        } catch {
            // The database did not take the completion: the published copy must not stay as if received.
            if let published { try? await storage.deleteRecording(published) }
            throw error
        }
        switch outcome {
        case .stored(let upload):
            if upload.state == .complete {
                // The recording has its own name now; the partial name can go (a failure leaves only a stray file).
                try? await storage.deletePartial(ref)
                if published != nil {
                    logger.info(
                        "recording received", metadata: ["venue": "\(venueID)", "upload": "\(uploadID)", "segment": "\(upload.segment)"])
                }
            }
            return upload
        case .gone: throw CentralError.uploadGone(uploadID)
        case .lost:
            logger.error("upload data missing in storage; restarting it from 0", metadata: ["venue": "\(venueID)", "upload": "\(uploadID)"])
            throw CentralError.uploadOffsetMismatch(expected: 0, got: offset)
        case .digestMismatch(let upload, let digest):
            try? await report(
                venueID: venueID, code: "upload_digest_mismatch", batchID: nil,
                detail: "upload \(uploadID) of segment \(upload.segment): the received file's SHA-256 is \(digest), "
                    + "the segment's record says \(upload.sha256); the data was discarded", now: now)
            throw CentralError.uploadDigestMismatch(upload.segment.description)
        }
    }

    // MARK: Termination and expiry

    /// Ends an unfinished upload (DELETE) and removes its data. A finished upload is refused (`upload_finished`):
    /// its video is the segment's recording, which a venue cannot remove.
    public func terminateUpload(venueID: String, uploadID: String, storage: any RecordingStorage, now: Date = Date()) async throws {
        guard TusProtocol.isSafeID(uploadID) else { throw CentralError.uploadUnknown(uploadID) }
        let ref = PartialUploadRef(venueId: venueID, uploadId: uploadID)
        try await storing(ref) {
            try await transaction { connection in
                guard let upload = try await self.loadUpload(ref, lock: true, connection: connection) else {
                    throw CentralError.uploadUnknown(uploadID)
                }
                switch upload.state {
                case .complete: throw CentralError.uploadFinished(uploadID)
                case .expired, .terminated: throw CentralError.uploadGone(uploadID)
                case .open:
                    _ = try await self.updateUpload(
                        ref, offset: 0, state: .terminated, expiresAt: upload.expiresAt, now: now, connection: connection)
                    try await storage.deletePartial(ref)
                }
            }
        }
        logger.info("upload terminated", metadata: ["venue": "\(venueID)", "upload": "\(uploadID)"])
    }

    /// Expires up to `limit` unfinished uploads whose time has passed and removes their data; returns how many.
    @discardableResult
    public func sweepExpiredUploads(storage: any RecordingStorage, now: Date = Date(), limit: Int = 100) async throws -> Int {
        let rows = try await client.query(
            """
            SELECT venue_id, upload_id FROM recording_upload WHERE state = 'open' AND expires_at <= \(now)
            ORDER BY expires_at LIMIT \(limit)
            """, logger: logger)
        var due: [PartialUploadRef] = []
        for try await (venue, id) in rows.decode((String, String).self) { due.append(PartialUploadRef(venueId: venue, uploadId: id)) }
        for ref in due { try await storing(ref) { try await expire(ref, storage: storage, now: now) } }
        return due.count
    }

    func expire(_ ref: PartialUploadRef, storage: any RecordingStorage, now: Date) async throws {
        try await transaction { connection in try await self.expire(ref, storage: storage, now: now, connection: connection) }
    }

    /// Marks an open upload past its expiry as expired and removes its data (a no-op if it changed meanwhile).
    func expire(_ ref: PartialUploadRef, storage: any RecordingStorage, now: Date, connection: PostgresConnection) async throws {
        guard let upload = try await loadUpload(ref, lock: true, connection: connection), upload.state == .open, upload.expiresAt <= now
        else { return }
        _ = try await updateUpload(ref, offset: 0, state: .expired, expiresAt: upload.expiresAt, now: now, connection: connection)
        try await storage.deletePartial(ref)
        logger.info("upload expired; its data removed", metadata: ["venue": "\(ref.venueId)", "upload": "\(ref.uploadId)"])
    }

    // MARK: Rows

    func loadUpload(_ ref: PartialUploadRef, lock: Bool, connection: PostgresConnection?) async throws -> RecordingUpload? {
        var query: PostgresQuery = """
            SELECT camera_id, session, sequence, length, upload_offset, sha256, state, created_at, updated_at, expires_at,
                completed_at
            FROM recording_upload WHERE venue_id = \(ref.venueId) AND upload_id = \(ref.uploadId)
            """
        if lock { query.sql += " FOR UPDATE" }
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(query, logger: logger)
        } else {
            rows = try await client.query(query, logger: logger)
        }
        var found: RecordingUpload?
        for try await (camera, session, sequence, length, offset, sha256, state, created, updated, expires, completed)
            in rows.decode((String, String, Int, Int64, Int64, String, String, Date, Date, Date, Date?).self)
        {
            found = RecordingUpload(
                venueId: ref.venueId, uploadId: ref.uploadId,
                segment: RecordingSegmentKey(cameraId: camera, session: session, sequence: sequence), length: length, offset: offset,
                sha256: sha256, state: RecordingUpload.State(rawValue: state) ?? .open, createdAt: created, updatedAt: updated,
                expiresAt: expires, completedAt: completed)
        }
        return found
    }

    func updateUpload(
        _ ref: PartialUploadRef, offset: Int64, state: RecordingUpload.State, expiresAt: Date, now: Date, connection: PostgresConnection
    ) async throws -> RecordingUpload {
        try await connection.query(
            """
            UPDATE recording_upload SET upload_offset = \(offset), state = \(state.rawValue), expires_at = \(expiresAt),
                updated_at = \(now), completed_at = NULL
            WHERE venue_id = \(ref.venueId) AND upload_id = \(ref.uploadId)
            """, logger: logger)
        guard let upload = try await loadUpload(ref, lock: false, connection: connection) else {
            throw CentralError.uploadUnknown(ref.uploadId)
        }
        return upload
    }

    /// Runs `body`, turning a storage failure into `recording_storage_failed` (the path and the system's reason
    /// go to the log, not to the venue).
    func storing<T: Sendable>(_ ref: PartialUploadRef, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RecordingStorageError {
            logger.error("recording storage failed: \(error)", metadata: ["venue": "\(ref.venueId)", "upload": "\(ref.uploadId)"])
            throw CentralError.recordingStorageFailed("\(error.operation) failed")
        }
    }
}
