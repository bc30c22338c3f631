import CameraKit
import ExamCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VenueStore

/// How the venue records its room cameras.
public struct RecordingSettings: Sendable {
    /// Where segments go: `DATA/recordings/<camera id>/`.
    public var folder: URL
    /// Target length of a segment file, cut at a keyframe.
    public var segmentSeconds: Double = 60
    /// Recording starts this long before a sitting in the room starts ...
    public var lead: TimeInterval = 10 * 60
    /// ... and stops this long after it ends.
    public var tail: TimeInterval = 5 * 60
    /// How often the timetable is looked at (camera changes are looked at at once).
    public var checkEvery: Duration = .seconds(10)
    /// A room whose sitting has been running this long with no camera recording raises an alert.
    public var notRecordedAfter: TimeInterval = 60
    /// A camera of a room with a running sitting that has been reconnecting this long raises an alert.
    public var cameraDownAfter: TimeInterval = 60
    /// Free space on the recordings' disk below this raises an alert, and segments the central office already has
    /// are deleted, oldest first, to get back above it. Below half of it the disk is about to fill: then even
    /// segments not yet uploaded are deleted, oldest first, each one logged as an error and audited.
    public var freeSpaceFloor: Int64 = 2 * 1024 * 1024 * 1024
    /// At most this many bytes of recordings are kept (segments already uploaded go first); nil: no quota.
    public var quotaBytes: Int64?

    public init(folder: URL) {
        self.folder = folder
    }
}

/// What a camera's recorder is doing now, for the status page.
public struct CameraRecordingState: Codable, Sendable, Equatable {
    /// `recording`, `viewing` (connected for the live picture only), `reconnecting` or `idle`.
    public var state: String
    public var since: Int64?
    public var session: String?
    public var codec: String?
    public var width: Int?
    public var height: Int?
    /// With `reconnecting`: the camera error code and its message, and when the next try is.
    public var errorCode: String?
    public var error: Message?
    public var retryAt: Int64?
    public var lastSegment: String?
    /// The video's bitrate over the last few seconds (bits per second), while connected.
    public var bitrate: Int?

    static let idle = CameraRecordingState(state: "idle")
}

/// The recording state of every camera, written by the recorders' events and read by the API.
actor RecordingStatusBoard {
    private var states: [String: CameraRecordingState] = [:]

    func state(_ cameraID: String) -> CameraRecordingState { states[cameraID] ?? .idle }

    func update(_ cameraID: String, _ change: (inout CameraRecordingState) -> Void) {
        var state = states[cameraID] ?? .idle
        change(&state)
        states[cameraID] = state
    }

    func setIdle(_ cameraID: String) {
        let last = states[cameraID]?.lastSegment
        states[cameraID] = .idle
        states[cameraID]?.lastSegment = last
    }
}

/// Runs one `CameraRecorder` per camera that should be recording: enabled cameras whose room has a sitting
/// (from `lead` before it to `tail` after it), and cameras the admin switched on by hand. Segments and gaps the
/// recorders report become database rows; after a crash, the segments left open are closed at start-up. A camera
/// someone watches live is connected too, for its live picture only, when it is not recording.
public final class RecorderService: Service, Sendable {
    let database: VenueDatabase
    let settings: RecordingSettings
    let logger: Logger
    let board = RecordingStatusBoard()
    private let kicks: AsyncStream<Void>
    private let kickContinuation: AsyncStream<Void>.Continuation
    /// Each camera's live picture, created when first asked for.
    private let feeds = Mutex<[String: LiveFeed]>([:])

