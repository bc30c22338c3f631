import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

@testable import VenueServer
@testable import VenueStore

/// Seconds of video and the number of frames ffprobe counts in `file`.
private func probe(_ file: URL) throws -> (duration: Double, frames: Int) {
    let result = try runTool("/usr/bin/ffprobe", [
        "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "format=duration:stream=nb_read_frames",
        "-of", "default=noprint_wrappers=1", file.path,
    ])
    var values: [String: String] = [:]
    for line in result.output.split(separator: "\n") {
        let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
        if pair.count == 2 { values[pair[0]] = pair[1] }
    }
    return (Double(values["duration"] ?? "") ?? -1, Int(values["nb_read_frames"] ?? "") ?? -1)
}

struct UploadedBody: Decodable {
    struct Video: Decodable {
        var container: String
        var codec: String
        var width: Int
        var height: Int
        var duration: Double
    }
    var cameraId: String
    var video: Video
    var segments: [SegmentView]
}

@Suite("Recording files: a range as one MP4, and recordings made by other means", .serialized)
struct RecordingFilesTests {
    @Test func aRangeOfARecordedCameraDownloadsAsOnePlayableMP4() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--bitrate-kbps", "300", "--key-int", "25"]) { camera in
            try await withRecordingVenue { client, _, _, admin in
                let created = try decode(
                    CameraBody.self,
                    try await client.execute(
                        uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                        body: json(["roomId": "R01", "name": "前门", "url": camera.urls[0]])))
                _ = try await client.execute(
                    uri: "/api/admin/cameras/\(created.id)/recording", method: .post, headers: bearer(admin), body: json(["mode": "on"]))
                #expect(try await eventually(40) { try await recordingStatus(client, admin).first?.disk.segments ?? 0 >= 4 })
                _ = try await client.execute(
                    uri: "/api/admin/cameras/\(created.id)/recording", method: .post, headers: bearer(admin), body: json(["mode": "off"]))
                #expect(try await eventually(20) { try await recordingStatus(client, admin).first?.recording.state == "idle" })
                let segments = try decode(
                    RecordingTimeline.self, try await client.execute(uri: "/api/rooms/R01/recordings", method: .get, headers: bearer(admin))
                ).segments.sorted { $0.startedAt < $1.startedAt }
                let first = try #require(segments.first), last = try #require(segments.last)

                // From half a second into the first segment to a second before the end: the file starts at the
                // keyframe before (the first segment's start) and lasts to the end asked for.
                let from = first.startedAt + 500, to = last.endedAt - 1000
                let invigilator = try await staffToken(client, username: "invigilator1")
                let response = try await client.execute(
                    uri: "/api/rooms/R01/recordings/export?cameraId=\(created.id)&from=\(from)&to=\(to)", method: .get,
                    headers: bearer(invigilator))
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "video/mp4")
                #expect(response.headers[.contentDisposition]?.contains("attachment") == true)
                let startedAt = Int64(response.headers[HTTPField.Name("X-Recording-Started-At")!] ?? "") ?? 0
                #expect(abs(startedAt - first.startedAt) <= 40, "starts at the keyframe at or before from")
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).mp4")
                defer { try? FileManager.default.removeItem(at: file) }
                try Data(response.body.readableBytesView).write(to: file)
                let (duration, frames) = try probe(file)
                let expected = Double(to - startedAt) / 1000
                #expect(abs(duration - expected) < 0.2, "\(duration) s for \(expected) s asked")
                #expect(abs(Double(frames) - expected * 25) <= 6, "\(frames) frames")

                // Refusals: an empty range, a range with nothing recorded, another room's invigilator.
                let backwards = try await client.execute(
                    uri: "/api/rooms/R01/recordings/export?cameraId=\(created.id)&from=\(to)&to=\(from)", method: .get, headers: bearer(admin))
                #expect(backwards.status == .badRequest)
                let nothing = try await client.execute(
                    uri: "/api/rooms/R01/recordings/export?cameraId=\(created.id)&from=1000&to=2000", method: .get, headers: bearer(admin))
                #expect(nothing.status == .notFound)
                let other = try await staffToken(client, username: "invigilator2")
                let forbidden = try await client.execute(
                    uri: "/api/rooms/R01/recordings/export?cameraId=\(created.id)&from=\(from)&to=\(to)", method: .get, headers: bearer(other))
                #expect(forbidden.status == .forbidden)
            }
        }
    }

    @Test func anUploadThatWouldEatIntoTheCamerasFreeSpaceIsRefusedAndLeavesNothing() async throws {
        // Given a venue whose recorder keeps more space free than the disk has,
        try await withRecordingVenue(freeSpaceFloor: .max / 4) { client, database, recordings, admin in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("upload-full-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let video = folder.appendingPathComponent("recorder.mp4")
            #expect(try runTool("/usr/bin/ffmpeg", [
                "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3", "-c:v", "libx264",
                "-pix_fmt", "yuv420p", video.path,
            ]).status == 0)
            let bytes = try Data(contentsOf: video)
            let startedAt = Date().addingTimeInterval(-3600).millis
            // when an admin uploads a recording, told its size or not, then it is refused with 507 and the reason in
            // both languages, and nothing of it is kept.
            for sized in [true, false] {
                var headers = bearer(admin)
                if sized { headers[.contentLength] = String(bytes.count) }
                let refused = try await client.execute(
                    uri: "/api/rooms/R01/recordings/upload?startedAt=\(startedAt)", method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
                #expect(refused.status.code == 507, "sized \(sized): \(refused.status)")
                let body = String(buffer: refused.body)
                #expect(body.contains("venue_disk_full") && body.contains("磁盘空间不足") && body.contains("too little room"), "\(body)")
            }
            #expect(try await database.recordingTimeline(roomID: "R01", from: Date(millis: 0), to: Date()).segments.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: recordings.appendingPathComponent("upload-R01").path))
            let incoming = recordings.deletingLastPathComponent().appendingPathComponent("incoming")
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: incoming.path))?.filter { $0.hasPrefix("recording-") } ?? []
            #expect(leftovers.isEmpty, "no staging folder left")
        }
    }

    @Test func anUploadedRecordingIsCheckedCutIntoSegmentsAndFiledAtItsTimeAndABadOneLeavesNothing() async throws {
        try await withRecordingVenue { client, database, recordings, admin in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            // A 7-second recording with sound, in Matroska, as a separate recorder might make it.
            let video = folder.appendingPathComponent("recorder.mkv")
            let made = try runTool("/usr/bin/ffmpeg", [
                "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
                "sine=frequency=440", "-t", "7", "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", video.path,
            ])
            #expect(made.status == 0)
            let startedAt = Date().addingTimeInterval(-7200).millis

            let invigilator = try await staffToken(client, username: "invigilator1")
            let refusedRole = try await client.execute(
                uri: "/api/rooms/R01/recordings/upload?startedAt=\(startedAt)", method: .post, headers: bearer(invigilator),
                body: ByteBuffer(bytes: try Data(contentsOf: video)))
            #expect(refusedRole.status == .forbidden)

            let response = try await client.execute(
                uri: "/api/rooms/R01/recordings/upload?startedAt=\(startedAt)", method: .post, headers: bearer(admin),
                body: ByteBuffer(bytes: try Data(contentsOf: video)))
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let uploaded = try decode(UploadedBody.self, response)
            #expect(uploaded.cameraId == "upload-R01")
            #expect(uploaded.video.codec == "h264" && uploaded.video.width == 320 && uploaded.video.container.hasPrefix("matroska"))
            #expect(uploaded.segments.count >= 3, "2-second segments of 7 s")
            // Segments are placed by decode time, like the recorder's: with B-frames the first packet decodes two
            // frames (80 ms) before the first picture shows.
            #expect(abs((uploaded.segments.first?.startedAt ?? 0) - startedAt) <= 100)
            let total = uploaded.segments.map(\.duration).reduce(0, +)
            #expect(abs(total - 7) < 0.1, "\(total) s")
            for segment in uploaded.segments {
                let file = recordings.appendingPathComponent("upload-R01").appendingPathComponent(segment.fileName)
                #expect(FileManager.default.fileExists(atPath: file.path))
                #expect(abs(try probe(file).duration - segment.duration) < 0.1)
            }
            // It is the room's recording at that time, like the cameras' own, and the upload is audited.
            let timeline = try await database.recordingTimeline(
                roomID: "R01", from: Date(millis: startedAt - 1000), to: Date(millis: startedAt + 8000))
            #expect(timeline.segments.map(\.fileName) == uploaded.segments.map(\.fileName))
            let audit = try await database.auditLog(AuditFilter(action: AuditAction.recordingUploaded.rawValue))
            #expect(audit.count == 1 && audit.first?.detail?["segments"] == String(uploaded.segments.count))

            // Not a video, a picture, a video in a codec the pages cannot play: refused with the reason, nothing kept.
            let text = folder.appendingPathComponent("notes.txt")
            try Data("考场记录：一切正常。\n".utf8).write(to: text)
            let mjpeg = folder.appendingPathComponent("old-camera.avi")
            #expect(try runTool("/usr/bin/ffmpeg", [
                "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "2", "-c:v", "mjpeg", mjpeg.path,
            ]).status == 0)
            for (file, word) in [(text, "not"), (mjpeg, "MJPEG")] {
                let refused = try await client.execute(
                    uri: "/api/rooms/R01/recordings/upload?startedAt=\(startedAt + 60000)", method: .post, headers: bearer(admin),
                    body: ByteBuffer(bytes: try Data(contentsOf: file)))
                #expect(refused.status == .unprocessableContent, "\(file.lastPathComponent): \(refused.status)")
                #expect(String(buffer: refused.body).contains(word), "\(String(buffer: refused.body))")
            }
            let bad = try await client.execute(
                uri: "/api/rooms/R01/recordings/upload?startedAt=\(startedAt)&cameraId=no-such-camera", method: .post,
                headers: bearer(admin), body: ByteBuffer(bytes: try Data(contentsOf: video)))
            #expect(bad.status == .notFound)
            let after = try await database.recordingTimeline(roomID: "R01", from: Date(millis: 0), to: Date())
            #expect(after.segments.count == uploaded.segments.count, "nothing stored from the refused uploads")
            let files = try FileManager.default.contentsOfDirectory(atPath: recordings.appendingPathComponent("upload-R01").path)
            #expect(files.count == uploaded.segments.count)
            let incoming = recordings.deletingLastPathComponent().appendingPathComponent("incoming")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: incoming.path).filter { $0.hasPrefix("recording-") }
            #expect(leftovers.isEmpty, "no staging folder left")
        }
    }
}
