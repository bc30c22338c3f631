import ExamCore
import Foundation
import Synchronization

/// What a heartbeat needs to answer, kept in memory: each attempt's status, extension and active terminal session,
/// and each room's clock (its sitting's clock with the room's start, pauses, extensions and end). Heartbeats are half of all requests, and this saves each of them a database read.
///
/// Every write that changes one of these values drops the entry after it commits; the next heartbeat reloads it.
/// A reload that raced with such a write is not kept (the generation moved on while it read).
final class ClockCache: Sendable {
    struct Attempt: Sendable {
        var sittingID: String
        var roomID: String?
        var extensionSeconds: Int64
        var status: String
        var activeSessionID: String?
        var admissionNumber: String
        /// When the terminal should take a face re-check, in seconds after the start (empty: the sitting asks none).
        var recheckMoments: [TimeInterval]
    }
    private struct State {
        var attempts: [String: Attempt] = [:]
        /// Room clocks by `sittingID|roomID`.
        var rooms: [String: SittingClock] = [:]
        var generation: UInt64 = 0
    }
    private let state = Mutex(State())

    /// The cached values for an attempt, or the generation to quote when storing freshly read ones.
    func lookup(attemptID: String) -> (attempt: Attempt, clock: SittingClock)? {
        state.withLock { state in
            guard let attempt = state.attempts[attemptID], let clock = state.rooms[Self.key(attempt)] else { return nil }
            return (attempt, clock)
        }
    }

    var generation: UInt64 { state.withLock { $0.generation } }

    func store(attemptID: String, attempt: Attempt, clock: SittingClock, readAtGeneration generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            state.attempts[attemptID] = attempt
            state.rooms[Self.key(attempt)] = clock
        }
    }

    func forget(attempts: some Sequence<String>) {
        state.withLock { state in
            state.generation &+= 1
            for id in attempts { state.attempts.removeValue(forKey: id) }
        }
    }

    func forget(sittingID: String, roomID: String) {
        state.withLock { state in
            state.generation &+= 1
            state.rooms.removeValue(forKey: "\(sittingID)|\(roomID)")
        }
    }

    private static func key(_ attempt: Attempt) -> String { "\(attempt.sittingID)|\(attempt.roomID ?? "")" }

    func forgetAll() {
        state.withLock { state in
            state.generation &+= 1
            state.attempts.removeAll()
            state.rooms.removeAll()
        }
    }
}
