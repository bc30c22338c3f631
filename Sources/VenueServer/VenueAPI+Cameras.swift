import CameraKit
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import VenueStore

extension CameraError: CodedError {
    public var message: Message { Message(zh: messageZh, en: messageEn) }
}

/// The room cameras the venue admin registers, and the "test" that opens a camera's stream.
extension VenueAPI {
    struct NewCamera: Decodable {
        var roomId: String
        var name: String
        var url: String
        var enabled: Bool?
    }

    struct CameraUpdate: Decodable {
        var roomId: String?
        var name: String?
        /// A new URL; absent keeps the old one and its password (the page never has it).
        var url: String?
        var enabled: Bool?
    }

    @Sendable func cameraList(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[CameraView]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.cameras())
    }

    @Sendable func createCamera(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        let body = try await request.decode(as: NewCamera.self, context: context)
        let url = try CameraURL(body.url.trimmingCharacters(in: .whitespaces))
        let view = try await database.createCamera(
            by: admin,
            CameraInput(roomID: body.roomId, name: body.name, url: url.string, maskedURL: url.masked, enabled: body.enabled ?? true))
        recorder.camerasChanged()
        var response = try JSONResponse(view).response(from: request, context: context)
        response.status = .created
        return response
    }

    @Sendable func updateCamera(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<CameraView> {
        let admin = try await staff(request, roles: [.admin])
        let id = try context.parameters.require("cameraId")
        let body = try await request.decode(as: CameraUpdate.self, context: context)
        let url = try body.url.map { try CameraURL($0.trimmingCharacters(in: .whitespaces)) }
        let view = try await database.updateCamera(
            by: admin, id: id,
            CameraChange(roomID: body.roomId, name: body.name, url: url.map { ($0.string, $0.masked) }, enabled: body.enabled))
        recorder.camerasChanged()
        return JSONResponse(view)
    }

    @Sendable func deleteCamera(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        try await database.deleteCamera(by: admin, id: try context.parameters.require("cameraId"))
        recorder.camerasChanged()
        return Response(status: .noContent)
    }

    /// Opens the camera's stream and reports codec, size, frame rate and bitrate, or the reason it failed; the
    /// result is kept with the camera. A failing camera is a result (200), not an error of the request.
    @Sendable func testCamera(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<CameraView> {
        let admin = try await staff(request, roles: [.admin])
        let id = try context.parameters.require("cameraId")
        let url = try await database.cameraURL(id: id)
        let test: CameraTest
        do throws(CameraError) {
            let info = try await CameraProbe(logger: logger).probe(url: url, timeout: .seconds(8))
            test = CameraTest(
                at: Date().millis, ok: true, codec: info.codec, width: info.width, height: info.height,
                framesPerSecond: info.framesPerSecond, bitrate: info.bitrate, hasAudio: info.hasAudio)
        } catch {
            test = CameraTest(at: Date().millis, ok: false, code: error.code, message: error.message)
        }
        return JSONResponse(try await database.recordCameraTest(by: admin, id: id, test))
    }

    struct RecordingModeRequest: Decodable {
        /// `auto` (follow the timetable), `on` or `off`.
        var mode: String
    }

    /// Starts or stops a camera's recording by hand, or gives it back to the timetable (audited).
    @Sendable func setRecordingMode(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<CameraView> {
        let admin = try await staff(request, roles: [.admin])
        let body = try await request.decode(as: RecordingModeRequest.self, context: context)
        let view = try await database.setRecordingMode(by: admin, cameraID: try context.parameters.require("cameraId"), mode: body.mode)
        recorder.camerasChanged()
        return JSONResponse(view)
    }

    struct CameraRecordingView: Codable, Sendable {
        var camera: CameraView
        var recording: CameraRecordingState
        var disk: CameraDiskUse
    }

    /// Every camera with what its recorder is doing and what its recording holds on disk.
    @Sendable func recordingStatus(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[CameraRecordingView]> {
        _ = try await staff(request, roles: [.admin])
        let disk = try await database.recordingDiskUse()
        var views: [CameraRecordingView] = []
        for camera in try await database.cameras() {
            views.append(
                CameraRecordingView(
                    camera: camera, recording: await recorder.state(of: camera.id),
                    disk: disk[camera.id] ?? CameraDiskUse(segments: 0, bytes: 0, lastSegmentEndedAt: nil)))
        }
        return JSONResponse(views)
    }

    /// A room's segments and gaps between `from` and `to` (milliseconds; default: the last 24 hours).
    @Sendable func roomRecordings(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<RecordingTimeline> {
        _ = try await staff(request, room: Room.ID(try context.parameters.require("roomId")))
        let query = request.uri.queryParameters
        let now = Date()
        let to = query["to"].flatMap { Int64($0) }.map(Date.init(millis:)) ?? now
        let from = query["from"].flatMap { Int64($0) }.map(Date.init(millis:)) ?? to.addingTimeInterval(-86400)
        guard from < to else { throw StoreError.invalidRequest("from 须早于 to / from must be before to") }
        return JSONResponse(
            try await database.recordingTimeline(roomID: try context.parameters.require("roomId"), from: from, to: to))
    }

    /// One recorded segment file (fragmented MP4), whole or a byte range (`Range: bytes=a-b`) for seeking.
    @Sendable func recordingFile(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let roomID = try context.parameters.require("roomId")
        _ = try await staff(request, room: Room.ID(roomID))
        let cameraID = try context.parameters.require("cameraId")
        let segment = try await database.segment(cameraID: cameraID, fileName: try context.parameters.require("fileName"))
        // A segment stays with the room it was recorded in, even if its camera has moved since.
        guard segment.roomId == roomID else { throw StoreError.notFound("录像 \(segment.fileName) / the recording \(segment.fileName)") }
        let path = recorder.settings.folder.appendingPathComponent(cameraID).appendingPathComponent(segment.fileName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.notFound("录像文件 \(segment.fileName) / the recording file \(segment.fileName)")
        }
        var headers: HTTPFields = [
            .contentType: "video/mp4", .acceptRanges: "bytes", .cacheControl: "private, max-age=3600",
            .contentDisposition: "inline; filename=\"\(segment.fileName)\"",
        ]
        let fileIO = FileIO()
        if let range = request.headers[.range].flatMap({ Self.byteRange($0, size: segment.bytes) }) {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(segment.bytes)"
            headers[.contentLength] = String(range.count)
            return Response(
                status: .partialContent, headers: headers, body: try await fileIO.loadFile(path: path, range: range, context: context))
        }
        headers[.contentLength] = String(segment.bytes)
        return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: path, context: context))
    }

    /// `bytes=a-b`, `bytes=a-` or `bytes=-n` within a file of `size` bytes; nil for anything else (the whole file).
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard size > 0, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let first = Int(parts[0].trimmingCharacters(in: .whitespaces))
        let last = Int(parts[1].trimmingCharacters(in: .whitespaces))
        switch (first, last) {
        case (let first?, let last?) where first <= last && first < size: return first...min(last, size - 1)
        case (let first?, nil) where first < size: return first...(size - 1)
        case (nil, let count?) where count > 0: return max(0, size - count)...(size - 1)
        default: return nil
        }
    }

    /// The recording alerts: open ones first, then the cleared ones, newest first.
    @Sendable func recordingAlerts(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[RecordingAlertView]> {
        _ = try await staff(request, roles: [.admin])
        return JSONResponse(try await database.recordingAlerts())
    }
}
