import ArgumentParser
import Foundation
import Logging
import SyncClient
import SyncProtocol
import VenueStore

/// `venue export DIR`: when there is no link at all, everything not yet acknowledged by the central office goes onto a
/// USB stick as a signed bundle, with the video files central has not received. Central ingests it with
/// `central import`, with the same idempotency as online: items that later also arrive online are recognised.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write everything not yet acknowledged by the central office to DIR (a USB stick) as a signed bundle.",
        discussion: """
            Writes DIR/kaodian-VENUE-YYYYMMDD-HHMMSS/ with bundle.json (signed: bundle.json.sig), the outbox items in \
            signed batches (batches/NNNN.json and .sig) and the recordings central has not received \
            (videos/CAMERA/FILE). The folder appears only when complete. Nothing is marked as sent: items central \
            already holds are recognised when they arrive again online. The venue must have enrolled (its key signs \
            the bundle). Run it while the server runs or not.
            """)

    @OptionGroup var data: DataDirectoryOption
    @Argument(help: "Where to write the bundle (e.g. the mounted USB stick).") var directory: String
    @Flag(help: "Leave the video files out (results and records only).") var noVideo = false

    func run() async throws {
        var logger = Logger(label: "kaodian.export")
        logger.logLevel = .warning
        guard let settings = try VenueSyncSettings.load(dataDirectory: data.url) else {
            throw ValidationError("this venue has not enrolled with the central office (venue enrol): its key signs the bundle / 本考点尚未在中心注册")
        }
        let database = try VenueDatabase.open(folder: data.url, logger: logger)
        let target = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("\(target.path) is not a folder / 不是文件夹")
        }
        let stamp = Self.stamp(Date())
        let name = "kaodian-\(settings.venueID)-\(stamp)"
        let partial = target.appendingPathComponent(".\(name).partial", isDirectory: true)
        try? FileManager.default.removeItem(at: partial)
        try FileManager.default.createDirectory(at: partial.appendingPathComponent("batches"), withIntermediateDirectories: true)
        do {
            var batches: [String] = []
            var items = 0
            var after: Int64 = 0
            while true {
                let chunk = try await database.unacknowledgedOutbox(after: after, limit: 5000)
                guard let last = chunk.last else { break }
                after = last.seq
                items += chunk.count
                let file = String(format: "batches/%04d.json", batches.count + 1)
                let body = try SyncBatch.encoder.encode(SyncBatch(venueId: settings.venueID, items: chunk))
                try Self.write(body, to: partial.appendingPathComponent(file))
                try Self.write(Data(try SyncSignature.sign(body, purpose: .batch, key: settings.key).utf8),
                               to: partial.appendingPathComponent(file + ".sig"))
                batches.append(file)
            }
            var videos: [SyncBundle.Video] = []
            if !noVideo {
                let recordings = data.url.appendingPathComponent("recordings", isDirectory: true)
                for segment in try await database.segmentsNotUploaded(limit: 1_000_000) {
                    let source = recordings.appendingPathComponent(segment.cameraId).appendingPathComponent(segment.fileName)
                    guard FileManager.default.fileExists(atPath: source.path) else {
                        say("skipped (file missing) 文件缺失，跳过: \(source.path)")
                        continue
                    }
                    let path = "videos/\(segment.cameraId)/\(segment.fileName)"
                    let destination = partial.appendingPathComponent(path)
                    try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try FileManager.default.copyItem(at: source, to: destination)
                    try Self.sync(destination)
                    videos.append(
                        SyncBundle.Video(
                            cameraId: segment.cameraId, session: segment.session, sequence: segment.sequence, path: path,
                            bytes: Int64(segment.bytes), sha256: segment.sha256))
                }
            }
            let bundle = try SyncBatch.encoder.encode(
                SyncBundle(venueId: settings.venueID, createdAt: Date(), batches: batches, items: items, videos: videos))
            try Self.write(bundle, to: partial.appendingPathComponent("bundle.json"))
            try Self.write(Data(try SyncSignature.sign(bundle, purpose: .bundle, key: settings.key).utf8),
                           to: partial.appendingPathComponent("bundle.json.sig"))
            let final = target.appendingPathComponent(name, isDirectory: true)
            try FileManager.default.moveItem(at: partial, to: final)
            try Self.sync(target)
            say("exported 已导出 \(items) items 条记录 in \(batches.count) batches, \(videos.count) videos 段录像 → \(final.path)")
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }

    /// Writes and flushes to the device (a USB stick may be pulled right after).
    static func write(_ data: Data, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: data) else {
            throw ValidationError("cannot write \(url.path) / 无法写入")
        }
        try sync(url)
    }

    static func sync(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("cannot open \(url.path) to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ValidationError("cannot flush \(url.path) to the device") }
    }
}
