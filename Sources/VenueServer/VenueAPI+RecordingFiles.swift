import CameraKit
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VenueStore

/// A range of a room camera's recording downloaded as one MP4, and recordings made by other means brought to the
/// venue (手动上传). Both run libav on a thread of their own (`LibAVThread`).
extension VenueAPI {
    /// The longest range one download may cover.
    static let longestExport: TimeInterval = 4 * 3600
    /// The largest recording an admin may upload.
    static let largestUpload = 8 * 1024 * 1024 * 1024
    /// Downloads are kept this long (so that a browser may resume one), then deleted by the next download.
    static let exportsKeptFor: TimeInterval = 3600

    var exportsFolder: URL { recorder.settings.folder.appendingPathComponent(".exports", isDirectory: true) }

    /// `cameraId`, `from` and `to` (milliseconds): that camera's video in the range, as one MP4 (stream copy; it
    /// starts at the keyframe at or before `from`, gaps stay gaps in time).
    @Sendable func exportRecording(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let roomID = try context.parameters.require("roomId")
        _ = try await staff(request, room: Room.ID(roomID))
        let query = request.uri.queryParameters
        guard let cameraID = query["cameraId"].map(String.init), !cameraID.isEmpty else {
            throw StoreError.invalidRequest("缺少 cameraId / cameraId is missing")
        }
        guard let fromMillis = query["from"].flatMap({ Int64($0) }), let toMillis = query["to"].flatMap({ Int64($0) }) else {
            throw StoreError.invalidRequest("from 和 to 须为毫秒时间 / from and to must be times in milliseconds")
        }
        let from = Date(millis: fromMillis), to = Date(millis: toMillis)
        guard from < to else { throw StoreError.invalidRequest("from 须早于 to / from must be before to") }
        guard to.timeIntervalSince(from) <= Self.longestExport else {
            throw StoreError.invalidRequest("一次最多下载 4 小时 / one download covers at most 4 hours")
        }
        let timeline = try await database.recordingTimeline(roomID: roomID, from: from, to: to)
        let folder = recorder.settings.folder.appendingPathComponent(cameraID, isDirectory: true)
        let parts = timeline.segments.filter { $0.cameraId == cameraID }.map {
            ExportPart(file: folder.appendingPathComponent($0.fileName), startedAt: Date(millis: $0.startedAt))
        }
        guard !parts.isEmpty else {
            throw StoreError.notFound("这段时间的录像 / a recording of this camera in this time range")
        }
        try FileManager.default.createDirectory(at: exportsFolder, withIntermediateDirectories: true)
        sweepExports()
        let output = exportsFolder.appendingPathComponent("\(UUID().uuidString.lowercased()).mp4")
        let exported: ExportedRecording
        do {
            exported = try await LibAVThread.run(named: "recording-export") {
                Result<ExportedRecording, any Error> { try RecordingExport.write(parts: parts, from: from, to: to, output: output) }
            }.get()
        } catch let error as CameraError {
            return ErrorMiddleware<VenueRequestContext>.response(code: error.code, message: error.message, status: .unprocessableContent)
        }
        let name = "\(roomID)-\(cameraID)-\(Self.fileStamp(exported.startedAt)).mp4"
        let headers: HTTPFields = [
            .contentType: "video/mp4", .contentLength: String(exported.bytes), .cacheControl: "private, no-store",
            .contentDisposition: "attachment; filename=\"\(name)\"",
            HTTPField.Name("X-Recording-Started-At")!: String(exported.startedAt.millis),
            HTTPField.Name("X-Recording-Duration")!: String(format: "%.3f", exported.duration),
        ]
        return Response(status: .ok, headers: headers, body: try await FileIO().loadFile(path: output.path, context: context))
    }

