import Foundation
import Synchronization

/// Latencies and counts gathered by every simulated terminal.
final class Metrics: Sendable {
    struct State {
        var autosaveMs: [Double] = []
        var heartbeatMs: [Double] = []
        var windowAutosaveMs: [Double] = []
        var autosaves = 0
        var heartbeats = 0
        var loggedIn = 0
        var submitted = 0
        var errors: [String: Int] = [:]
        var recording = false
    }
    private let state = Mutex(State())

    func autosave(_ ms: Double) {
        state.withLock {
            $0.windowAutosaveMs.append(ms)
            if $0.recording {
                $0.autosaveMs.append(ms)
                $0.autosaves += 1
            }
        }
    }

    func heartbeat(_ ms: Double) {
        state.withLock {
            if $0.recording {
                $0.heartbeatMs.append(ms)
                $0.heartbeats += 1
            }
        }
    }

    func error(_ kind: String) { state.withLock { $0.errors[kind, default: 0] += 1 } }
    func loggedIn() { state.withLock { $0.loggedIn += 1 } }
    func submitted() { state.withLock { $0.submitted += 1 } }
    func startRecording() { state.withLock { $0.recording = true } }
    func stopRecording() { state.withLock { $0.recording = false } }

    /// Takes the latencies of the last report window.
    func drainWindow() -> (latencies: [Double], loggedIn: Int, errors: Int) {
        state.withLock { state in
            defer { state.windowAutosaveMs.removeAll(keepingCapacity: true) }
            return (state.windowAutosaveMs, state.loggedIn, state.errors.values.reduce(0, +))
        }
    }

    func snapshot() -> State { state.withLock { $0 } }
}

/// The value below which `fraction` of the sorted values lie.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
    return sorted[max(0, index)]
}

/// CPU time and memory of a process, read from /proc.
struct ProcessSample {
    var cpuSeconds: Double
    var rssKiB: Int
    var peakRSSKiB: Int

    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the command: state is [0]; utime is field 14 of the line, i.e. [11]; stime [12].
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
        func kib(_ key: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        return ProcessSample(cpuSeconds: cpu, rssKiB: kib("VmRSS:"), peakRSSKiB: kib("VmHWM:"))
    }
}