    public init(database: VenueDatabase, settings: RecordingSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
        (kicks, kickContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Looks at the cameras again now (after the admin changed one).
    public func camerasChanged() { kickContinuation.yield() }

    public func state(of cameraID: String) async -> CameraRecordingState { await board.state(cameraID) }

    /// The camera's live picture; a viewer coming or going makes the service look at its cameras at once.
    public func liveFeed(for cameraID: String) -> LiveFeed {
        feeds.withLock { feeds in
            if let feed = feeds[cameraID] { return feed }
            let feed = LiveFeed { [kickContinuation] _ in kickContinuation.yield() }
            feeds[cameraID] = feed
            return feed
        }
    }

    private var watchedCameras: Set<String> {
        feeds.withLock { feeds in Set(feeds.filter { $0.value.viewerCount > 0 }.keys) }
    }

    private struct Running {
        var camera: CameraToRecord
        var recorder: Task<Void, Never>
        var events: Task<Void, Never>
    }

    public func run() async throws {
        await recoverUnfinished()
        var running: [String: Running] = [:]
        // The timetable is looked at every `checkEvery`; a kick (camera changed) or shutdown wakes the loop early.
        let ticker = Task { [kickContinuation, settings] in
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.checkEvery)
                kickContinuation.yield()
            }
        }
        await withGracefulShutdownHandler {
            for await _ in kicks {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                let wanted: [CameraToRecord]
                do {
                    wanted = try await database.camerasToRecord(
                        lead: settings.lead, tail: settings.tail, watched: watchedCameras)
                } catch {
                    logger.error("recording: cannot read the cameras: \(error)")
                    continue
                }
                let wantedByID = Dictionary(wanted.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for (id, entry) in running where wantedByID[id] != entry.camera {
                    await stop(entry)
                    running[id] = nil
                }
                for camera in wanted where running[camera.id] == nil {
                    running[camera.id] = await start(camera)
                }
                await applyRetention()
                await raiseAlerts()
            }
        } onGracefulShutdown: {
            self.kickContinuation.finish()
        }
        ticker.cancel()
        for entry in running.values { await stop(entry) }
        for feed in feeds.withLock({ Array($0.values) }) { feed.finishAll() }
    }

    /// Opens, keeps or clears the recording alerts from what the timetable and the recorders say now.
    private func raiseAlerts(now: Date = Date()) async {
        do {
            var alerts: [RecordingAlertInput] = []
            let cameras = try await database.cameras().filter(\.enabled)
            var states: [String: CameraRecordingState] = [:]
            for camera in cameras { states[camera.id] = await board.state(camera.id) }
            for sitting in try await database.runningSittings(now: now) {
                let roomCameras = cameras.filter { $0.roomId == sitting.roomID }
                let room = "\(sitting.roomName)（\(sitting.roomID)）"
                if now.timeIntervalSince(sitting.startedAt) >= settings.notRecordedAfter,
                    !roomCameras.contains(where: { states[$0.id]?.state == "recording" })
                {
                    alerts.append(
                        RecordingAlertInput(
                            kind: "room_not_recorded", subject: "\(sitting.sittingID)|\(sitting.roomID)", roomID: sitting.roomID,
                            sittingID: sitting.sittingID,
                            message: roomCameras.isEmpty
                                ? Message(zh: "\(room)正在考试，但没有登记摄像头，未录像", en: "\(room) is sitting an exam but has no camera registered: nothing is recorded")
                                : Message(zh: "\(room)正在考试，但没有摄像头在录像", en: "\(room) is sitting an exam but no camera is recording")))
                }
                for camera in roomCameras {
                    guard let state = states[camera.id], state.state == "reconnecting", let since = state.since,
                        now.timeIntervalSince(Date(millis: since)) >= settings.cameraDownAfter
                    else { continue }
                    let why = state.error ?? Message(zh: "无响应", en: "no answer")
                    alerts.append(
                        RecordingAlertInput(
                            kind: "camera_down", subject: camera.id, roomID: camera.roomId, cameraID: camera.id,
                            sittingID: sitting.sittingID,
                            message: Message(
                                zh: "\(room)的摄像头“\(camera.name)”自 \(Self.clockTime(since)) 起中断：\(why.zh)",
                                en: "camera \(camera.name) of \(room) has been down since \(Self.clockTime(since)): \(why.en)")))
                }
            }
            if let free = Self.freeSpace(settings.folder), free < settings.freeSpaceFloor {
                alerts.append(
                    RecordingAlertInput(
                        kind: "disk_low", subject: "recordings",
                        message: Message(
                            zh: "录像磁盘剩余 \(Self.gigabytes(free))，低于 \(Self.gigabytes(settings.freeSpaceFloor))",
                            en: "the recordings' disk has \(Self.gigabytes(free)) free, below \(Self.gigabytes(settings.freeSpaceFloor))")))
            }
            try await database.reconcileRecordingAlerts(alerts, now: now)
        } catch {
            logger.error("recording alerts: \(error)")
        }
    }

    /// Deletes the oldest segments while the recordings are over their quota or the disk under its floor; see
    /// `RecordingSettings.freeSpaceFloor` for when a segment not yet uploaded may go.
    func applyRetention() async {
        do {
            var total = try await database.recordingBytes()
            func overQuota() -> Bool { settings.quotaBytes.map { total > $0 } ?? false }
            func free() -> Int64 { Self.freeSpace(settings.folder) ?? .max }
            // First the segments the central office has.
            while overQuota() || free() < settings.freeSpaceFloor {
                guard let segment = try await database.oldestSegments(uploadedOnly: true, limit: 1).first else { break }
                try await delete(segment, reason: overQuota() ? "quota" : "free_space")
                total -= Int64(segment.bytes)
            }
            // Then, only when the disk is about to fill, the others: the answers in the database come first.
            while free() < settings.freeSpaceFloor / 2 {
                guard let segment = try await database.oldestSegments(uploadedOnly: false, limit: 1).first else { break }
                logger.error(
                    "recording: the disk is about to fill; deleting \(segment.fileName) of camera \(segment.cameraId), not yet uploaded")
                try await delete(segment, reason: "disk_about_to_fill")
                total -= Int64(segment.bytes)
            }
        } catch {
            logger.error("recording retention: \(error)")
        }
    }

    private func delete(_ segment: SegmentView, reason: String) async throws {
        let file = settings.folder.appendingPathComponent(segment.cameraId).appendingPathComponent(segment.fileName)
        if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
        try await database.forgetSegment(segment, reason: reason)
    }

    static func freeSpace(_ folder: URL) -> Int64? {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (try? FileManager.default.attributesOfFileSystem(forPath: folder.path))?[.systemFreeSize] as? Int64
    }

    static func gigabytes(_ bytes: Int64) -> String { String(format: "%.1f GB", Double(bytes) / 1_073_741_824) }

    static func clockTime(_ millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(millis: millis))
    }

