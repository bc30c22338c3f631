import CameraKit
import ExamCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import VenueStore

/// The room cameras' live picture for invigilators (their own rooms) and admins: fragmented MP4 over a WebSocket,
/// which the pages feed into Media Source Extensions.
///
/// Protocol, server to browser only: a text message `{"type":"start","codec":…,"width":…,"height":…}` followed by
/// one binary message, the initialisation segment; then one binary message per frame (`moof` + `mdat`), the first
/// a keyframe; `{"type":"waiting"}` while the camera is being connected; `{"type":"interrupted","code":…}` when its
/// connection ends (a new start follows when it comes back). The browser sends nothing.
extension VenueAPI {
    struct RoomCameraView: Codable, Sendable {
        var camera: CameraView
        var recording: CameraRecordingState
        /// The live picture being sent now (someone watches and the camera is connected).
        var live: LivePicture?
    }

    struct LivePicture: Codable, Sendable {
        var codec: String
        var width: Int
        var height: Int
    }

    /// The cameras of the room in the path, with what each is doing, for the live view and the playback page.
    @Sendable func roomCameras(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[RoomCameraView]> {
        let roomID = try context.parameters.require("roomId")
        _ = try await staff(request, room: Room.ID(roomID))
        var views: [RoomCameraView] = []
        for camera in try await database.cameras() where camera.roomId == roomID {
            views.append(RoomCameraView(camera: camera, recording: await recorder.state(of: camera.id), live: livePicture(camera.id)))
        }
        return JSONResponse(views)
    }

    /// One camera's live state; the same path with a WebSocket upgrade is the live picture itself.
    @Sendable func liveCamera(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<RoomCameraView> {
        let camera = try await roomCamera(request, context)
        return JSONResponse(
            RoomCameraView(camera: camera, recording: await recorder.state(of: camera.id), live: livePicture(camera.id)))
    }

    /// The camera named in the path, which must be in the room named in the path, where the caller may act.
    func roomCamera(_ request: Request, _ context: VenueRequestContext) async throws -> CameraView {
        let roomID = try context.parameters.require("roomId")
        _ = try await staff(request, room: Room.ID(roomID))
        let cameraID = try context.parameters.require("cameraId")
        let camera = try await database.camera(id: cameraID)
        guard camera.roomId == roomID else { throw StoreError.notFound("考场 \(roomID) 的摄像头 \(cameraID) / camera \(cameraID) of room \(roomID)") }
        return camera
    }

    /// Whether a browser's `Origin` names the host the request was sent to. Ports and schemes aside, like the
    /// cookies' same-site rule: the console over HTTPS may watch, another site may not.
    static func sameOrigin(_ origin: String, host authority: String) -> Bool {
        guard let name = URL(string: origin)?.host?.lowercased() else { return false }
        var host = authority.lowercased()
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<end])  // [IPv6]:port
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return name.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) == host
    }

    private func livePicture(_ cameraID: String) -> LivePicture? {
        recorder.liveFeed(for: cameraID).current.map { LivePicture(codec: $0.codec, width: $0.width, height: $0.height) }
    }

    /// The WebSocket route of the live picture, on the router that answers upgrade requests. A request the
    /// venue refuses (not signed in, another room, unknown or disabled camera) is not upgraded: the HTTP route at
    /// the same path then answers it with the reason.
    func addLiveRoutes(to router: Router<VenueRequestContext>) {
        router.ws(
            "api/rooms/:roomId/cameras/:cameraId/live",
            shouldUpgrade: { request, context in
                // A page of another site may not open the picture with a venue cookie the browser holds.
                if let origin = request.headers[.origin], !Self.sameOrigin(origin, host: request.head.authority ?? "") {
                    return .dontUpgrade
                }
                let camera = try await roomCamera(request, context)
                return camera.enabled ? .upgrade([:]) : .dontUpgrade
            },
            onUpgrade: { inbound, outbound, context in
                guard let cameraID = context.requestContext.parameters.get("cameraId") else { return }
                let feed = recorder.liveFeed(for: cameraID)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // The browser sends nothing; its stream ends when it closes the page or the connection drops.
                    group.addTask { for try await _ in inbound {} }
                    group.addTask {
                        let messages = feed.subscribe()
                        if feed.current == nil { try await outbound.write(.text(#"{"type":"waiting"}"#)) }
                        for await message in messages {
                            switch message {
                            case .start(let start):
                                try await outbound.write(.text(
                                    #"{"type":"start","codec":"\#(start.codec)","width":\#(start.width),"height":\#(start.height)}"#))
                                try await outbound.write(.binary(ByteBuffer(bytes: start.initialization)))
                            case .fragment(let bytes):
                                try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            case .interrupted(let code):
                                try await outbound.write(.text(#"{"type":"interrupted","code":"\#(code)"}"#))
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            })
    }
}
