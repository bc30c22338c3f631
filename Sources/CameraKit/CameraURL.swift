import Foundation

/// A checked camera address: `rtsp://` or `rtsps://`, a host, an optional port and credentials.
///
/// `masked` is the form for logs and messages: the password is replaced by `***`.
public struct CameraURL: Sendable, Equatable, CustomStringConvertible {
    /// The address exactly as given (with credentials): only for libav.
    public let string: String
    /// The address with the password replaced by `***`.
    public let masked: String
    public let scheme: String
    public let host: String
    public let port: Int
    public let user: String?
    let password: String?

    public init(_ text: String) throws(CameraError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .badURL(reason: "empty") }
        guard !trimmed.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw .badURL(reason: "contains spaces or control characters")
        }
        guard let schemeEnd = trimmed.range(of: "://") else { throw .badURL(reason: "no scheme; expected rtsp://") }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "rtsp" || scheme == "rtsps" else {
            throw .badURL(reason: "scheme \(scheme.isEmpty ? "missing" : scheme) is not rtsp or rtsps")
        }
        let rest = trimmed[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]

        var user: String?
        var password: String?
        var maskedUserInfo = ""
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = String(userInfo[..<colon])
                password = String(userInfo[userInfo.index(after: colon)...])
                maskedUserInfo = "\(user ?? ""):***@"
            } else {
                user = String(userInfo)
                maskedUserInfo = "\(userInfo)@"
            }
        }

        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .badURL(reason: "unclosed [ in IPv6 address") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badURL(reason: "unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .badURL(reason: "bad IPv6 address")
            }
        } else {
            if let colon = hostPort.firstIndex(of: ":") {
                host = hostPort[..<colon]
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                host = hostPort
            }
            guard !host.isEmpty else { throw .badURL(reason: "no host") }
            guard host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." || $0 == "_" })
            else { throw .badURL(reason: "bad host name") }
        }
        var port = scheme == "rtsps" ? 322 : 554
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number), portText.allSatisfy(\.isASCII) else {
                throw .badURL(reason: "bad port")
            }
            port = number
        }

        self.string = trimmed
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.user = user
        self.password = password
        self.masked = "\(scheme)://\(maskedUserInfo)\(hostPort)\(tail)"
    }

    public var description: String { masked }

    /// `text` with every occurrence of this URL's password replaced by `***` (for libav messages).
    func redacting(_ text: String) -> String {
        var result = text.replacingOccurrences(of: string, with: masked)
        if let password, !password.isEmpty { result = result.replacingOccurrences(of: password, with: "***") }
        return result
    }
}
