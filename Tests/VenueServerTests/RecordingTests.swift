import Crypto
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

struct RecordingBody: Decodable {
    struct State: Decodable {
        var state: String
        var session: String?
        var errorCode: String?
        var bitrate: Int?
    }
    struct Disk: Decodable {
        var segments: Int
        var bytes: Int64
    }
    var camera: CameraBody
    var recording: State
    var disk: Disk
}

/// A venue whose recorder service runs (short segments, the timetable looked at often) and an admin token.
func withRecordingVenue(
    startsAt: Date = Date().addingTimeInterval(3600), alertsAfter: TimeInterval = 60, freeSpaceFloor: Int64 = 0,
    _ body: @Sendable (any TestClientProtocol, VenueDatabase, URL, String) async throws -> Void
) async throws {
    let (database, folder, _) = try await Fixtures.venueWithDemo(startsAt: startsAt)
    var configuration = VenueConfiguration(
        dataDirectory: folder, host: "127.0.0.1", port: 0, faceModels: folder.appendingPathComponent("no-face-models"))
    configuration.recording.segmentSeconds = 2
    configuration.recording.checkEvery = .milliseconds(300)
    configuration.recording.notRecordedAfter = alertsAfter
    configuration.recording.cameraDownAfter = alertsAfter
    configuration.recording.freeSpaceFloor = freeSpaceFloor
    let recorder = RecorderService(database: database, settings: configuration.recording, logger: Logger(label: "test"))
    let router = VenueApp.buildRouter(database: database, configuration: configuration, recorder: recorder, logger: Logger(label: "test"))
    let recordings = configuration.recording.folder
    let service = Task { try await recorder.run() }
    do {
        try await Application(router: router).test(.router) { client in
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            try await body(client, database, recordings, admin)
        }
    } catch {
        service.cancel()
        _ = await service.result
        throw error
    }
    service.cancel()
    _ = await service.result
}

func recordingStatus(_ client: some TestClientProtocol, _ admin: String) async throws -> [RecordingBody] {
    try decode([RecordingBody].self, try await client.execute(uri: "/api/admin/recording", method: .get, headers: bearer(admin)))
}

/// Polls `condition` every 200 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}

