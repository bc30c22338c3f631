import Crypto
import Foundation
import NIOCore
import SyncProtocol

#if canImport(CoreFoundation)
    import CoreFoundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// An upload in progress: the venue it comes from and the id the venue gave it.
public struct PartialUploadRef: Sendable, Hashable, CustomStringConvertible {
    public var venueId: String
    public var uploadId: String

    public init(venueId: String, uploadId: String) {
        self.venueId = venueId
        self.uploadId = uploadId
    }

    public var description: String { "\(venueId)/\(uploadId)" }
}

/// A received recording: the venue and the segment's key.
public struct RecordingRef: Sendable, Hashable, CustomStringConvertible {
    public var venueId: String
    public var segment: RecordingSegmentKey

    public init(venueId: String, segment: RecordingSegmentKey) {
        self.venueId = venueId
        self.segment = segment
    }

    public var description: String { "\(venueId)/\(segment)" }
}

/// Where central keeps the venues' video: partial uploads while they arrive, and finished recordings at a place
/// derived from venue, camera, session and sequence. The database decides what is acknowledged; the storage only
/// holds bytes, and every write is durable when the call returns. The file system is the first implementation; an
/// object store can follow (a partial upload as a multipart upload, publishing as its completion).
public protocol RecordingStorage: Sendable {
    /// Makes the partial upload empty (creating it, or discarding whatever it held).
    func createPartial(_ upload: PartialUploadRef) async throws
    /// How many bytes the partial upload holds, or nil when there is none.
    func partialLength(_ upload: PartialUploadRef) async throws -> Int64?
    /// Drops anything past `offset` (bytes written but never acknowledged), writes `bytes` at `offset` and makes
    /// them durable (fsync) before returning.
    func write(_ bytes: ByteBuffer, at offset: Int64, to upload: PartialUploadRef) async throws
    /// Cuts the partial upload to `length` bytes, durably.
    func truncatePartial(_ upload: PartialUploadRef, to length: Int64) async throws
    /// SHA-256 (lower-case hex) of the first `length` bytes of the partial upload, read as a stream.
    func sha256(of upload: PartialUploadRef, length: Int64) async throws -> String
    /// Makes the partial upload's content the recording's, durably, replacing any earlier copy; the partial upload
    /// stays until `deletePartial`.
    func publish(_ upload: PartialUploadRef, as recording: RecordingRef) async throws
    func deletePartial(_ upload: PartialUploadRef) async throws
    func deleteRecording(_ recording: RecordingRef) async throws
    /// The recording's size, or nil when central does not hold it.
    func recordingLength(_ recording: RecordingRef) async throws -> Int64?
    /// The bytes still free for new data, or nil when the storage cannot tell (then no upload is refused for space).
    func freeBytes() async throws -> Int64?
}

/// A storage failure, with the path and the system's reason.
public struct RecordingStorageError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// Recordings on a local (or mounted) file system:
///
/// ```
/// <root>/partial/<venue>/<upload id>.part                         uploads in progress
/// <root>/recordings/<venue>/<camera>/<session>/<sequence, 6 digits>.mp4   finished recordings
/// ```
///
/// Every write is followed by `fsync` of the file, and every new or renamed name by `fsync` of its folder.
/// Blocking calls run on Dispatch's global queue, never on Swift's cooperative threads.
public struct FileRecordingStorage: RecordingStorage {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public func partialPath(_ upload: PartialUploadRef) throws -> String {
        try Self.check(upload.venueId, upload.uploadId)
        return root.appendingPathComponent("partial").appendingPathComponent(upload.venueId)
            .appendingPathComponent(upload.uploadId + ".part").path
    }

    public func recordingPath(_ recording: RecordingRef) throws -> String {
        try Self.check(recording.venueId, recording.segment.cameraId, recording.segment.session)
        return root.appendingPathComponent("recordings").appendingPathComponent(recording.venueId)
            .appendingPathComponent(recording.segment.cameraId).appendingPathComponent(recording.segment.session)
            .appendingPathComponent(String(format: "%06d.mp4", recording.segment.sequence)).path
    }

    static func check(_ components: String...) throws {
        for component in components where !TusProtocol.isSafeID(component) {
            throw RecordingStorageError(operation: "unsafe path component", path: component, errno: EINVAL)
        }
    }

    public func createPartial(_ upload: PartialUploadRef) async throws {
        let path = try partialPath(upload)
        try await Self.blocking {
            try Self.makeFolders(for: path)
            let fd = try Self.open(path, O_WRONLY | O_CREAT)
            defer { close(fd) }
            try Self.call("truncate", path) { ftruncate(fd, 0) }
            try Self.call("fsync", path) { fsync(fd) }
            try Self.syncFolder(of: path)
        }
    }

