import ExamCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SyncClient
import SyncProtocol
import VenueStore

/// How the sync agent paces itself.
public struct SyncSettings: Sendable {
    /// At most this many items, and about this much payload, in one signed batch.
    public var batchItems = 2000
    public var batchBytes = 4 << 20
    /// How often the outbox is looked at when all is sent (new items are written by every exam write).
    public var pollEvery: Duration = .seconds(1)
    /// Retry delays while central cannot be reached, growing to the last one (kept short: results must reach
    /// central within seconds of the link coming back, and a failed try costs one connection attempt).
    public var offlineRetry: [Duration] = [.milliseconds(250), .milliseconds(500), .seconds(1)]
    /// Retry delay after a refusal that will not go away by itself (revoked, bad signature): someone must act.
    public var refusedRetry: Duration = .seconds(60)
    /// Bytes per second for video uploads; nil sends as fast as the link allows.
    public var videoBytesPerSecond: Int?
    /// Bytes per video chunk: central acknowledges each, so a cut loses at most one.
    public var videoChunkBytes = 4 << 20
    /// How often, at most, the sittings' manifests are computed while writes go on (at once when a room ends).
    public var manifestEvery: Duration = .seconds(60)
    /// How often central is asked for packages issued for this venue.
    public var packagesEvery: Duration = .seconds(30)
    /// How long items central acknowledged are kept in the outbox (they are copies of the venue's own rows); 0
    /// deletes them as soon as all is sent.
    public var keepAcknowledged: TimeInterval = 30 * 86_400

    public init() {}
}

/// What the sync page shows.
public struct SyncStatus: Sendable, Codable, Equatable {
    public struct Problem: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
        public var messageZh: String
        public var at: Int64
    }
    public struct Upload: Sendable, Codable, Equatable {
        public var cameraId: String
        public var fileName: String
        public var bytesSent: Int64
        public var bytesTotal: Int64
        public var bytesPerSecond: Double
    }
    public var enrolled = false
    public var centralUrl: String?
    public var venueId: String?
    /// `notEnrolled`, `idle` (all sent), `sending`, `offline` (central unreachable), `refused` (central refuses).
    public var state = "notEnrolled"
    public var lastSuccessAt: Int64?
    public var lastAttemptAt: Int64?
    public var nextAttemptAt: Int64?
    public var lastError: Problem?
    /// Items central acknowledged since the agent started.
    public var sentItems = 0
    public var upload: Upload?
    /// Video bytes put on the link since the agent started (chunks sent again after a cut or damage included), and
    /// those central acknowledged: the difference is what cuts cost.
    public var videoBytesSent: Int64 = 0
    public var videoBytesAcknowledged: Int64 = 0
}

/// The sync agent: sends the outbox to the central office whenever it can be reached — results first, then the
/// venue's record, in bounded signed batches — and marks what central acknowledged. Everything it needs to resume is
/// in the database (an item is acknowledged only after central's receipt), so it picks up where it was after any
/// restart, SIGKILL included: at worst a batch central already stored is sent again and answered as duplicates.
public final class SyncAgent: Service, Sendable {
    let database: VenueDatabase
    let dataDirectory: URL
    let settings: SyncSettings
    let logger: Logger
    private let state = Mutex(SyncStatus())
    private let forced = Mutex(false)
    private let kicks: AsyncStream<Void>
    private let kickContinuation: AsyncStream<Void>.Continuation

