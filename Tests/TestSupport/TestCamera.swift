import Foundation

/// scripts/rtsp-camera.py as a real subprocess: a GStreamer RTSP server on 127.0.0.1 with one or more mounts.
///
/// `withTestCamera` always stops it, also when the body throws or an expectation fails.
public struct TestCamera: Sendable {
    public let process: Process
    /// `rtsp://127.0.0.1:PORT/MOUNT` for each mount, in the order asked.
    public let urls: [String]

    public var port: Int { Int(urls[0].split(separator: ":")[2].split(separator: "/")[0]) ?? 0 }
    public var pid: Int32 { process.processIdentifier }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Starts the camera on a free port (`--port 0`; the ready lines name the port it got) and waits for it.
    public static func start(_ arguments: [String], mounts: Int = 1) async throws -> TestCamera {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repository.appendingPathComponent("scripts/rtsp-camera.py").path, "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let pid = process.processIdentifier
        // If the ready lines do not come within 30 s, kill the camera: its pipe closes and the reader gives up.
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let handle = output.fileHandleForReading
        let lines: [String] = await withCheckedContinuation { continuation in
            Thread {
                var buffer = Data()
                var ready: [String] = []
                while ready.count < mounts {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                        buffer.removeSubrange(buffer.startIndex...newline)
                        if line.hasPrefix("ready ") { ready.append(String(line.dropFirst(6))) }
                    }
                }
                continuation.resume(returning: ready)
            }.start()
        }
        watchdog.cancel()
        let camera = TestCamera(process: process, urls: lines)
        guard lines.count == mounts else {
            camera.stop()
            throw TestCameraError.notReady(arguments)
        }
        return camera
    }

    /// SIGCONT (in case a test froze it), SIGTERM, and SIGKILL if it has not gone within 5 s.
    public func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

public enum TestCameraError: Error {
    case notReady([String])
}

/// Runs `body` with a camera started from `arguments`, and stops the camera whatever happens.
public func withTestCamera<T>(
    _ arguments: [String], mounts: Int = 1, _ body: (TestCamera) async throws -> T
) async throws -> T {
    let camera = try await TestCamera.start(arguments, mounts: mounts)
    defer { camera.stop() }
    return try await body(camera)
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, read and closed again).
public func unusedPort() -> Int {
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socketDescriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
