import ArgumentParser
import Foundation
import GRDB

/// What this machine's disk allows: durable SQLite commits per second (WAL, synchronous=FULL),
/// one row per transaction versus many rows per transaction (group commit).
struct SQLiteCeiling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqlite-ceiling", abstract: "Measure durable SQLite commits per second on this disk.")

    @Option(help: "Folder for the scratch database (on the disk the venue uses).") var dir = "."
    @Option(help: "Seconds per measurement.") var seconds = 5.0

    func run() async throws {
        let path = URL(fileURLWithPath: dir).appendingPathComponent("sqlite-ceiling-\(getpid()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let pool = try DatabasePool(path: path)
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, attempt TEXT, body TEXT)")
        }
        let body = String(repeating: "电气安全操作规程。", count: 20)
        say("durable SQLite commits on this disk (WAL, synchronous=FULL, \(seconds) s each):")
        for batch in [1, 10, 50, 200] {
            var rows = 0
            var commits = 0
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                try await pool.write { db in
                    for index in 0..<batch {
                        try db.execute(sql: "INSERT INTO t (attempt, body) VALUES (?, ?)", arguments: ["a\(index)", body])
                    }
                }
                rows += batch
                commits += 1
            }
            say(String(format: "  %3d rows per commit: %7.0f commits/s, %8.0f rows/s", batch, Double(commits) / seconds, Double(rows) / seconds))
        }
    }
}