    public init(database: VenueDatabase, dataDirectory: URL, settings: SyncSettings = SyncSettings(), logger: Logger) {
        self.database = database
        self.dataDirectory = dataDirectory
        self.settings = settings
        self.logger = logger
        (kicks, kickContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var status: SyncStatus { state.withLock { $0 } }

    /// "Sync now": try at once, whatever the back-off says.
    public func syncNow() {
        forced.withLock { $0 = true }
        forcedManifests.withLock { $0 = true }
        packagesCheckedAt.withLock { $0 = nil }
        kickContinuation.yield()
    }

    public func run() async throws {
        if let last = try? await database.syncState("lastSuccessAt").flatMap(Int64.init) {
            state.withLock { $0.lastSuccessAt = last }
        }
        let ticker = Task { [kickContinuation, settings] in
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.pollEvery)
                kickContinuation.yield()
            }
        }
        var failures = 0
        var notBefore = ContinuousClock.now
        // On shutdown the loop ends and a send or an upload in flight is cancelled: nothing is lost, central's
        // offsets and the outbox say where to resume.
        await withGracefulShutdownHandler {
            for await _ in kicks {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                let now = ContinuousClock.now
                if now < notBefore && !forced.withLock({ $0 }) { continue }
                forced.withLock { $0 = false }
                let outcome = await cancelWhenGracefulShutdown { await self.round() }
                if Task.isShuttingDownGracefully { break }
                switch outcome {
                case .done:
                    failures = 0
                    notBefore = now
                case .offline:
                    let delay = settings.offlineRetry[min(failures, settings.offlineRetry.count - 1)]
                    failures += 1
                    notBefore = ContinuousClock.now + delay
                    state.withLock { $0.nextAttemptAt = Date().addingTimeInterval(delay.seconds).millis }
                case .refused:
                    notBefore = ContinuousClock.now + settings.refusedRetry
                    state.withLock { $0.nextAttemptAt = Date().addingTimeInterval(settings.refusedRetry.seconds).millis }
                case .notEnrolled:
                    notBefore = ContinuousClock.now + .seconds(5)
                }
            }
        } onGracefulShutdown: {
            self.kickContinuation.finish()
        }
        ticker.cancel()
    }

    enum Outcome {
        case done, offline, refused, notEnrolled
    }

    /// Sends everything queued, batch after batch, until the outbox is empty or something fails.
    func round() async -> Outcome {
        let settings: VenueSyncSettings
        do {
            guard let loaded = try VenueSyncSettings.load(dataDirectory: dataDirectory) else {
                state.withLock {
                    $0.enrolled = false
                    $0.state = "notEnrolled"
                }
                return .notEnrolled
            }
            settings = loaded
        } catch {
            problem(code: "sync_settings_unreadable", en: "The sync settings cannot be read: \(error).", zh: "同步设置无法读取：\(error)。")
            return .refused
        }
        state.withLock {
            $0.enrolled = true
            $0.centralUrl = settings.centralURL
            $0.venueId = settings.venueID
        }
        let client = CentralClient(baseURL: settings.centralURL, venueID: settings.venueID, key: settings.key)
        while true {
            let items: [SyncItem]
            do {
                items = try await database.pendingOutbox(limit: self.settings.batchItems, maxBytes: self.settings.batchBytes)
            } catch {
                logger.error("sync: cannot read the outbox: \(error)")
                return .offline
            }
            if items.isEmpty {
                // Everything is at central: tell it what the venue holds per sitting (once per change).
                if await manifestsMayHaveChanged(), let queued = try? await database.queueChangedManifests(), !queued.isEmpty {
                    continue
                }
                // Packages central issued for this venue (now and then), then the video, one segment at a time,
                // looking at the results again after each.
                await fetchPackages(client: client)
                switch await uploadNextSegment(client: client, settings: settings) {
                case .uploaded: continue
                case .nothing:
                    state.withLock {
                        $0.state = "idle"
                        $0.nextAttemptAt = nil
                    }
                    await pruneOutbox()
                    return .done
                case .failed(let outcome): return outcome
                }
            }
            state.withLock {
                $0.state = "sending"
                $0.lastAttemptAt = Date().millis
            }
            do {
                let receipt = try await client.send(items)
                let acknowledged = receipt.stored + receipt.duplicates
                try await database.acknowledgeOutbox(acknowledged)
                pruning.withLock { $0.acknowledged = true }
                let now = Date().millis
                try? await database.setSyncState("lastSuccessAt", String(now))
                state.withLock {
                    $0.lastSuccessAt = now
                    $0.lastError = nil
                    $0.sentItems += acknowledged.count
                }
                logger.debug("sync: \(receipt.stored.count) items stored, \(receipt.duplicates.count) already held")
            } catch CentralCallError.refused(_, let code, let message, let messageZh, let named)
                where ["item_conflict", "item_unusable"].contains(code) && !named.isEmpty
            {
                // Central holds other content under these ids, or can never take them: sending them again changes
                // nothing. Set them aside for a person, each with its reason, and send the rest.
                logger.error("sync: central refused \(named.count) items (\(code)): \(named.map(\.id))")
                try? await database.refuseOutbox(named.map { (id: $0.id, reason: "\(code): \($0.message) / \($0.messageZh)") })
                problem(code: code, en: message, zh: messageZh)
            } catch CentralCallError.refused(let status, let code, let message, let messageZh, _) {
                logger.error("sync: central refused the batch (\(status) \(code)): \(message)")
                problem(code: code, en: message, zh: messageZh)
                state.withLock { $0.state = "refused" }
                return .refused
            } catch CentralCallError.unreachable(let detail) {
                problem(
                    code: "central_unreachable", en: "The central office cannot be reached (\(detail)); trying again shortly.",
                    zh: "无法连接中心（\(detail)），稍后自动重试。")
                state.withLock { $0.state = "offline" }
                return .offline
            } catch {
                logger.error("sync: \(error)")
                problem(code: "sync_failed", en: "Sending failed: \(error).", zh: "发送失败：\(error)。")
                state.withLock { $0.state = "offline" }
                return .offline
            }
        }
    }

