import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where alert e-mail goes: an SMTP server the office runs (plain SMTP on its LAN, port 25 or 587 without TLS; no
/// authentication), who it comes from and who gets it.
public struct SMTPSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var from: String
    public var to: [String]

    public init(host: String, port: Int = 25, from: String, to: [String]) {
        self.host = host
        self.port = port
        self.from = from
        self.to = to
    }

    /// `smtp://host[:port]`.
    public init?(url: String, from: String, to: [String]) {
        guard let parts = URLComponents(string: url), parts.scheme == "smtp", let host = parts.host, !host.isEmpty else { return nil }
        self.init(host: host, port: parts.port ?? 25, from: from, to: to)
    }
}

public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A plain SMTP client: one message per connection, each step's reply checked. The conversation is short and runs on
/// a thread of its own with blocking sockets (10 s timeouts), never on Swift's cooperative pool.
public enum SMTPMail {
    public static func send(subject: String, body: String, settings: SMTPSettings, now: Date = Date()) async throws {
        let message = compose(subject: subject, body: body, settings: settings, now: now)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    try converse(settings: settings, message: message)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "smtp"
            thread.start()
        }
    }

    /// The message: UTF-8 subject (RFC 2047) and body (base64, so no line needs dot-stuffing).
    static func compose(subject: String, body: String, settings: SMTPSettings, now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let encodedBody = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let headers = [
            "From: \(settings.from)",
            "To: \(settings.to.joined(separator: ", "))",
            "Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?=",
            "Date: \(formatter.string(from: now))",
            "Message-ID: <\(UUID().uuidString.lowercased())@kaodian-central>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ]
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + encodedBody + "\r\n"
    }

    static func converse(settings: SMTPSettings, message: String) throws {
        let socket = try connect(host: settings.host, port: settings.port)
        defer { close(socket) }
        var reader = LineReader(socket: socket)
        func expect(_ codes: Set<Int>, after command: String?) throws {
            if let command { try write(socket, command + "\r\n") }
            var line = try reader.line()
            // Multi-line replies: "250-…" lines, then "250 …".
            while line.count >= 4, line[line.index(line.startIndex, offsetBy: 3)] == "-" { line = try reader.line() }
            guard let code = Int(line.prefix(3)), codes.contains(code) else {
                throw SMTPError(description: "the mail server answered \"\(line)\" to \(command.map { "\"\($0)\"" } ?? "the greeting")")
            }
        }
        try expect([220], after: nil)
        try expect([250], after: "EHLO kaodian-central")
        try expect([250], after: "MAIL FROM:<\(settings.from)>")
        for recipient in settings.to { try expect([250, 251], after: "RCPT TO:<\(recipient)>") }
        try expect([354], after: "DATA")
        try write(socket, message + ".\r\n")
        try expect([250], after: nil)
        try? write(socket, "QUIT\r\n")
    }

    static func connect(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw SMTPError(description: "cannot resolve the mail server \(host)")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            if fd >= 0 {
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return fd }
                close(fd)
            }
            entry = current.pointee.ai_next
        }
        throw SMTPError(description: "cannot connect to the mail server \(host):\(port): \(String(cString: strerror(errno)))")
    }

    static func write(_ socket: Int32, _ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw SMTPError(description: "the mail server connection broke while sending") }
            bytes = bytes.dropFirst(written)
        }
    }

    struct LineReader {
        let socket: Int32
        var buffer: [UInt8] = []

        mutating func line() throws -> String {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeSubrange(...newline)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 1024)
                let got = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard got > 0 else { throw SMTPError(description: "the mail server closed the connection or did not answer") }
                buffer += chunk[..<got]
                guard buffer.count < 64 << 10 else { throw SMTPError(description: "the mail server sent a line too long") }
            }
        }
    }
}
