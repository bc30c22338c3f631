import Foundation
import Synchronization

/// Slows down password and ID-number guessing: after a few failed logins for one name (user name or admission
/// number) or from one address, further attempts are refused for a while, doubling with each new failure.
/// Kept in memory: a restart forgets it, which costs an attacker a restart they cannot cause.
final class LoginThrottle: Sendable {
    struct Policy: Sendable {
        var failuresPerName = 5
        var failuresPerAddress = 30
        var window: TimeInterval = 600
        var firstLock: TimeInterval = 30
        var longestLock: TimeInterval = 900
    }
    private struct Record {
        var failures: [Date] = []
        var lockedUntil: Date?
        var locks = 0
    }
    private let records = Mutex<[String: Record]>([:])
    let policy: Policy

    init(policy: Policy = Policy()) { self.policy = policy }

    /// Seconds to wait before `keys` may try again; nil when they may try now.
    func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        records.withLock { records in
            let waits = keys.compactMap { records[$0]?.lockedUntil }.filter { $0 > now }.map { Int($0.timeIntervalSince(now).rounded(.up)) }
            return waits.max()
        }
    }

    func failed(name: String, address: String?, now: Date = Date()) {
        records.withLock { records in
            for (key, limit) in [(name, policy.failuresPerName), (address.map { "address:\($0)" }, policy.failuresPerAddress)] {
                guard let key else { continue }
                var record = records[key] ?? Record()
                record.failures = record.failures.filter { now.timeIntervalSince($0) < policy.window } + [now]
                if record.failures.count >= limit {
                    let lock = min(policy.longestLock, policy.firstLock * pow(2, Double(record.locks)))
                    record.lockedUntil = now.addingTimeInterval(lock)
                    record.locks += 1
                    record.failures.removeAll()
                }
                records[key] = record
            }
            if records.count > 100_000 { records = records.filter { $0.value.lockedUntil.map { $0 > now } ?? false } }
        }
    }

    func succeeded(name: String) {
        records.withLock { _ = $0.removeValue(forKey: name) }
    }
}
