import Foundation
import Synchronization

/// The last heartbeat of each attempt's terminal, kept in memory: it changes every few seconds per candidate and
/// matters only while the sitting runs, so it is not worth a disk write each time.
final class Presence: Sendable {
    struct Beat: Sendable {
        var at: Date
        var terminalID: String
    }
    private let beats = Mutex<[String: Beat]>([:])

    func touch(attemptID: String, terminalID: String, at: Date) {
        beats.withLock { $0[attemptID] = Beat(at: at, terminalID: terminalID) }
    }

    func lastBeat(attemptID: String) -> Beat? {
        beats.withLock { $0[attemptID] }
    }
}
