import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import VenueServer
@testable import VenueStore

struct CameraBody: Decodable {
    struct Test: Decodable {
        var ok: Bool
        var codec: String?
        var width: Int?
        var height: Int?
        var framesPerSecond: Double?
        var bitrate: Int?
        var code: String?
    }
    var id: String
    var roomId: String
    var roomName: String?
    var name: String
    var url: String
    var enabled: Bool
    var lastTest: Test?
}

/// The admin registers room cameras and tests them against a real RTSP camera (GStreamer on loopback).
@Suite("Room cameras through the API", .serialized)
struct CameraAPITests {
    @Test func theAdminRegistersACameraWhosePasswordIsNeverShownAndTestsIt() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "15", "--bitrate-kbps", "400", "--user", "cam", "--password", "Cam-Secret-42"]) {
            camera in
            try await withVenue { client, database, folder in
                let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
                let secretURL = camera.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://cam:Cam-Secret-42@")
                func create(_ body: [String: String]) async throws -> TestResponse {
                    try await client.execute(uri: "/api/admin/cameras", method: .post, headers: bearer(admin), body: json(body))
                }
                // Bad input: not an RTSP URL, a room that does not exist, an empty name.
                let notRTSP = try await create(["roomId": "R01", "name": "前门", "url": "http://127.0.0.1/cam1"])
                #expect(try notRTSP.status == .badRequest && decode(ErrorEnvelope.self, notRTSP).error.code == "camera_bad_url")
                #expect(try await create(["roomId": "R99", "name": "前门", "url": secretURL]).status == .badRequest)
                #expect(try await create(["roomId": "R01", "name": "  ", "url": secretURL]).status == .badRequest)
                #expect(try await database.cameras().isEmpty)

                let created = try await create(["roomId": "R01", "name": "前门", "url": secretURL])
                #expect(created.status == .created)
                let body = try decode(CameraBody.self, created)
                #expect(body.url == camera.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://cam:***@"))
                #expect(body.roomName == "第一考场" && body.enabled && body.lastTest == nil)
                #expect(!String(buffer: created.body).contains("Cam-Secret-42"))
                // A second camera of the same name in the same room is refused.
                #expect(try await create(["roomId": "R01", "name": "前门", "url": secretURL]).status == .badRequest)
                // The password is stored sealed: not in the database file's row.
                let sealed = try await database.pool.read { db in
                    try Data.fetchOne(db, sql: "SELECT urlSealed FROM camera WHERE id = ?", arguments: [body.id])
                }
                #expect(try #require(sealed).range(of: Data("Cam-Secret-42".utf8)) == nil)
                #expect(try await database.cameraURL(id: body.id) == secretURL)

                let tested = try decode(
                    CameraBody.self,
                    try await client.execute(uri: "/api/admin/cameras/\(body.id)/test", method: .post, headers: bearer(admin)))
                let test = try #require(tested.lastTest)
                #expect(test.ok && test.codec == "h264" && test.width == 320 && test.height == 240)
                #expect(abs((test.framesPerSecond ?? 0) - 15) < 0.5 && (test.bitrate ?? 0) > 100_000)

                // A new URL with the wrong password: the old test result goes, the next test says why it failed.
                let wrongURL = camera.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://cam:not-it@")
                let changed = try decode(
                    CameraBody.self,
                    try await client.execute(
                        uri: "/api/admin/cameras/\(body.id)", method: .post, headers: bearer(admin),
                        body: json(["url": wrongURL, "name": "前门（左）"])))
                #expect(changed.lastTest == nil && changed.name == "前门（左）" && changed.url.contains("cam:***@"))
                let refused = try decode(
                    CameraBody.self,
                    try await client.execute(uri: "/api/admin/cameras/\(body.id)/test", method: .post, headers: bearer(admin)))
                #expect(refused.lastTest?.ok == false && refused.lastTest?.code == "camera_unauthorised")
                // Changing only the name keeps the URL and its password.
                _ = try await client.execute(
                    uri: "/api/admin/cameras/\(body.id)", method: .post, headers: bearer(admin), body: json(["enabled": false]))
                #expect(try await database.cameraURL(id: body.id) == wrongURL)
                #expect(try await database.camera(id: body.id).enabled == false)

                let deleted = try await client.execute(uri: "/api/admin/cameras/\(body.id)", method: .delete, headers: bearer(admin))
                #expect(deleted.status == .noContent)
                #expect(try await database.cameras().isEmpty)
                #expect(
                    try await client.execute(uri: "/api/admin/cameras/\(body.id)/test", method: .post, headers: bearer(admin))
                        .status == .notFound)
                let actions = try await database.auditLog(AuditFilter()).map(\.action).filter { $0.hasPrefix("camera.") }
                #expect(actions.sorted() == ["camera.created", "camera.deleted", "camera.tested", "camera.tested", "camera.updated", "camera.updated"])
                let log = try await database.auditLog(AuditFilter()).compactMap(\.detail).flatMap(\.values)
                #expect(!log.contains { $0.contains("Cam-Secret-42") || $0.contains("not-it") })
                _ = folder
            }
        }
    }

    @Test func aCameraThatDoesNotAnswerIsReportedNotHidden() async throws {
        try await withVenue { client, _, _ in
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let created = try decode(
                CameraBody.self,
                try await client.execute(
                    uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                    body: json(["roomId": "R02", "name": "后门", "url": "rtsp://127.0.0.1:\(unusedPort())/cam1"])))
            let tested = try decode(
                CameraBody.self,
                try await client.execute(uri: "/api/admin/cameras/\(created.id)/test", method: .post, headers: bearer(admin)))
            #expect(tested.lastTest?.ok == false && tested.lastTest?.code == "camera_refused")
            let listed = try decode(
                [CameraBody].self, try await client.execute(uri: "/api/admin/cameras", method: .get, headers: bearer(admin)))
            #expect(listed.map(\.name) == ["后门"] && listed.first?.lastTest?.code == "camera_refused")
        }
    }
}
