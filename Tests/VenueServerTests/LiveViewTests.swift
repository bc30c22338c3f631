import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import VenueServer
@testable import VenueStore

/// The live picture's WebSocket on a real server with a real RTSP camera: what a browser receives, who may open it,
/// and that a camera nobody records is connected only while someone watches.
@Suite("Live view", .serialized, .timeLimit(.minutes(2)))
struct LiveViewTests {
    /// What one WebSocket connection received.
    final class Received: Sendable {
        let texts = Mutex<[String]>([])
        let binaries = Mutex<[[UInt8]]>([])
    }

    @Test func aWatchedCameraIsConnectedForItsLivePictureOnlyAndARefusedViewerIsNotUpgraded() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300"]) { camera in
            let (database, folder, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(3600))
            var configuration = VenueConfiguration(
                dataDirectory: folder, host: "127.0.0.1", port: 0, faceModels: folder.appendingPathComponent("no-face-models"))
            configuration.recording.checkEvery = .milliseconds(300)
            let recorder = RecorderService(database: database, settings: configuration.recording, logger: Logger(label: "test"))
            let routers = VenueApp.buildRouters(database: database, configuration: configuration, recorder: recorder, logger: Logger(label: "test"))
            let service = Task { try await recorder.run() }
            defer { service.cancel() }
            let app = Application(
                router: routers.http, server: .http1WebSocketUpgrade(webSocketRouter: routers.webSocket),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
                let other = try await staffToken(client, username: "invigilator2")
                let created = try decode(
                    CameraBody.self,
                    try await client.execute(
                        uri: "/api/admin/cameras", method: .post, headers: bearer(admin),
                        body: json(NewCameraBody(roomId: "R01", name: "前门", url: camera.urls[0], enabled: true))))
                let path = "/api/rooms/R01/cameras/\(created.id)/live"
                let url = "ws://127.0.0.1:\(client.port!)\(path)"

                // An invigilator of another room is not upgraded; the plain GET says why.
                await #expect(throws: (any Error).self) {
                    try await WebSocketClient.connect(
                        url: url, configuration: .init(additionalHeaders: [.authorization: "Bearer \(other)"]),
                        logger: Logger(label: "test")
                    ) { _, _, _ in }
                }
                let refused = try await client.execute(uri: path, method: .get, headers: bearer(other))
                #expect(refused.status == .forbidden)
                // Nor is a page of another site, even with the admin's credentials.
                await #expect(throws: (any Error).self) {
                    try await WebSocketClient.connect(
                        url: url,
                        configuration: .init(additionalHeaders: [.authorization: "Bearer \(admin)", .origin: "http://evil.example"]),
                        logger: Logger(label: "test")
                    ) { _, _, _ in }
                }
                #expect(VenueAPI.sameOrigin("http://127.0.0.1:8080", host: "127.0.0.1:8080"))
                #expect(VenueAPI.sameOrigin("https://venue.local", host: "venue.local"))
                #expect(VenueAPI.sameOrigin("https://[fe80::1]:8443", host: "[fe80::1]:8080"))
                #expect(!VenueAPI.sameOrigin("http://192.168.1.9:8080", host: "192.168.1.10:8080"))

                // The admin watches: the camera (no sitting, not recording) is connected for the live picture only.
                let received = Received()
                try await WebSocketClient.connect(
                    url: url, configuration: .init(additionalHeaders: [.authorization: "Bearer \(admin)"]),
                    logger: Logger(label: "test")
                ) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 4 << 20) {
                        switch message {
                        case .text(let text): received.texts.withLock { $0.append(text) }
                        case .binary(let buffer): received.binaries.withLock { $0.append(Array(buffer.readableBytesView)) }
                        }
                        if received.binaries.withLock({ $0.count }) == 51 { break }
                    }
                    let state = try decode(
                        [RoomCameraBody].self, try await client.execute(uri: "/api/rooms/R01/cameras", method: .get, headers: bearer(admin)))
                    #expect(state.first?.recording.state == "viewing")
                    #expect(state.first?.live?.codec.hasPrefix("avc1.") == true)
                    _ = outbound  // returning closes the connection
                }
                let texts = received.texts.withLock { $0 }
                #expect(texts.first == #"{"type":"waiting"}"#)
                #expect(texts.count == 2 && texts[1].contains(#""type":"start""#) && texts[1].contains(#""width":320"#), "\(texts)")
                let binaries = received.binaries.withLock { $0 }
                #expect(binaries.count == 51)
                #expect(binaries.first.map { String(decoding: $0[4..<8], as: UTF8.self) } == "ftyp", "the initialisation segment first")
                #expect(binaries.dropFirst().allSatisfy { String(decoding: $0[4..<8], as: UTF8.self) == "moof" }, "then one fragment per frame")

                // Once nobody watches, the camera is let go; nothing was recorded.
                #expect(try await eventually(10) {
                    let state = try decode(
                        [RoomCameraBody].self, try await client.execute(uri: "/api/rooms/R01/cameras", method: .get, headers: bearer(admin)))
                    return state.first?.recording.state == "idle"
                })
                let disk = try await database.recordingDiskUse()
                #expect(disk[created.id] == nil || disk[created.id]?.segments == 0)
            }
            service.cancel()
            _ = await service.result
        }
    }
}

struct RoomCameraBody: Decodable {
    struct Live: Decodable {
        var codec: String
        var width: Int
        var height: Int
    }
    var camera: CameraBody
    var recording: RecordingBody.State
    var live: Live?
}
