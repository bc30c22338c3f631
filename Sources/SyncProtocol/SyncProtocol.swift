import Crypto
import Foundation

/// What the venue and the central office say to each other when the venue reports upstream: batches of outbox items,
/// their receipts, and the upload sessions for video. Both sides build and check these with the same code.
///
/// Everything the venue sends is signed with its Ed25519 key (registered at enrolment). The signature covers the
/// exact body bytes, prefixed with a domain string so that a signature made for one purpose never passes for another.
public enum SyncSignature {
    /// The header carrying the base64 signature of the request body.
    public static let header = "Kaodian-Signature"

    public enum Purpose: String, Sendable {
        case batch = "kaodian-sync-batch-v1"
        case session = "kaodian-sync-session-v1"
        case bundle = "kaodian-sync-bundle-v1"
    }

    static func message(_ body: Data, purpose: Purpose) -> Data {
        Data((purpose.rawValue + "\n").utf8) + body
    }

    public static func sign(_ body: Data, purpose: Purpose, key: Curve25519.Signing.PrivateKey) throws -> String {
        try key.signature(for: message(body, purpose: purpose)).base64EncodedString()
    }

    /// True when `signature` (base64) is the venue's signature of `body` for `purpose`.
    public static func isValid(_ signature: String, of body: Data, purpose: Purpose, publicKey: Data) -> Bool {
        guard let raw = Data(base64Encoded: signature), raw.count == 64,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(raw, for: message(body, purpose: purpose))
    }
}

/// One thing the venue reports: an id fixed at the venue when the item was written (before its first send), what
/// kind of record it is, and the record as JSON text exactly as the venue stored it, with that text's SHA-256.
public struct SyncItem: Codable, Sendable, Equatable {
    public var id: String
    /// The venue's outbox order: a later item about the same record supersedes an earlier one.
    public var seq: Int64
    public var kind: String
    public var sittingId: String?
    /// Unix milliseconds, venue time.
    public var createdAt: Int64
    public var payload: String
    public var sha256: String

    public init(id: String, seq: Int64, kind: String, sittingId: String?, createdAt: Int64, payload: String) {
        self.id = id
        self.seq = seq
        self.kind = kind
        self.sittingId = sittingId
        self.createdAt = createdAt
        self.payload = payload
        self.sha256 = SyncDigest.hex(Data(payload.utf8))
    }
}

/// A bounded set of items, signed as a whole. `batchId` is new for every send (a retry after a cut is a new batch
/// with the same items), so a batch seen twice is a replay.
public struct SyncBatch: Codable, Sendable {
    public var batchId: String
    public var venueId: String
    public var createdAt: Date
    public var items: [SyncItem]

    public init(batchId: String = UUID().uuidString.lowercased(), venueId: String, createdAt: Date = Date(), items: [SyncItem]) {
        self.batchId = batchId
        self.venueId = venueId
        self.createdAt = createdAt
        self.items = items
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// Central's answer to a batch it accepted: which items it stored now and which it already held with the same
/// payload. Both count as received; the venue marks them acknowledged.
public struct SyncReceipt: Codable, Sendable, Equatable {
    public var batchId: String
    public var stored: [String]
    public var duplicates: [String]

    public init(batchId: String, stored: [String], duplicates: [String]) {
        self.batchId = batchId
        self.stored = stored
        self.duplicates = duplicates
    }
}

/// The error body central answers a refused batch with. For `item_conflict` it names the items whose payload
/// differs from what central already holds under their id; for `item_unusable` the items central can never take
/// (malformed, or not fitting its tables), each with the reason. Either way the venue sets those items aside for a
/// person and sends the rest: one bad item does not hold back the results behind it.
public struct SyncRefusal: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var messageZh: String
        public var conflicts: [String]?
        public var unusable: [UnusableItem]?

        public init(code: String, message: String, messageZh: String, conflicts: [String]? = nil, unusable: [UnusableItem]? = nil) {
            self.code = code
            self.message = message
            self.messageZh = messageZh
            self.conflicts = conflicts
            self.unusable = unusable
        }
    }
    public var error: Detail

    public init(error: Detail) { self.error = error }

    /// The items the refusal names, with the reason to keep beside each (for the venue's set-aside list).
    public var namedItems: [UnusableItem] {
        if let unusable = error.unusable, !unusable.isEmpty { return unusable }
        return (error.conflicts ?? []).map { UnusableItem(id: $0, message: error.message, messageZh: error.messageZh) }
    }
}

/// One item of a batch that central cannot take, and why.
public struct UnusableItem: Codable, Sendable, Hashable {
    public var id: String
    public var message: String
    public var messageZh: String

    public init(id: String, message: String, messageZh: String) {
        self.id = id
        self.message = message
        self.messageZh = messageZh
    }
}

/// A request for an upload session: signed like a batch, its `requestId` used once.
public struct SyncSessionRequest: Codable, Sendable {
    public var requestId: String
    public var venueId: String
    public var createdAt: Date

    public init(requestId: String = UUID().uuidString.lowercased(), venueId: String, createdAt: Date = Date()) {
        self.requestId = requestId
        self.venueId = venueId
        self.createdAt = createdAt
    }
}

/// A bearer token for the venue's video uploads (`Authorization: Bearer …`), valid until `expiresAt`.
public struct SyncSession: Codable, Sendable {
    public var token: String
    public var expiresAt: Date

    public init(token: String, expiresAt: Date) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// What a USB export holds (`bundle.json`, signed in `bundle.json.sig`): the venue, when it was written, its batches
/// (`batches/NNNN.json`, each with its `.sig`, signed like online batches) and the video files not yet uploaded
/// (`videos/<camera>/<file>`), each with the key of its segment and its SHA-256.
public struct SyncBundle: Codable, Sendable {
    public struct Video: Codable, Sendable, Equatable {
        public var cameraId: String
        public var session: String
        public var sequence: Int
        public var path: String
        public var bytes: Int64
        public var sha256: String

        public init(cameraId: String, session: String, sequence: Int, path: String, bytes: Int64, sha256: String) {
            self.cameraId = cameraId
            self.session = session
            self.sequence = sequence
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }
    }
    public static let format = "kaodian-sync-bundle-1"
    public var format: String
    public var venueId: String
    public var createdAt: Date
    public var batches: [String]
    public var items: Int
    public var videos: [Video]

    public init(venueId: String, createdAt: Date, batches: [String], items: Int, videos: [Video]) {
        self.format = Self.format
        self.venueId = venueId
        self.createdAt = createdAt
        self.batches = batches
        self.items = items
        self.videos = videos
    }
}

public enum SyncDigest {
    public static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
