import Crypto
import Foundation

/// What a venue needs to report upstream, kept in `DATA/sync/`: its Ed25519 signing key (`venue-signing.key`, 32 raw
/// bytes readable by its owner only) and, once enrolled, the central office's address and the venue's id there
/// (`central.json`).
public struct VenueSyncSettings: Sendable {
    public var centralURL: String
    public var venueID: String
    public var enrolledAt: Date
    public var key: Curve25519.Signing.PrivateKey

    public static func folder(in dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("sync", isDirectory: true)
    }

    struct Remembered: Codable {
        var url: String
        var venueId: String
        var enrolledAt: Date
    }

    /// The venue's settings if it has enrolled; nil if not (no `central.json` yet).
    public static func load(dataDirectory: URL) throws -> VenueSyncSettings? {
        let folder = folder(in: dataDirectory)
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("central.json").path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let remembered = try decoder.decode(Remembered.self, from: data)
        return VenueSyncSettings(
            centralURL: remembered.url, venueID: remembered.venueId, enrolledAt: remembered.enrolledAt,
            key: try signingKey(in: folder))
    }

    /// Remembers a successful enrolment.
    public static func remember(centralURL: String, venueID: String, enrolledAt: Date, dataDirectory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(Remembered(url: centralURL, venueId: venueID, enrolledAt: enrolledAt))
            .write(to: folder(in: dataDirectory).appendingPathComponent("central.json"), options: .atomic)
    }

    public enum KeyError: Error, CustomStringConvertible {
        case unreadable(String)
        case cannotWrite(String)
        public var description: String {
            switch self {
            case .unreadable(let path): "\(path) is not a venue signing key (32 bytes)"
            case .cannotWrite(let path): "cannot write \(path)"
            }
        }
    }

    public static func signingKey(in folder: URL) throws -> Curve25519.Signing.PrivateKey {
        let file = folder.appendingPathComponent("venue-signing.key")
        guard let raw = FileManager.default.contents(atPath: file.path),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw KeyError.unreadable(file.path) }
        return key
    }

    /// The venue's signing key, made (and kept, readable by its owner only) if there is none.
    public static func loadOrCreateSigningKey(dataDirectory: URL) throws -> Curve25519.Signing.PrivateKey {
        let folder = folder(in: dataDirectory)
        let file = folder.appendingPathComponent("venue-signing.key")
        if FileManager.default.fileExists(atPath: file.path) { return try signingKey(in: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = Curve25519.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: file.path, contents: key.rawRepresentation, attributes: [.posixPermissions: 0o600])
        else { throw KeyError.cannotWrite(file.path) }
        return key
    }
}
