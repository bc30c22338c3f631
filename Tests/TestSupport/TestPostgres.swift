import Foundation

/// A throwaway PostgreSQL server for one test: Debian's PostgreSQL 15 binaries, a cluster made with `initdb` in a
/// temporary folder, listening on 127.0.0.1 on a free port (and a socket in that folder), trust authentication.
/// PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
///
/// `withTestPostgres` always stops the server (`pg_ctl stop -m immediate`) and deletes the folder.
public struct TestPostgres: Sendable {
    public let folder: URL
    public let port: Int
    /// The server (`postgres`, or `runuser` running it), a child of the test process: not daemonised by pg_ctl,
    /// whose daemon would keep the tool's output open and its exit unseen.
    let server: Process
    /// `postgres://kaodian@127.0.0.1:PORT/kaodian`.
    public var url: String { "postgres://kaodian@127.0.0.1:\(port)/kaodian" }

    static let binaries = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")
    static var asRoot: Bool { getuid() == 0 }

    public static func start() throws -> TestPostgres {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kaodian-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if asRoot { try run("/bin/chown", ["postgres:postgres", folder.path]) }
        let data = folder.appendingPathComponent("data").path
        try run(tool("initdb"), ["-D", data, "-A", "trust", "-U", "kaodian", "--no-sync", "-E", "UTF8", "--locale", "C"], asServer: true)
        let port = unusedPort()
        let server = Process()
        let arguments = [
            tool("postgres"), "-D", data, "-h", "127.0.0.1", "-p", String(port), "-k", folder.path,
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
        ]
        if asRoot {
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            server.arguments = ["-u", "postgres", "--"] + arguments
        } else {
            server.executableURL = URL(fileURLWithPath: arguments[0])
            server.arguments = Array(arguments.dropFirst())
        }
        let log = folder.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        server.standardOutput = handle
        server.standardError = handle
        server.standardInput = FileHandle.nullDevice
        try server.run()
        let started = TestPostgres(folder: folder, port: port, server: server)
        let deadline = Date().addingTimeInterval(30)
        while (try? run(tool("pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)])) == nil {
            guard Date() < deadline, server.isRunning else {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                started.stop()
                throw TestPostgresError(description: "PostgreSQL did not start: \(text)")
            }
            usleep(100_000)
        }
        do {
            try run(tool("createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "kaodian", "kaodian"])
        } catch {
            started.stop()
            throw error
        }
        return started
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`, SIGKILL if it lingers) and deletes its folder.
    public func stop() {
        if server.isRunning {
            _ = try? Self.run(
                Self.tool("pg_ctl"), ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "-t", "10", "stop"],
                asServer: true)
            let deadline = Date().addingTimeInterval(10)
            while server.isRunning && Date() < deadline { usleep(50_000) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: folder)
    }

    static func tool(_ name: String) -> String { binaries.appendingPathComponent(name).path }

    /// Runs a tool to its end (as the `postgres` user when we are root and it is a server tool); throws on failure.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], asServer: Bool = false) throws -> String {
        let result = asServer && asRoot
            ? try runTool("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
            : try runTool(path, arguments)
        guard result.status == 0 else {
            throw TestPostgresError(
                description: "\(URL(fileURLWithPath: path).lastPathComponent) failed: \(result.output)\(result.errors)")
        }
        return result.output
    }
}

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `body` with a fresh PostgreSQL server and always stops it.
public func withTestPostgres<T>(_ body: (TestPostgres) async throws -> T) async throws -> T {
    let server = try TestPostgres.start()
    do {
        let result = try await body(server)
        server.stop()
        return result
    } catch {
        server.stop()
        throw error
    }
}
