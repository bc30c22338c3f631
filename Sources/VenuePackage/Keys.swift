import Crypto
import Foundation

/// A central office's public key as a venue trusts it: `{"issuer": "…", "publicKey": "<base64>"}`.
public struct IssuerPublicKey: Codable, Sendable, Hashable {
    public var issuer: String
    public var publicKey: String

    public init(issuer: String, key: Curve25519.Signing.PublicKey) {
        self.issuer = issuer
        self.publicKey = key.rawRepresentation.base64EncodedString()
    }

    public func signingKey() throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: publicKey) else { throw KeyFileError.malformed("publicKey is not base64") }
        return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    public static func load(from url: URL) throws -> IssuerPublicKey {
        do {
            return try JSONDecoder().decode(IssuerPublicKey.self, from: Data(contentsOf: url))
        } catch {
            throw KeyFileError.malformed("\(url.path): \(error)")
        }
    }

    /// Every `*.json` key in a folder; the venue keeps its trusted issuers in `DATA/trusted-issuers/`.
    public static func loadAll(in folder: URL) throws -> [IssuerPublicKey] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.filter { $0.hasSuffix(".json") }.sorted().map { try load(from: folder.appendingPathComponent($0)) }
    }
}

/// A central office's signing key: `{"issuer": "…", "privateKey": "<base64>"}`, kept with mode 0600.
public struct IssuerPrivateKey: Codable, Sendable {
    public var issuer: String
    public var privateKey: String

    public static func generate(issuer: String) -> IssuerPrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        return IssuerPrivateKey(issuer: issuer, privateKey: key.rawRepresentation.base64EncodedString())
    }

    public init(issuer: String, privateKey: String) {
        self.issuer = issuer
        self.privateKey = privateKey
    }

    public func signingKey() throws -> Curve25519.Signing.PrivateKey {
        guard let raw = Data(base64Encoded: privateKey) else { throw KeyFileError.malformed("privateKey is not base64") }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    public func publicKey() throws -> IssuerPublicKey {
        IssuerPublicKey(issuer: issuer, key: try signingKey().publicKey)
    }

    public static func load(from url: URL) throws -> IssuerPrivateKey {
        do {
            return try JSONDecoder().decode(IssuerPrivateKey.self, from: Data(contentsOf: url))
        } catch {
            throw KeyFileError.malformed("\(url.path): \(error)")
        }
    }

    /// Writes the private key readable by its owner only, and the public key beside it.
    public func write(privateTo url: URL, publicTo publicURL: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard FileManager.default.createFile(atPath: url.path, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
            throw KeyFileError.malformed("cannot write \(url.path)")
        }
        try encoder.encode(try publicKey()).write(to: publicURL, options: .atomic)
    }
}

public enum KeyFileError: Error, CustomStringConvertible {
    case malformed(String)
    public var description: String {
        switch self {
        case .malformed(let detail): "key file is not usable: \(detail)"
        }
    }
}

/// Hex SHA-256 of bytes, the digest form used throughout packages.
public func sha256Hex(_ data: some DataProtocol) -> String {
    hexString(SHA256.hash(data: data))
}

/// Lower-case hex of bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
