import Crypto
import Foundation

/// How the venue's recordings travel to the central office: resumable uploads (tus 1.0.0 with the creation,
/// checksum, termination and expiration extensions) whose ids the venue chooses. Both sides build and read the
/// headers and the metadata with this code.
public enum TusProtocol {
    public static let version = "1.0.0"
    public static let extensions = "creation,checksum,termination,expiration"
    /// The algorithms central checks `Upload-Checksum` with; the venue sends sha256 (tuspy sends sha1).
    public static let checksumAlgorithms = ["sha256", "sha1"]
    /// The body type of a PATCH.
    public static let chunkContentType = "application/offset+octet-stream"
    /// Where uploads are created; an upload lives at `uploadsPath + "/" + uploadId`.
    public static let uploadsPath = "/api/uploads"

    public enum Header {
        public static let resumable = "Tus-Resumable"
        public static let version = "Tus-Version"
        public static let extensions = "Tus-Extension"
        public static let maxSize = "Tus-Max-Size"
        public static let checksumAlgorithm = "Tus-Checksum-Algorithm"
        public static let offset = "Upload-Offset"
        public static let length = "Upload-Length"
        public static let metadata = "Upload-Metadata"
        public static let checksum = "Upload-Checksum"
        public static let expires = "Upload-Expires"
    }

    /// The status central answers a chunk whose `Upload-Checksum` does not match (tus checksum extension).
    public static let checksumMismatchStatus = 460

    /// `Upload-Expires` is an HTTP date (RFC 9110, IMF-fixdate).
    public static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    public static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }

    /// True for ids that are safe as a file or URL path component: 1 to 64 letters, digits, '-', '_' or '.', not
    /// beginning with '.'. Upload ids, camera ids and recording sessions all follow it.
    public static func isSafeID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy {
                ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "-_.".unicodeScalars.contains($0)
            }
    }

    /// True for a SHA-256 written as 64 lower-case hexadecimal digits.
    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// Which recording segment an upload carries: the key of its `segment` row (camera, recording session, sequence).
public struct RecordingSegmentKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var cameraId: String
    public var session: String
    public var sequence: Int

    public init(cameraId: String, session: String, sequence: Int) {
        self.cameraId = cameraId
        self.session = session
        self.sequence = sequence
    }

    public var description: String { "\(cameraId)/\(session)/\(sequence)" }
}

/// What a venue says about an upload when it creates it (`Upload-Metadata`): its own id for the upload, the
/// segment, and the SHA-256 of the whole file. Central compares these with the segment's row.
public struct UploadMetadata: Sendable, Equatable {
    public var uploadId: String
    public var segment: RecordingSegmentKey
    /// Hexadecimal, lower case.
    public var sha256: String

    public init(uploadId: String, segment: RecordingSegmentKey, sha256: String) {
        self.uploadId = uploadId
        self.segment = segment
        self.sha256 = sha256
    }

    /// The `Upload-Metadata` header: `key base64(value)` pairs separated by commas.
    public var header: String {
        [
            ("uploadId", uploadId), ("cameraId", segment.cameraId), ("session", segment.session),
            ("sequence", String(segment.sequence)), ("sha256", sha256),
        ].map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ",")
    }

    /// Reads the header; says in words what is wrong with it.
    public static func parse(_ header: String) -> Result<UploadMetadata, UploadMetadataError> {
        var pairs: [String: String] = [:]
        for element in header.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = element.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first, parts.count <= 2 else { return .failure(.init("a pair is not \"key base64-value\"")) }
            guard pairs[String(key)] == nil else { return .failure(.init("the key \(key) appears twice")) }
            if parts.count == 1 {
                pairs[String(key)] = ""
                continue
            }
            guard let data = Data(base64Encoded: String(parts[1])), let value = String(data: data, encoding: .utf8) else {
                return .failure(.init("the value of \(key) is not base64 of UTF-8 text"))
            }
            pairs[String(key)] = value
        }
        for key in ["uploadId", "cameraId", "session", "sequence", "sha256"] where (pairs[key] ?? "").isEmpty {
            return .failure(.init("\(key) is missing (uploadId, cameraId, session, sequence and sha256 are needed)"))
        }
        let uploadId = pairs["uploadId"]!, camera = pairs["cameraId"]!, session = pairs["session"]!
        for (name, value) in [("uploadId", uploadId), ("cameraId", camera), ("session", session)] where !TusProtocol.isSafeID(value) {
            return .failure(.init("\(name) \"\(value)\" must have 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"))
        }
        guard let sequence = Int(pairs["sequence"]!), sequence >= 0, sequence <= Int(Int32.max) else {
            return .failure(.init("sequence must be a whole number from 0"))
        }
        let sha = pairs["sha256"]!.lowercased()
        guard TusProtocol.isSHA256Hex(sha) else { return .failure(.init("sha256 must be 64 hexadecimal digits")) }
        return .success(
            UploadMetadata(
                uploadId: uploadId, segment: RecordingSegmentKey(cameraId: camera, session: session, sequence: sequence), sha256: sha))
    }
}

public struct UploadMetadataError: Error, Sendable, Equatable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// `Upload-Checksum: <algorithm> <base64 digest>` of one chunk.
public struct UploadChecksum: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256, sha1
    }

    public var algorithm: Algorithm
    public var digest: Data

    public init(algorithm: Algorithm, digest: Data) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// The checksum of `bytes` with `algorithm`.
    public init(of bytes: some DataProtocol, algorithm: Algorithm = .sha256) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: digest = Data(SHA256.hash(data: bytes))
        case .sha1: digest = Data(Insecure.SHA1.hash(data: bytes))
        }
    }

    public var header: String { "\(algorithm.rawValue) \(digest.base64EncodedString())" }

    public enum ParseError: Error, Sendable, Equatable {
        case malformed
        case unsupported(String)
    }

    public static func parse(_ header: String) -> Result<UploadChecksum, ParseError> {
        let parts = header.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return .failure(.malformed) }
        guard let algorithm = Algorithm(rawValue: parts[0].lowercased()) else { return .failure(.unsupported(String(parts[0]))) }
        let size = algorithm == .sha256 ? 32 : 20
        guard let digest = Data(base64Encoded: String(parts[1])), digest.count == size else { return .failure(.malformed) }
        return .success(UploadChecksum(algorithm: algorithm, digest: digest))
    }

    /// True when `bytes` have this checksum.
    public func matches(_ bytes: some DataProtocol) -> Bool {
        UploadChecksum(of: bytes, algorithm: algorithm).digest == digest
    }
}
