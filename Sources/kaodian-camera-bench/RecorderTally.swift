import CameraKit
import Logging
import Synchronization

/// What the recorders reported, per camera, counted in and out of the measuring window.
final class RecorderTally: Sendable {
    struct Camera: Sendable {
        /// `.recording` events: 1 for a camera that connected once and never dropped.
        var sessions = 0
        var segmentsClosed = 0
        var segmentsClosedInWindow = 0
        var segmentBytes = 0
        var reconnects = 0
        /// Gaps other than the one every recorder reports when it is stopped (`stopped`), by reason.
        var gaps: [String] = []
        var lastError: String?
    }

    private struct State {
        var measuring = false
        var cameras: [Camera]
    }

    private let state: Mutex<State>

    init(cameras: Int) {
        state = Mutex(State(cameras: Array(repeating: Camera(), count: cameras)))
    }

    /// Called on the recorder's thread for every event of camera `index` (0-based).
    func record(_ event: RecorderEvent, camera index: Int) {
        state.withLock { state in
            switch event {
            case .recording:
                state.cameras[index].sessions += 1
            case .segmentClosed(let segment):
                state.cameras[index].segmentsClosed += 1
                state.cameras[index].segmentBytes += segment.bytes
                if state.measuring { state.cameras[index].segmentsClosedInWindow += 1 }
            case .gap(_, _, let reason):
                if reason != "stopped" { state.cameras[index].gaps.append(reason) }
            case .reconnecting(_, let error, _):
                state.cameras[index].reconnects += 1
                state.cameras[index].lastError = error.code
            case .bitrate:
                break
            }
        }
    }

    func setMeasuring(_ on: Bool) { state.withLock { $0.measuring = on } }

    var cameras: [Camera] { state.withLock { $0.cameras } }
}

/// Counts warnings and errors (from the recorders and from libav through `LibAVLogging`) and passes every message
/// at or above `logLevel` on to standard error.
struct CountingLogHandler: LogHandler {
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        func add() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    private var inner: StreamLogHandler
    let counter: Counter

    init(label: String, level: Logger.Level, counter: Counter) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = .trace
        self.shownLevel = level
        self.counter = counter
    }

    /// Messages at this level and above are printed.
    private var shownLevel: Logger.Level
    /// Never above `.warning`, so that warnings reach `log(event:)` to be counted even when they are not shown.
    var logLevel: Logger.Level {
        get { min(shownLevel, .warning) }
        set { shownLevel = newValue }
    }
    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .warning { counter.add() }
        if event.level >= shownLevel { inner.log(event: event) }
    }
}