    enum VideoStep {
        case uploaded, nothing
        case failed(Outcome)
    }

    /// Whether items were acknowledged since the outbox was last pruned, and when that was.
    private let pruning = Mutex<(acknowledged: Bool, at: ContinuousClock.Instant?)>((false, nil))

    /// Deletes acknowledged items older than `keepAcknowledged`, when something was acknowledged since the last time
    /// or an hour has passed (an index finds them, so this costs little).
    func pruneOutbox() async {
        let now = ContinuousClock.now
        let due = pruning.withLock { $0.acknowledged || $0.at.map { now - $0 > .seconds(3600) } ?? true }
        guard due else { return }
        do {
            let removed = try await database.pruneAcknowledgedOutbox(before: Date().addingTimeInterval(-settings.keepAcknowledged))
            pruning.withLock { $0 = (false, now) }
            if removed > 0 { logger.debug("sync: \(removed) acknowledged outbox items deleted") }
        } catch {
            logger.error("sync: cannot prune the outbox: \(error)")
        }
    }

    /// The upload session (a bearer token) while it lasts.
    private let session = Mutex<SyncSession?>(nil)
    /// Segments central would not take yet (their record not there, say), and when to try them again.
    private let segmentsLater = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Uploads the oldest segment central does not have (resuming from the offset central acknowledged), then marks
    /// it uploaded.
    func uploadNextSegment(client: CentralClient, settings venue: VenueSyncSettings) async -> VideoStep {
        let segments: [SegmentView]
        do {
            segments = try await database.segmentsNotUploaded(limit: 200)
        } catch {
            logger.error("sync: cannot read the segments: \(error)")
            return .nothing
        }
        let now = ContinuousClock.now
        let later = segmentsLater.withLock { $0 }
        guard let segment = segments.first(where: { segment in later[Self.uploadID(segment)].map { $0 <= now } ?? true })
        else { return .nothing }
        let uploadID = Self.uploadID(segment)
        let file = recordingsFolder.appendingPathComponent(segment.cameraId).appendingPathComponent(segment.fileName)
        do {
            let token = try await uploadToken(client)
            let uploader = TusUploader(
                baseURL: venue.centralURL, token: token, http: CentralClient.http, chunkSize: settings.videoChunkBytes,
                bytesPerSecond: settings.videoBytesPerSecond,
                retries: 3, retryDelay: .milliseconds(200))
            state.withLock {
                $0.state = "sending"
                $0.upload = SyncStatus.Upload(
                    cameraId: segment.cameraId, fileName: segment.fileName, bytesSent: 0, bytesTotal: Int64(segment.bytes), bytesPerSecond: 0)
            }
            let before = state.withLock { ($0.videoBytesSent, $0.videoBytesAcknowledged) }
            let resumedFrom = Mutex<Int64?>(nil)
            let outcome = try await uploader.upload(
                file: file, uploadId: uploadID,
                segment: RecordingSegmentKey(cameraId: segment.cameraId, session: segment.session, sequence: segment.sequence),
                sha256: segment.sha256
            ) { progress in
                let start = resumedFrom.withLock { value in
                    if value == nil { value = progress.offset }
                    return value ?? progress.offset
                }
                self.state.withLock {
                    $0.upload?.bytesSent = progress.offset
                    $0.upload?.bytesPerSecond = progress.bytesPerSecond
                    $0.videoBytesSent = before.0 + progress.bytesSent
                    $0.videoBytesAcknowledged = before.1 + progress.offset - start
                }
            }
            try await database.markSegmentsUploaded(cameraID: segment.cameraId, fileNames: [segment.fileName])
            let at = Date().millis
            try? await database.setSyncState("lastSuccessAt", String(at))
            state.withLock {
                $0.upload = nil
                $0.lastSuccessAt = at
                $0.lastError = nil
            }
            logger.debug("sync: segment \(segment.fileName) uploaded (\(outcome.bytesSent) bytes sent, from \(outcome.resumedFrom))")
            return .uploaded
        } catch CentralCallError.unreachable(let detail) {
            state.withLock { $0.upload = nil }
            problem(
                code: "central_unreachable", en: "The central office cannot be reached (\(detail)); the upload resumes shortly.",
                zh: "无法连接中心（\(detail)），录像上传稍后自动续传。")
            state.withLock { $0.state = "offline" }
            return .failed(.offline)
        } catch CentralCallError.refused(let status, let code, let message, let messageZh, _) {
            state.withLock { $0.upload = nil }
            if status == 401 { session.withLock { $0 = nil } }
            logger.warning("sync: central did not take segment \(segment.fileName) (\(status) \(code)): \(message)")
            problem(code: code, en: "\(segment.fileName): \(message)", zh: "\(segment.fileName)：\(messageZh)")
            segmentsLater.withLock { $0[uploadID] = ContinuousClock.now + self.settings.refusedRetry }
            return .uploaded  // the next segment, or the results, go on
        } catch {
            state.withLock { $0.upload = nil }
            logger.error("sync: uploading \(segment.fileName): \(error)")
            problem(code: "upload_failed", en: "\(segment.fileName): \(error)", zh: "\(segment.fileName)：\(error)")
            segmentsLater.withLock { $0[uploadID] = ContinuousClock.now + self.settings.refusedRetry }
            return .uploaded
        }
    }

