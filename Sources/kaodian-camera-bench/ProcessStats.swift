import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU time of this process (all threads), from getrusage(RUSAGE_SELF).
struct OwnCPU {
    var userSeconds: Double
    var systemSeconds: Double
    var totalSeconds: Double { userSeconds + systemSeconds }

    static func now() -> OwnCPU {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return OwnCPU(userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime))
    }

    static func - (end: OwnCPU, start: OwnCPU) -> OwnCPU {
        OwnCPU(userSeconds: end.userSeconds - start.userSeconds, systemSeconds: end.systemSeconds - start.systemSeconds)
    }
}

/// CPU time and memory of another process, from /proc/PID/stat, /proc/PID/status and /proc/PID/smaps_rollup.
struct ProcessSample {
    var userSeconds: Double
    var systemSeconds: Double
    var rssKiB: Int
    /// Proportional set size: shared pages (libraries) divided among the processes that map them.
    var pssKiB: Int
    var totalSeconds: Double { userSeconds + systemSeconds }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Nil when the process is gone.
    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state is [0], utime (field 14 of the line) is [11], stime [12].
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rollup = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
        return ProcessSample(userSeconds: user / ticksPerSecond, systemSeconds: system / ticksPerSecond,
                             rssKiB: kibField("VmRSS:", in: status), pssKiB: kibField("Pss:", in: rollup))
    }

    static func + (left: ProcessSample, right: ProcessSample) -> ProcessSample {
        ProcessSample(userSeconds: left.userSeconds + right.userSeconds,
                      systemSeconds: left.systemSeconds + right.systemSeconds,
                      rssKiB: left.rssKiB + right.rssKiB, pssKiB: left.pssKiB + right.pssKiB)
    }

    static let zero = ProcessSample(userSeconds: 0, systemSeconds: 0, rssKiB: 0, pssKiB: 0)
}

/// This process's resident memory in KiB (VmRSS).
func ownRSSKiB() -> Int {
    kibField("VmRSS:", in: (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? "")
}

/// The number after `key` on its line in a /proc file that counts in kB (`VmRSS:    1234 kB`), or 0.
func kibField(_ key: String, in text: String) -> Int {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
}

/// The whole machine's CPU counters from the first line of /proc/stat, in clock ticks summed over all cores.
struct MachineCPU {
    var busyTicks: UInt64
    var totalTicks: UInt64

    static func now() -> MachineCPU {
        let text = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let first = text.split(separator: "\n").first ?? ""
        // cpu user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user.
        let values = first.split(separator: " ").dropFirst().prefix(8).map { UInt64($0) ?? 0 }
        guard values.count == 8 else { return MachineCPU(busyTicks: 0, totalTicks: 0) }
        let total = values.reduce(0, +)
        let idle = values[3] + values[4]
        return MachineCPU(busyTicks: total - idle, totalTicks: total)
    }

    /// Share of all cores that was busy between `start` and `self`, 0–100.
    func busyPercent(since start: MachineCPU) -> Double {
        let total = totalTicks &- start.totalTicks
        return total == 0 ? 0 : Double(busyTicks &- start.busyTicks) / Double(total) * 100
    }
}

/// CPU seconds used by the camera servers (`--server-pid`), summed; nil when none was given or one is gone.
func serverCPUSeconds(_ pids: [Int32]) -> Double? {
    guard !pids.isEmpty else { return nil }
    var total = 0.0
    for pid in pids {
        guard let sample = ProcessSample.read(pid: pid) else { return nil }
        total += sample.totalSeconds
    }
    return total
}

/// Total size in bytes of the regular files in `folder` (not recursive); 0 when it does not exist.
func folderBytes(_ folder: URL) -> Int {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return 0 }
    return names.reduce(0) { sum, name in sum + fileBytes(folder.appendingPathComponent(name)) }
}

/// Size in bytes of the file at `url`, or 0.
func fileBytes(_ url: URL) -> Int {
    var info = stat()
    guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
    return Int(info.st_size)
}

/// Monotonic seconds.
func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
