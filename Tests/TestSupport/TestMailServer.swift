import Foundation

/// A real SMTP server for tests: aiosmtpd (from the test tools in `.venv-tests`) on 127.0.0.1, printing every message
/// it receives to a file the test reads. Stopped by `stop()` or when the test's `withTestMailServer` ends.
public final class TestMailServer: @unchecked Sendable {
    public let port: Int
    let process: Process
    let log: URL

    init(port: Int, process: Process, log: URL) {
        self.port = port
        self.process = process
        self.log = log
    }

    /// Everything received so far (the server's dump: envelope lines, then each message as sent).
    public var received: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// SIGTERM, and SIGKILL if it has not gone within 5 s (a server started by a test that also runs a service may
    /// have inherited SIGTERM ignored).
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }
}

public struct TestMailServerError: Error, CustomStringConvertible {
    public let description: String
}

public func withTestMailServer<T>(_ body: (TestMailServer) async throws -> T) async throws -> T {
    let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-tests/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw TestMailServerError(description: "\(python.path) is missing: run scripts/setup.sh (it installs aiosmtpd)")
    }
    let port = unusedPort()
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let server = try await startMailServer(
        python, ["-u", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Debugging", "stdout"], port: port,
        log: log, output: try FileHandle(forWritingTo: log))
    defer { server.stop() }
    return try await body(server)
}

/// Starts the server and waits until it accepts a connection (20 s at most).
func startMailServer(_ python: URL, _ arguments: [String], port: Int, log: URL, output: FileHandle) async throws -> TestMailServer {
    let process = Process()
    process.executableURL = python
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let server = TestMailServer(port: port, process: process, log: log)
    let deadline = Date().addingTimeInterval(20)
    while !canConnect(port: port) {
        guard Date() < deadline, process.isRunning else {
            server.stop()
            throw TestMailServerError(description: "the test mail server did not start")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    return server
}

/// How the secure test mail server talks.
public enum TestMailSecurity: String, Sendable {
    case plain, startTLS = "starttls", implicitTLS = "tls"
}

/// A real SMTP server with TLS (STARTTLS or from the start) and, given a user, sign-in only over TLS:
/// `scripts/test-smtp-server.py` (aiosmtpd) with a certificate for 127.0.0.1 made by openssl. `certificate` is the
/// PEM file to trust. `received` lists each message with `MESSAGE tls=yes user=…` before it.
public func withSecureTestMailServer<T>(
    security: TestMailSecurity, user: String? = nil, password: String? = nil,
    _ body: (_ server: TestMailServer, _ certificate: String) async throws -> T
) async throws -> T {
    let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-tests/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw TestMailServerError(description: "\(python.path) is missing: run scripts/setup.sh (it installs aiosmtpd)")
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let certificate = folder.appendingPathComponent("cert.pem").path
    let key = folder.appendingPathComponent("key.pem").path
    let openssl = Process()
    openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    openssl.arguments = [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj",
        "/CN=kaodian test mail", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]
    openssl.standardOutput = FileHandle.nullDevice
    openssl.standardError = FileHandle.nullDevice
    try openssl.run()
    openssl.waitUntilExit()
    guard openssl.terminationStatus == 0 else { throw TestMailServerError(description: "openssl could not make a certificate") }
    let port = unusedPort()
    let log = folder.appendingPathComponent("received.txt")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    var arguments = [
        Fixtures.repositoryRoot.appendingPathComponent("scripts/test-smtp-server.py").path, "--port", String(port), "--out", log.path,
        "--mode", security.rawValue, "--cert", certificate, "--key", key,
    ]
    if let user, let password { arguments += ["--user", user, "--password", password] }
    let server = try await startMailServer(python, arguments, port: port, log: log, output: FileHandle.nullDevice)
    defer { server.stop() }
    return try await body(server, certificate)
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