@Suite("Recording the room cameras", .serialized)
struct RecordingTests {
    @Test func aCameraSwitchedOnByHandIsRecordedAndAFrozenCameraLeavesAGapWithItsReason() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "15", "--bitrate-kbps", "300", "--key-int", "15"]) { camera in
            try await withRecordingVenue { client, database, recordings, admin in
                let created = try decode(
                    CameraBody.self,
                    try await client.execute(
                        uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                        body: json(["roomId": "R01", "name": "前门", "url": camera.urls[0]])))
                // The sitting is an hour away and the camera follows the timetable: nothing records.
                try await Task.sleep(for: .seconds(1))
                #expect(try await recordingStatus(client, admin).first?.recording.state == "idle")

                let on = try await client.execute(
                    uri: "/api/admin/cameras/\(created.id)/recording", method: .post, headers: bearer(admin), body: json(["mode": "on"]))
                #expect(on.status == .ok)
                #expect(try await eventually(20) { try await recordingStatus(client, admin).first?.recording.state == "recording" })
                let firstSession = try await recordingStatus(client, admin).first?.recording.session
                // The status shows the bitrate the camera sends (300 kb/s asked of the test camera).
                #expect(try await eventually(15) {
                    let bitrate = try await recordingStatus(client, admin).first?.recording.bitrate ?? 0
                    return bitrate > 150_000 && bitrate < 700_000
                })
                #expect(try await eventually(30) { try await recordingStatus(client, admin).first?.disk.segments ?? 0 >= 2 })

                // The camera freezes: the recorder notices, says why, and records again by itself when it is back.
                kill(camera.pid, SIGSTOP)
                let noticed = try await eventually(30) {
                    try await recordingStatus(client, admin).first?.recording.state == "reconnecting"
                }
                #expect(noticed)
                #expect(try await recordingStatus(client, admin).first?.recording.errorCode == "camera_timeout")
                kill(camera.pid, SIGCONT)
                #expect(try await eventually(60) {
                    let state = try await recordingStatus(client, admin).first?.recording
                    return state?.state == "recording" && state?.session != firstSession
                })
                #expect(try await eventually(20) {
                    try await database.recordingTimeline(roomID: "R01", from: Date().addingTimeInterval(-600), to: Date())
                        .gaps.contains { $0.reason == "camera_timeout" && $0.cameraId == created.id }
                })

                let off = try await client.execute(
                    uri: "/api/admin/cameras/\(created.id)/recording", method: .post, headers: bearer(admin), body: json(["mode": "off"]))
                #expect(off.status == .ok)
                #expect(try await eventually(20) { try await recordingStatus(client, admin).first?.recording.state == "idle" })

                // Every segment row names a closed file whose hash it holds; sequences follow each other per session.
                let timeline = try decode(
                    RecordingTimeline.self,
                    try await client.execute(uri: "/api/rooms/R01/recordings", method: .get, headers: bearer(admin)))
                #expect(timeline.segments.count >= 3)
                for segment in timeline.segments {
                    let file = recordings.appendingPathComponent(created.id).appendingPathComponent(segment.fileName)
                    let data = try Data(contentsOf: file)
                    #expect(data.count == segment.bytes)
                    #expect(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() == segment.sha256)
                    #expect(segment.codec == "h264" && segment.width == 320 && segment.height == 240)
                    #expect(segment.duration > 0 && segment.duration < 6, "segment \(segment.fileName): \(segment.duration) s")
                }
                for (_, segments) in Dictionary(grouping: timeline.segments, by: \.session) {
                    let sequences = segments.map(\.sequence).sorted()
                    #expect(sequences == Array(sequences[0]..<(sequences[0] + sequences.count)))
                }
                // The segments are served as recorded, whole or by byte range (for seeking in the player).
                let first = try #require(timeline.segments.first)
                let file = try Data(contentsOf: recordings.appendingPathComponent(created.id).appendingPathComponent(first.fileName))
                let whole = try await client.execute(
                    uri: "/api/rooms/R01/recordings/\(created.id)/\(first.fileName)", method: .get, headers: bearer(admin))
                #expect(whole.status == .ok && whole.headers[.contentType] == "video/mp4" && Data(whole.body.readableBytesView) == file)
                var ranged = bearer(admin)
                ranged[.range] = "bytes=100-199"
                let part = try await client.execute(
                    uri: "/api/rooms/R01/recordings/\(created.id)/\(first.fileName)", method: .get, headers: ranged)
                #expect(part.status == .partialContent && Data(part.body.readableBytesView) == file[100...199])
                #expect(part.headers[.contentRange] == "bytes 100-199/\(file.count)")
                #expect(
                    try await client.execute(
                        uri: "/api/rooms/R01/recordings/\(created.id)/venue.sqlite", method: .get, headers: bearer(admin)
                    ).status == .notFound)
                let parts = try FileManager.default.contentsOfDirectory(atPath: recordings.appendingPathComponent(created.id).path)
                    .filter { $0.hasSuffix(".part") }
                #expect(parts.isEmpty)
                let modes = try await database.auditLog(AuditFilter(action: AuditAction.cameraUpdated.rawValue)).compactMap {
                    $0.detail?["recordingMode"]
                }
                #expect(modes.sorted() == ["off", "on"])
            }
        }
    }

    @Test func aCameraFollowingTheTimetableRecordsWhileItsRoomHasASitting() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "15", "--bitrate-kbps", "300", "--key-int", "15"]) { camera in
            // The sitting started a minute ago: room R01's camera records; R02's camera, disabled, does not.
            try await withRecordingVenue(startsAt: Date().addingTimeInterval(-60)) { client, _, _, admin in
                for (room, enabled) in [("R01", true), ("R02", false)] {
                    let response = try await client.execute(
                        uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                        body: json(NewCameraBody(roomId: room, name: "cam-\(room)", url: camera.urls[0], enabled: enabled)))
                    #expect(response.status == .created)
                }
                #expect(try await eventually(20) {
                    let states = try await recordingStatus(client, admin)
                    return states.first { $0.camera.roomId == "R01" }?.recording.state == "recording"
                })
                #expect(try await recordingStatus(client, admin).first { $0.camera.roomId == "R02" }?.recording.state == "idle")
            }
        }
    }
}

struct AlertBody: Decodable {
    var id: String
    var kind: String
    var roomId: String?
    var cameraId: String?
    var message: [String: String]
    var clearedAt: Int64?
}

