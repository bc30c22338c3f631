import ExamCore
import Foundation

/// The signed table of contents of a venue package (`manifest.json`).
public struct Manifest: Codable, Sendable, Hashable {
    public static let formatName = "kaodian-venue-package"
    /// Format versions this build can read.
    public static let supportedVersions: ClosedRange<Int> = 1...3
    /// The version of a package with nothing sealed (readable by every venue).
    public static let currentVersion = 1
    /// The version of a package with sealed papers.
    public static let sealedVersion = 2
    /// The version of a package with skill papers (`skill-papers/`), sealed papers or not.
    public static let skillVersion = 3

    public struct Issuer: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// One file of the package and the digest it must have.
    public struct Part: Codable, Sendable, Hashable {
        public var path: String
        public var sha256: String
        public var bytes: Int
        public init(path: String, sha256: String, bytes: Int) {
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

    /// A sealed sitting's paper: its questions and the paper travel encrypted in `part` (version 2).
    public struct Sealed: Codable, Sendable, Hashable {
        public var sitting: Sitting.ID
        public var paper: Paper.ID
        public var part: String
        public init(sitting: Sitting.ID, paper: Paper.ID, part: String) {
            self.sitting = sitting
            self.paper = paper
            self.part = part
        }
    }

    public var format: String
    public var formatVersion: Int
    public var packageID: String
    public var issuedAt: Date
    public var issuer: Issuer
    public var venue: Venue
    public var sittings: [Sitting]
    public var parts: [Part]
    /// Sealed papers (version 2); absent when nothing is sealed.
    public var sealed: [Sealed]?

    public init(
        packageID: String, issuedAt: Date, issuer: Issuer, venue: Venue, sittings: [Sitting], parts: [Part],
        sealed: [Sealed] = [], skillPapers: Bool = false
    ) {
        self.format = Self.formatName
        self.formatVersion = skillPapers ? Self.skillVersion : sealed.isEmpty ? Self.currentVersion : Self.sealedVersion
        self.sealed = sealed.isEmpty ? nil : sealed
        self.packageID = packageID
        self.issuedAt = issuedAt
        self.issuer = issuer
        self.venue = venue
        self.sittings = sittings
        self.parts = parts
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion
        case packageID = "packageId"
        case issuedAt, issuer, venue, sittings, parts, sealed
    }
}

/// Fixed part names. Papers live under `papers/`, photos under `photos/`.
public enum PartName {
    public static let manifest = "manifest.json"
    public static let signature = "manifest.sig"
    public static let rooms = "rooms.json"
    public static let candidates = "candidates.json"
    public static let seats = "seats.json"
    public static let staff = "staff.json"
    public static let questions = "questions.json"
    public static func paper(_ id: Paper.ID) -> String { "papers/\(id.rawValue).json" }
    public static func sealed(_ sitting: Sitting.ID) -> String { "sealed/\(sitting.rawValue).bin" }
    public static func skillPaper(_ id: Paper.ID) -> String { "skill-papers/\(id.rawValue).json" }
}

/// JSON as packages write it: ISO-8601 dates, sorted keys, so the same content gives the same bytes.
public enum PackageJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