    /// Downloads older than `exportsKeptFor` go.
    private func sweepExports(now: Date = Date()) {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: exportsFolder.path)) ?? [] {
            let file = exportsFolder.appendingPathComponent(name)
            let modified = (try? manager.attributesOfItem(atPath: file.path)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(modified) > Self.exportsKeptFor { try? manager.removeItem(at: file) }
        }
    }

    struct UploadedRecording: Codable, Sendable {
        var cameraId: String
        var video: ImportedVideoView
        var segments: [SegmentView]
    }

    struct ImportedVideoView: Codable, Sendable {
        var container: String
        var codec: String
        var width: Int
        var height: Int
        var duration: Double
    }

    /// A recording made by other means (a camera's own card, a separate recorder): the body is the video file;
    /// `startedAt` (milliseconds) is the wall clock of its first picture; `cameraId` (optional) one of the room's
    /// cameras it came from, otherwise it is filed under the room's uploads. It is checked with libav (refused with
    /// the reason if it is not a playable H.264/H.265 video), cut into segments like the recorder's and stored as
    /// that room's recording at that time. Audited. Nothing is kept of a refused upload.
    @Sendable func uploadRecording(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        let roomID = try context.parameters.require("roomId")
        let query = request.uri.queryParameters
        guard let startedMillis = query["startedAt"].flatMap({ Int64($0) }), startedMillis > 0 else {
            throw StoreError.invalidRequest("startedAt 须为录像开始的毫秒时间 / startedAt must be the recording's start in milliseconds")
        }
        let startedAt = Date(millis: startedMillis)
        guard startedAt < Date().addingTimeInterval(60) else {
            throw StoreError.invalidRequest("录像开始时间不能在将来 / the recording cannot start in the future")
        }
        guard try await database.roomExists(roomID) else {
            throw StoreError.notFound("考场 \(roomID) / room \(roomID)")
        }
        let cameraID: String
        if let chosen = query["cameraId"].map(String.init), !chosen.isEmpty {
            let camera = try await database.camera(id: chosen)
            guard camera.roomId == roomID else {
                throw StoreError.invalidRequest("摄像头 \(chosen) 不属于考场 \(roomID) / camera \(chosen) is not in room \(roomID)")
            }
            cameraID = chosen
        } else {
            cameraID = Self.uploadsCameraID(roomID)
        }

        // The upload is held twice while it is cut (the file, then its segments): it may not take the disk below the
        // floor the recorder keeps, or the recorder would start deleting the cameras' own recordings to make room.
        let room = DiskRoom(folder: recorder.settings.folder, floor: recorder.settings.freeSpaceFloor)
        let staging = incoming.appendingPathComponent("recording-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        let upload = staging.appendingPathComponent("upload")
        do {
            if let length = request.headers[.contentLength].flatMap(Int64.init) { try room.check(holding: 2 * length) }
            try await Self.store(
                request.body, at: upload, limit: Self.largestUpload,
                tooLarge: StoreError.invalidRequest("录像文件超过 8 GB / the recording is larger than 8 GB"),
                whileWriting: { written in try room.check(holding: Int64(written)) })
        } catch let full as DiskRoom.Full {
            return full.response
        }

        let folder = recorder.settings.folder.appendingPathComponent(cameraID, isDirectory: true)
        let cut = staging.appendingPathComponent("segments", isDirectory: true)
        let imported: ImportedRecording
        do {
            let segmentSeconds = recorder.settings.segmentSeconds
            imported = try await LibAVThread.run(named: "recording-import") {
                Result<ImportedRecording, any Error> {
                    try RecordingImport.importFile(upload, startedAt: startedAt, folder: cut, segmentSeconds: segmentSeconds)
                }
            }.get()
        } catch let error as CameraError {
            return ErrorMiddleware<VenueRequestContext>.response(code: error.code, message: error.message, status: .unprocessableContent)
        }
        // Files first, then their rows in one transaction: a crash in between leaves files no row names, never a
        // row without its file.
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (video, segments) = (imported.video, imported.segments)
        for segment in segments {
            try FileManager.default.moveItem(
                at: cut.appendingPathComponent(segment.fileName), to: folder.appendingPathComponent(segment.fileName))
        }
        try RecordingFolder.sync(folder)
        let stored = try await database.recordUploadedSegments(
            by: admin, cameraID: cameraID, roomID: roomID, segments.map(SegmentInput.init),
            detail: ["container": video.container, "codec": video.codec, "size": "\(video.width)x\(video.height)"])
        var response = try JSONResponse(
            UploadedRecording(
                cameraId: cameraID,
                video: ImportedVideoView(
                    container: video.container, codec: video.codec, width: video.width, height: video.height, duration: video.duration),
                segments: stored)
        ).response(from: request, context: context)
        response.status = .created
        return response
    }

    /// Room on the recordings' disk for an upload: what it needs must leave `floor` free (`RecordingSettings.freeSpaceFloor`).
    struct DiskRoom: Sendable {
        let folder: URL
        let floor: Int64

        struct Full: Error {
            let free: Int64
            let floor: Int64
            let needed: Int64

            var response: Response {
                ErrorMiddleware<VenueRequestContext>.response(
                    code: "venue_disk_full",
                    message: Message(
                        zh: "考点磁盘空间不足，无法接收这段录像：剩余 \(RecorderService.gigabytes(free))，需 \(RecorderService.gigabytes(needed))，"
                            + "另须为摄像头录像保留 \(RecorderService.gigabytes(floor))。已上传的部分已删除；请先导出并清理旧录像。",
                        en: "The venue's disk has too little room for this recording: \(RecorderService.gigabytes(free)) free, "
                            + "\(RecorderService.gigabytes(needed)) needed, and \(RecorderService.gigabytes(floor)) kept for the cameras' recordings. "
                            + "Nothing of it was kept; export and clear old recordings first."),
                    status: .init(code: 507, reasonPhrase: "Insufficient Storage"))
            }
        }

        /// Throws when the disk has no room for `held` bytes more (what is written of the upload, again, while it is
        /// cut; or the whole upload twice, told by its Content-Length).
        func check(holding held: Int64) throws {
            guard let free = RecorderService.freeSpace(folder) else { return }
            if free - held < floor { throw Full(free: free, floor: floor, needed: held) }
        }

    }

    /// Where a room's uploaded recordings are filed when they come from none of its registered cameras.
    static func uploadsCameraID(_ roomID: String) -> String { "upload-\(roomID)" }

    /// Streams a request body into `file`, refusing more than `limit` bytes with `tooLarge` (the partial file is
    /// removed) and an empty body. `whileWriting` is told the bytes written so far every 64 MiB and may stop the
    /// upload by throwing.
    static func store(
        _ body: RequestBody, at file: URL, limit: Int, tooLarge: any Error, whileWriting: (Int) throws -> Void = { _ in }
    ) async throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw StoreError.invalidRequest("the upload could not be stored")
        }
        let handle = try FileHandle(forWritingTo: file)
        var total = 0
        var checked = 0
        do {
            try whileWriting(0)
            for try await buffer in body {
                total += buffer.readableBytes
                guard total <= limit else { throw tooLarge }
                try handle.write(contentsOf: Data(buffer.readableBytesView))
                if total - checked >= 64 << 20 {
                    checked = total
                    try whileWriting(total)
                }
            }
            try whileWriting(total)
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        guard total > 0 else { throw StoreError.invalidRequest("上传的文件是空的 / the uploaded file is empty") }
    }

    static func fileStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
