import Foundation
import Synchronization

/// Slows down password and ID-number guessing: after a few failed logins for one name (user name or admission
/// number) or from one address, further attempts are refused for a while, doubling with each new failure.
/// Kept in memory: a restart forgets it, which costs an attacker a restart they cannot cause.
public final class LoginThrottle: Sendable {
    public struct Policy: Sendable {
        public var failuresPerName = 5
        public var failuresPerAddress = 30
        public var window: TimeInterval = 600
        public var firstLock: TimeInterval = 30
        public var longestLock: TimeInterval = 900

        public init(
            failuresPerName: Int = 5, failuresPerAddress: Int = 30, window: TimeInterval = 600, firstLock: TimeInterval = 30,
            longestLock: TimeInterval = 900
        ) {
            self.failuresPerName = failuresPerName
            self.failuresPerAddress = failuresPerAddress
            self.window = window
            self.firstLock = firstLock
            self.longestLock = longestLock
        }
    }
    private struct Record {
        var failures: [Date] = []
        var lockedUntil: Date?
        var locks = 0
    }
    private let records = Mutex<[String: Record]>([:])
    public let policy: Policy

    public init(policy: Policy = Policy()) { self.policy = policy }

    /// Seconds to wait before `keys` may try again; nil when they may try now.
    public func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        records.withLock { records in
            let waits = keys.compactMap { records[$0]?.lockedUntil }.filter { $0 > now }.map { Int($0.timeIntervalSince(now).rounded(.up)) }
            return waits.max()
        }
    }

    public func failed(name: String, address: String?, now: Date = Date()) {
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

    public func succeeded(name: String) {
        records.withLock { _ = $0.removeValue(forKey: name) }
    }
}