    private func start(_ camera: CameraToRecord) async -> Running? {
        let url: String
        do {
            url = try await database.cameraURL(id: camera.id)
        } catch {
            logger.error("recording: camera \(camera.id): \(error)")
            return nil
        }
        let (events, sink) = AsyncStream.makeStream(of: RecorderEvent.self)
        let recorder = CameraRecorder(
            configuration: RecorderConfiguration(
                url: url, folder: settings.folder.appendingPathComponent(camera.id, isDirectory: true),
                segmentSeconds: settings.segmentSeconds, live: liveFeed(for: camera.id), writesSegments: camera.recording),
            logger: logger, onEvent: { sink.yield($0) })
        logger.info(camera.recording ? "recording starts" : "live view starts",
                    metadata: ["camera": "\(camera.id)", "room": "\(camera.roomID)"])
        // The events are handled to the last one even while the recorder is being stopped, so the segment it
        // closes on the way out is stored too: this task is not cancelled, it ends when the stream finishes.
        let handler = Task { [database, board, logger] in
            for await event in events {
                await Self.handle(event, camera: camera, database: database, board: board, logger: logger)
            }
        }
        let task = Task {
            await recorder.run()
            sink.finish()
        }
        return Running(camera: camera, recorder: task, events: handler)
    }

    private func stop(_ entry: Running) async {
        entry.recorder.cancel()
        await entry.recorder.value
        await entry.events.value
        await board.setIdle(entry.camera.id)
        logger.info(entry.camera.recording ? "recording stops" : "live view stops", metadata: ["camera": "\(entry.camera.id)"])
    }

    private static func handle(
        _ event: RecorderEvent, camera: CameraToRecord, database: VenueDatabase, board: RecordingStatusBoard, logger: Logger
    ) async {
        do {
            switch event {
            case .recording(let session, let codec, let width, let height):
                await board.update(camera.id) { state in
                    state = CameraRecordingState(
                        state: camera.recording ? "recording" : "viewing", since: Date().millis, session: session, codec: codec, width: width, height: height,
                        lastSegment: state.lastSegment)
                }
            case .segmentClosed(let segment):
                try await database.recordSegment(cameraID: camera.id, roomID: camera.roomID, SegmentInput(segment))
                await board.update(camera.id) { $0.lastSegment = segment.fileName }
            case .gap(let from, let to, let reason):
                try await database.recordGap(cameraID: camera.id, roomID: camera.roomID, from: from, to: to, reason: reason)
            case .bitrate(let bitsPerSecond):
                await board.update(camera.id) { $0.bitrate = bitsPerSecond }
            case .reconnecting(let since, let error, let retryIn):
                await board.update(camera.id) { state in
                    state.state = "reconnecting"
                    state.bitrate = nil
                    if state.since == nil || state.errorCode == nil { state.since = since.millis }
                    state.errorCode = error.code
                    state.error = error.message
                    state.retryAt = Date().addingTimeInterval(Double(retryIn.components.seconds)).millis
                }
            }
        } catch {
            logger.error("recording: camera \(camera.id): cannot store \(event): \(error)")
        }
    }

    /// Segments a crash left open become closed, playable segments with their rows.
    private func recoverUnfinished() async {
        let cameras = (try? await database.cameras()) ?? []
        for camera in cameras {
            let folder = settings.folder.appendingPathComponent(camera.id, isDirectory: true)
            guard FileManager.default.fileExists(atPath: folder.path) else { continue }
            do {
                for segment in try CameraRecorder.recoverUnfinished(in: folder) {
                    try await database.recordSegment(cameraID: camera.id, roomID: camera.roomId, SegmentInput(segment))
                    logger.notice("recording: recovered \(segment.fileName) of camera \(camera.id) after an unclean stop")
                }
            } catch {
                logger.error("recording: recovering camera \(camera.id): \(error)")
            }
        }
    }
}

extension SegmentInput {
    init(_ segment: RecordedSegment) {
        self.init(
            session: segment.session, sequence: segment.sequence, fileName: segment.fileName, startedAt: segment.startedAt,
            endedAt: segment.endedAt, duration: segment.duration, bytes: segment.bytes, sha256: segment.sha256,
            codec: segment.codec, width: segment.width, height: segment.height, recovered: segment.recovered)
    }
}