    /// What the file system holding `root` has free for an unprivileged writer (the nearest existing folder above
    /// `root` answers before the first upload made it).
    public func freeBytes() async throws -> Int64? {
        let root = root.path
        return try await Self.blocking {
            var path = root
            while (try? Self.length(path)) == nil, path != "/", !path.isEmpty { path = (path as NSString).deletingLastPathComponent }
            var info = statvfs()
            try Self.call("statvfs", path) { statvfs(path, &info) }
            return Int64(info.f_bavail) * Int64(info.f_frsize)
        }
    }

    public func partialLength(_ upload: PartialUploadRef) async throws -> Int64? {
        let path = try partialPath(upload)
        return try await Self.blocking { try Self.length(path) }
    }

    public func write(_ bytes: ByteBuffer, at offset: Int64, to upload: PartialUploadRef) async throws {
        let path = try partialPath(upload)
        try await Self.blocking {
            let fd = try Self.open(path, O_WRONLY)
            defer { close(fd) }
            try Self.call("truncate", path) { ftruncate(fd, off_t(offset)) }
            var position = offset
            try bytes.withUnsafeReadableBytes { raw in
                var done = 0
                while done < raw.count {
                    let written = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(position))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw RecordingStorageError(operation: "write", path: path, errno: errno)
                    }
                    done += written
                    position += Int64(written)
                }
            }
            try Self.call("fsync", path) { fsync(fd) }
        }
    }

    public func truncatePartial(_ upload: PartialUploadRef, to length: Int64) async throws {
        let path = try partialPath(upload)
        try await Self.blocking {
            let fd = try Self.open(path, O_WRONLY)
            defer { close(fd) }
            try Self.call("truncate", path) { ftruncate(fd, off_t(length)) }
            try Self.call("fsync", path) { fsync(fd) }
        }
    }

    public func sha256(of upload: PartialUploadRef, length: Int64) async throws -> String {
        let path = try partialPath(upload)
        return try await Self.blocking {
            let fd = try Self.open(path, O_RDONLY)
            defer { close(fd) }
            var hasher = SHA256()
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var remaining = length
            while remaining > 0 {
                let want = Int(min(Int64(buffer.count), remaining))
                let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, want) }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw RecordingStorageError(operation: "read", path: path, errno: errno)
                }
                if got == 0 { throw RecordingStorageError(operation: "read (file shorter than expected)", path: path, errno: EIO) }
                buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
                remaining -= Int64(got)
            }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    public func publish(_ upload: PartialUploadRef, as recording: RecordingRef) async throws {
        let source = try partialPath(upload)
        let target = try recordingPath(recording)
        try await Self.blocking {
            try Self.makeFolders(for: target)
            // A second name for the same data under a temporary name, then an atomic rename over any earlier copy.
            let temporary = target + ".incoming-\(UUID().uuidString.lowercased())"
            try Self.call("link", temporary) { link(source, temporary) }
            do {
                try Self.call("rename", target) { rename(temporary, target) }
            } catch {
                unlink(temporary)
                throw error
            }
            try Self.syncFolder(of: target)
        }
    }

    public func deletePartial(_ upload: PartialUploadRef) async throws {
        let path = try partialPath(upload)
        try await Self.blocking { try Self.remove(path) }
    }

    public func deleteRecording(_ recording: RecordingRef) async throws {
        let path = try recordingPath(recording)
        try await Self.blocking { try Self.remove(path) }
    }

    public func recordingLength(_ recording: RecordingRef) async throws -> Int64? {
        let path = try recordingPath(recording)
        return try await Self.blocking { try Self.length(path) }
    }

    // MARK: POSIX helpers

    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func call(_ operation: String, _ path: String, _ body: () -> Int32) throws {
        while true {
            if body() == 0 { return }
            if errno == EINTR { continue }
            throw RecordingStorageError(operation: operation, path: path, errno: errno)
        }
    }

    static func open(_ path: String, _ flags: Int32) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, 0o640)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw RecordingStorageError(operation: "open", path: path, errno: errno)
        }
    }

    static func length(_ path: String) throws -> Int64? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw RecordingStorageError(operation: "stat", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 {
            if errno == ENOENT { return }
            throw RecordingStorageError(operation: "delete", path: path, errno: errno)
        }
        try syncFolder(of: path)
    }

    /// Creates the folders above `path` that are missing, each made durable in its parent.
    static func makeFolders(for path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        var missing: [String] = []
        var current = folder
        while !current.isEmpty, current != "/", (try? length(current)) == nil {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for folder in missing.reversed() {
            if mkdir(folder, 0o750) != 0, errno != EEXIST {
                throw RecordingStorageError(operation: "create folder", path: folder, errno: errno)
            }
            try syncFolder(of: folder)
        }
    }

    static func syncFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = try open(folder, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try call("fsync", folder) { fsync(fd) }
    }
}
