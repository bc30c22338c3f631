import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where alert e-mail goes: the office's SMTP server, who it comes from and who gets it.
///
/// `smtp://host[:25]` talks SMTP and switches to TLS (STARTTLS) when the server offers it; `smtp://user@host:587`
/// also signs in (AUTH PLAIN) and then requires TLS, never sending the password in the clear; `smtps://[user@]host[:465]`
/// is TLS from the first byte. The server's certificate is checked against the system's trusted authorities, or the
/// office's own authority given as a PEM file.
public struct SMTPSettings: Sendable, Equatable {
    public enum Security: String, Sendable {
        /// SMTP, upgraded with STARTTLS when the server offers it (required when signing in).
        case startTLSWhenOffered
        /// TLS from the first byte (port 465).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var from: String
    public var to: [String]
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM file of the authority that signed the server's certificate; nil trusts the system's authorities.
    public var trustedCAFile: String?

    public init(
        host: String, port: Int = 25, from: String, to: [String], security: Security = .startTLSWhenOffered,
        username: String? = nil, password: String? = nil, trustedCAFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.from = from
        self.to = to
        self.security = security
        self.username = username
        self.password = password
        self.trustedCAFile = trustedCAFile
    }

    /// `smtp://[user@]host[:port]` or `smtps://[user@]host[:port]`; the password is given apart (not in the URL,
    /// which shows in process lists).
    public init?(url: String, from: String, to: [String], password: String? = nil, trustedCAFile: String? = nil) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["smtp", "smtps"].contains(scheme),
            let host = parts.host, !host.isEmpty, parts.password == nil
        else { return nil }
        let implicit = scheme == "smtps"
        let username = parts.user.flatMap { $0.removingPercentEncoding ?? $0 }
        guard (username == nil) == (password == nil) else { return nil }
        self.init(
            host: host, port: parts.port ?? (implicit ? 465 : 25), from: from, to: to,
            security: implicit ? .implicitTLS : .startTLSWhenOffered, username: username, password: password,
            trustedCAFile: trustedCAFile)
    }
}

public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// An SMTP client on SwiftNIO: one message per connection, each reply checked, TLS by STARTTLS or from the start,
/// AUTH PLAIN only over TLS. The whole conversation must end within 30 s.
public enum SMTPMail {
    public static func send(subject: String, body: String, settings: SMTPSettings, now: Date = Date()) async throws {
        let message = compose(subject: subject, body: body, settings: settings, now: now)
        let tls = try tlsContext(settings)
        let channel: NIOAsyncChannel<String, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if settings.security == .implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: serverName(settings.host)))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplyLineDecoder()))
                        return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(description: "cannot connect to the mail server \(settings.host):\(settings.port): \(error)")
        }
        let raw = channel.channel
        let deadline = Task {
            try await Task.sleep(for: .seconds(30))
            raw.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            /// Sends `command` (if any) and reads the reply: its code and every line's text (capabilities after EHLO).
            func reply(to command: String?, expecting codes: Set<Int>, shown: String? = nil) async throws -> [String] {
                if let command { try await outbound.write(ByteBuffer(string: command + "\r\n")) }
                var texts: [String] = []
                while true {
                    guard let line = try await lines.next() else {
                        throw SMTPError(description: "the mail server closed the connection or did not answer in time")
                    }
                    texts.append(String(line.dropFirst(4)))
                    let more = line.count >= 4 && line[line.index(line.startIndex, offsetBy: 3)] == "-"
                    if more { continue }
                    guard let code = Int(line.prefix(3)), codes.contains(code) else {
                        let what = shown ?? command.map { "\"\($0)\"" } ?? "the greeting"
                        throw SMTPError(description: "the mail server answered \"\(line)\" to \(what)")
                    }
                    return texts
                }
            }
            _ = try await reply(to: nil, expecting: [220])
            var capabilities = try await reply(to: "EHLO kaodian-central", expecting: [250]).map { $0.uppercased() }
            var encrypted = settings.security == .implicitTLS
            if !encrypted && capabilities.contains("STARTTLS") {
                _ = try await reply(to: "STARTTLS", expecting: [220])
                // The TLS handler goes in front on the channel's own loop; it starts the handshake at once.
                try await raw.eventLoop.submit {
                    try raw.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: tls, serverHostname: serverName(settings.host)), position: .first)
                }.get()
                encrypted = true
                capabilities = try await reply(to: "EHLO kaodian-central", expecting: [250]).map { $0.uppercased() }
            }
            if let username = settings.username, let password = settings.password {
                guard encrypted else {
                    throw SMTPError(description: "the mail server does not offer STARTTLS: the password is not sent in the clear")
                }
                guard capabilities.contains(where: { $0.hasPrefix("AUTH") && $0.split(separator: " ").contains("PLAIN") }) else {
                    throw SMTPError(description: "the mail server does not offer AUTH PLAIN")
                }
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                _ = try await reply(to: "AUTH PLAIN " + token, expecting: [235], shown: "AUTH PLAIN (the password)")
            }
            _ = try await reply(to: "MAIL FROM:<\(settings.from)>", expecting: [250])
            for recipient in settings.to { _ = try await reply(to: "RCPT TO:<\(recipient)>", expecting: [250, 251]) }
            _ = try await reply(to: "DATA", expecting: [354])
            try await outbound.write(ByteBuffer(string: message + ".\r\n"))
            _ = try await reply(to: nil, expecting: [250], shown: "the message")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// TLS as a client: certificates checked against the system's authorities or the given one, TLS 1.2 at least.
    static func tlsContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let file = settings.trustedCAFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            } catch {
                throw SMTPError(description: "the mail server's authority \(file) cannot be read as PEM: \(error)")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The name the certificate is checked against (SNI is not sent for an IP address).
    static func serverName(_ host: String) -> String? {
        host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
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
}

/// Splits the server's replies into lines (CR LF or LF), refusing a line longer than 64 KiB.
struct ReplyLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > 64 << 10 { throw SMTPError(description: "the mail server sent a line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex + 1
        let line = buffer.readString(length: length) ?? ""
        context.fireChannelRead(wrapInboundOut(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