    var recordingsFolder: URL { dataDirectory.appendingPathComponent("recordings", isDirectory: true) }

    /// The outbox as it stood when the manifests were last computed, and when that was.
    private let manifestsChecked = Mutex<(seq: Int64, at: ContinuousClock.Instant)?>(nil)

    /// Computing the manifests reads every answer-log entry of every sitting, so it is done only when something was
    /// written since, and then at most every `manifestEvery` — at once when a room's clock changed (a room ended) or
    /// on "sync now".
    func manifestsMayHaveChanged() async -> Bool {
        let last = manifestsChecked.withLock { $0 }
        guard let changes = try? await database.outboxChanges(after: last?.seq ?? 0) else { return false }
        let now = ContinuousClock.now
        if let last {
            guard changes.newest != last.seq else { return false }
            guard changes.roomClockChanged || now - last.at >= settings.manifestEvery || forcedManifests.withLock({ $0 }) else {
                return false
            }
        }
        forcedManifests.withLock { $0 = false }
        manifestsChecked.withLock { $0 = (changes.newest, now) }
        return true
    }

    private let forcedManifests = Mutex(false)

    /// When central's package list was last looked at.
    private let packagesCheckedAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Fetches the packages central has issued for this venue (every `packagesEvery`, or at once on "sync now"),
    /// imports each through the same door as an upload on the admin page (`VenueImporter`: signature, digests,
    /// content, one transaction), and tells central what became of it; then, while a paper is still sealed, opens
    /// the sealed papers whose keys central has released.
    func fetchPackages(client: CentralClient) async {
        let now = ContinuousClock.now
        if let last = packagesCheckedAt.withLock({ $0 }), now - last < settings.packagesEvery { return }
        packagesCheckedAt.withLock { $0 = now }
        do {
            let token = try await uploadToken(client)
            try await importPackages(client: client, token: token)
            try await unsealWithReleasedKeys(client: client, token: token)
        } catch CentralCallError.unreachable {
            packagesCheckedAt.withLock { $0 = nil }  // as soon as central answers again
        } catch {
            logger.warning("sync: fetching packages: \(error)")  // tried again at the next check
        }
    }

