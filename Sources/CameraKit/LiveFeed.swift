import Foundation
import Synchronization

/// The start of a camera's live picture: what a browser needs to set up Media Source Extensions, and the fragmented
/// MP4 initialisation segment (`ftyp` + `moov`) to append first.
public struct LiveStart: Sendable, Equatable {
    /// The MSE codecs parameter, e.g. `avc1.64001f` or `hvc1.1.6.L93.B0`.
    public var codec: String
    public var width: Int
    public var height: Int
    public var initialization: [UInt8]

    public init(codec: String, width: Int, height: Int, initialization: [UInt8]) {
        self.codec = codec
        self.width = width
        self.height = height
        self.initialization = initialization
    }
}

/// What a viewer of a live feed receives, in order: a `start`, then fragments (the first one of a viewer always
/// begins with a keyframe), and `interrupted` when the camera's connection ends (a new `start` follows when it
/// comes back).
public enum LiveMessage: Sendable, Equatable {
    case start(LiveStart)
    /// One `moof` + `mdat` pair holding one frame.
    case fragment([UInt8])
    /// The camera stopped answering (error code as in `CameraError.code`), or the recorder stopped (`stopped`).
    case interrupted(code: String)
}

/// One camera's live picture, shared by every viewer: the recorder publishes, viewers subscribe.
///
/// A viewer that falls behind (its buffer of `bufferedFragments` full) loses fragments; it then waits for the next
/// keyframe, so its decoder never sees a frame whose references it did not get.
public final class LiveFeed: Sendable {
    private struct Viewer {
        var continuation: AsyncStream<LiveMessage>.Continuation
        /// True until the viewer has had a keyframe since its `start` (or since it lost fragments).
        var waitingForKeyframe = true
    }

    private struct State {
        var viewers: [Int: Viewer] = [:]
        var nextID = 0
        var current: LiveStart?
    }

    private let state = Mutex(State())
    private let onViewersChanged: @Sendable (Int) -> Void

    /// `onViewersChanged` is called with the new count whenever a viewer comes or goes (not under the feed's lock).
    public init(onViewersChanged: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.onViewersChanged = onViewersChanged
    }

    public var viewerCount: Int { state.withLock { $0.viewers.count } }

    /// The picture being published now, if the camera is connected and someone watches.
    public var current: LiveStart? { state.withLock { $0.current } }

    /// A new viewer: the stream starts with the current `start` if there is one. Ending the iteration (or
    /// cancelling its task) removes the viewer.
    public func subscribe(bufferedFragments: Int = 250) -> AsyncStream<LiveMessage> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: LiveMessage.self, bufferingPolicy: .bufferingOldest(max(2, bufferedFragments)))
        let count = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            if let current = state.current { continuation.yield(.start(current)) }
            state.viewers[id] = Viewer(continuation: continuation)
            continuation.onTermination = { [weak self] _ in self?.remove(id) }
            return state.viewers.count
        }
        onViewersChanged(count)
        return stream
    }

    /// Ends every viewer's stream (the camera was deleted, the venue stops).
    public func finishAll() {
        let viewers = state.withLock { state in
            defer { state.viewers = [:] }
            return Array(state.viewers.values)
        }
        for viewer in viewers { viewer.continuation.finish() }
    }

    private func remove(_ id: Int) {
        let count = state.withLock { state -> Int? in
            guard state.viewers.removeValue(forKey: id) != nil else { return nil }
            return state.viewers.count
        }
        if let count { onViewersChanged(count) }
    }

    // MARK: Publishing (the recorder's thread)

    func publish(start: LiveStart) {
        state.withLock { state in
            state.current = start
            for id in state.viewers.keys {
                state.viewers[id]?.waitingForKeyframe = true
                state.viewers[id]?.continuation.yield(.start(start))
            }
        }
    }

    func publish(fragment: [UInt8], keyframe: Bool) {
        state.withLock { state in
            for (id, viewer) in state.viewers {
                if viewer.waitingForKeyframe && !keyframe { continue }
                switch viewer.continuation.yield(.fragment(fragment)) {
                case .enqueued:
                    state.viewers[id]?.waitingForKeyframe = false
                case .dropped:
                    state.viewers[id]?.waitingForKeyframe = true
                case .terminated:
                    break
                @unknown default:
                    break
                }
            }
        }
    }

    func publish(interruption code: String) {
        state.withLock { state in
            guard state.current != nil else { return }
            state.current = nil
            for viewer in state.viewers.values { viewer.continuation.yield(.interrupted(code: code)) }
        }
    }
}