@Suite("Recording alerts", .serialized)
struct RecordingAlertTests {
    @Test func aRoomSittingAnExamWithoutRecordingAndACameraDownRaiseAlertsThatClearWhenRecordingRuns() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "15", "--bitrate-kbps", "300", "--key-int", "15"]) { camera in
            try await withRecordingVenue(startsAt: Date().addingTimeInterval(-120), alertsAfter: 1) { client, _, _, admin in
                func alerts() async throws -> [AlertBody] {
                    try decode([AlertBody].self, try await client.execute(uri: "/api/admin/recording/alerts", method: .get, headers: bearer(admin)))
                }
                // Both rooms are sitting the exam and have no camera: both are not recorded.
                #expect(try await eventually(10) { try await alerts().filter { $0.kind == "room_not_recorded" && $0.clearedAt == nil }.count == 2 })
                // R01 gets a camera that does not answer: still not recorded, and the camera is down.
                let created = try decode(
                    CameraBody.self,
                    try await client.execute(
                        uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                        body: json(["roomId": "R01", "name": "前门", "url": "rtsp://127.0.0.1:\(unusedPort())/cam1"])))
                #expect(try await eventually(20) { try await alerts().contains { $0.kind == "camera_down" && $0.cameraId == created.id && $0.clearedAt == nil } })
                let down = try #require(try await alerts().first { $0.kind == "camera_down" })
                #expect(down.message["zh"]?.contains("前门") == true && down.message["en"]?.contains("refused") == true)
                // The invigilator of R01 sees the room's alerts on the console; R02's are not there.
                let invigilator = try await staffToken(client)
                let room = try decode(
                    RoomView.self,
                    try await client.execute(uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01", method: .get, headers: bearer(invigilator)))
                #expect(Set(room.recordingAlerts.map(\.kind)) == ["room_not_recorded", "camera_down"])
                #expect(room.recordingAlerts.allSatisfy { $0.roomId == "R01" })

                // The camera's URL is put right: it records, and R01's alerts are cleared (kept, with when).
                let fixed = try await client.execute(
                    uri: "/api/admin/cameras/\(created.id)", method: .post, headers: bearer(admin), body: json(["url": camera.urls[0]]))
                #expect(fixed.status == .ok)
                #expect(try await eventually(30) {
                    try await alerts().filter { $0.roomId == "R01" && $0.clearedAt == nil }.isEmpty
                })
                let all = try await alerts()
                #expect(all.filter { $0.roomId == "R01" && $0.clearedAt != nil }.count == 2)
                #expect(all.contains { $0.roomId == "R02" && $0.kind == "room_not_recorded" && $0.clearedAt == nil })
                #expect(all.first?.clearedAt == nil, "open alerts come first")
            }
        }
    }

    @Test func aDiskBelowItsFloorRaisesAnAlert() async throws {
        try await withRecordingVenue(freeSpaceFloor: Int64.max) { client, _, _, admin in
            let raised = try await eventually(10) {
                let alerts = try decode(
                    [AlertBody].self, try await client.execute(uri: "/api/admin/recording/alerts", method: .get, headers: bearer(admin)))
                return alerts.contains { $0.kind == "disk_low" && $0.clearedAt == nil && $0.message["zh"]?.contains("录像磁盘") == true }
            }
            #expect(raised)
        }
    }
}

struct NewCameraBody: Encodable {
    var roomId: String
    var name: String
    var url: String
    var enabled: Bool
}

@Suite("Recording retention", .serialized)
struct RecordingRetentionTests {
    /// Five closed 1,000-byte segments of one camera, a minute apart, the first two received by the central office.
    func storeSegments(_ database: VenueDatabase, _ recordings: URL, camera: String) async throws -> [String] {
        let folder = recordings.appendingPathComponent(camera)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var names: [String] = []
        for index in 0..<5 {
            let name = "s-\(String(format: "%06d", index)).mp4"
            let data = Data(repeating: UInt8(index), count: 1000)
            try data.write(to: folder.appendingPathComponent(name))
            let start = Date().addingTimeInterval(Double(index - 10) * 60)
            try await database.recordSegment(
                cameraID: camera, roomID: "R01",
                SegmentInput(
                    session: "s", sequence: index, fileName: name, startedAt: start, endedAt: start.addingTimeInterval(60),
                    duration: 60, bytes: 1000, sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(),
                    codec: "h264", width: 320, height: 240, recovered: false))
            names.append(name)
        }
        try await database.markSegmentsUploaded(cameraID: camera, fileNames: Array(names.prefix(2)))
        return names
    }

    @Test func overTheQuotaOnlySegmentsTheCentralOfficeHasAreDeletedOldestFirst() async throws {
        let (database, folder, _) = try await Fixtures.venueWithDemo()
        var settings = RecordingSettings(folder: folder.appendingPathComponent("recordings"))
        settings.freeSpaceFloor = 0
        settings.quotaBytes = 2500
        let service = RecorderService(database: database, settings: settings, logger: Logger(label: "test"))
        let names = try await storeSegments(database, settings.folder, camera: "cam")
        await service.applyRetention()
        let kept = try await database.oldestSegments(uploadedOnly: false, limit: 10).map(\.fileName)
        // Over the quota by 2,500 bytes, but only the two uploaded segments may go: the rest stays, quota or not.
        #expect(kept == Array(names.suffix(3)))
        let files = try FileManager.default.contentsOfDirectory(atPath: settings.folder.appendingPathComponent("cam").path).sorted()
        #expect(files == Array(names.suffix(3)))
        #expect(try await database.auditLog(AuditFilter(action: AuditAction.recordingDeleted.rawValue)).isEmpty)
    }

    @Test func whenTheDiskIsAboutToFillEvenSegmentsNotUploadedGoAndEachIsAudited() async throws {
        let (database, folder, _) = try await Fixtures.venueWithDemo()
        var settings = RecordingSettings(folder: folder.appendingPathComponent("recordings"))
        settings.freeSpaceFloor = .max  // no disk has that much free: it is always "about to fill"
        let service = RecorderService(database: database, settings: settings, logger: Logger(label: "test"))
        _ = try await storeSegments(database, settings.folder, camera: "cam")
        await service.applyRetention()
        #expect(try await database.oldestSegments(uploadedOnly: false, limit: 10).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: settings.folder.appendingPathComponent("cam").path).isEmpty)
        let audited = try await database.auditLog(AuditFilter(action: AuditAction.recordingDeleted.rawValue))
        #expect(audited.count == 3 && audited.allSatisfy { $0.reason == "disk_about_to_fill" && $0.actor == "venue" })
    }
}