    /// Keys of sealed papers that failed to open: not tried again with the same code.
    private let failedKeys = Mutex<Set<String>>([])

    /// While a sitting's paper is still sealed, asks central for the keys it has released for this venue (at each
    /// packages check, so never more often) and opens each sealed paper whose key has come. A key that does not open
    /// its paper is logged and shown on the sync page, and not tried again until central sends another code.
    func unsealWithReleasedKeys(client: CentralClient, token: String) async throws {
        let sealed = Set(try await database.stillSealedSittings().map(\.rawValue))
        guard !sealed.isEmpty else { return }
        let keys = try await client.releasedKeys(token: token)
        for key in keys where sealed.contains(key.sittingId) {
            let tried = "\(key.sittingId)|\(key.code)"
            if failedKeys.withLock({ $0.contains(tried) }) { continue }
            do {
                try await database.unseal(sitting: Sitting.ID(key.sittingId), code: key.code, actor: "central office", role: "system")
                logger.notice("sync: opened the sealed paper of sitting \(key.sittingId) with the key released by the central office")
            } catch let error as any CodedError {
                failedKeys.withLock { _ = $0.insert(tried) }
                logger.error("sync: the key released for sitting \(key.sittingId) (package \(key.packageId)) did not open its paper: \(error.message.en)")
                problem(
                    code: error.code, en: "Sitting \(key.sittingId): the released key did not open the paper: \(error.message.en)",
                    zh: "场次 \(key.sittingId)：中心下发的密钥未能启封试卷：\(error.message.zh)")
            }
        }
    }

    /// Imports the packages central has issued and reports on each.
    private func importPackages(client: CentralClient, token: String) async throws {
        let pending = try await client.pendingPackages(token: token)
        guard !pending.isEmpty else { return }
        let imported = Set(try await database.importedPackages().map(\.packageID))
        let incoming = dataDirectory.appendingPathComponent("incoming", isDirectory: true)
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        for package in pending {
            if imported.contains(package.packageId) {
                try await client.reportPackage(package.packageId, imported: true, result: "already imported", token: token)
                continue
            }
            let file = incoming.appendingPathComponent("central-\(UUID().uuidString).kdpkg")
            defer { try? FileManager.default.removeItem(at: file) }
            try await client.downloadPackage(package, token: token, to: file)
            do {
                let summary = try await VenueImporter(
                    database: database, trustedIssuers: dataDirectory.appendingPathComponent("trusted-issuers")
                ).importPackage(at: file, actor: "central office", role: "system")
                logger.notice("sync: imported package \(summary.packageID) from the central office")
                try await client.reportPackage(
                    package.packageId, imported: true,
                    result: "imported: \(summary.sittings) sittings, \(summary.candidates) candidates", token: token)
            } catch let error as any CodedError {
                logger.error("sync: package \(package.packageId) from the central office refused: \(error.message.en)")
                problem(code: error.code, en: "Package \(package.packageId): \(error.message.en)", zh: "考务包 \(package.packageId)：\(error.message.zh)")
                try await client.reportPackage(
                    package.packageId, imported: false, result: "\(error.code): \(error.message.en) / \(error.message.zh)", token: token)
            }
        }
    }

    /// The upload id of a segment, the same on every try and after every restart, so central resumes it.
    static func uploadID(_ segment: SegmentView) -> String {
        "seg-" + SyncDigest.hex(Data("\(segment.cameraId)\n\(segment.session)\n\(segment.sequence)".utf8)).prefix(48)
    }

    func uploadToken(_ client: CentralClient) async throws -> String {
        if let current = session.withLock({ $0 }), current.expiresAt.timeIntervalSinceNow > 300 { return current.token }
        let fresh = try await client.openUploadSession()
        session.withLock { $0 = fresh }
        return fresh.token
    }

    private func problem(code: String, en: String, zh: String) {
        state.withLock { $0.lastError = SyncStatus.Problem(code: code, message: en, messageZh: zh, at: Date().millis) }
    }
}

extension Duration {
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
