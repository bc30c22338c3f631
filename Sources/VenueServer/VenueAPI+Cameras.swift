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
        var response = try JSONResponse(view).response(from: request, context: context)
        response.status = .created
        return response
    }

    @Sendable func updateCamera(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<CameraView> {
        let admin = try await staff(request, roles: [.admin])
        let id = try context.parameters.require("cameraId")
        let body = try await request.decode(as: CameraUpdate.self, context: context)
        let url = try body.url.map { try CameraURL($0.trimmingCharacters(in: .whitespaces)) }
        return JSONResponse(
            try await database.updateCamera(
                by: admin, id: id,
                CameraChange(roomID: body.roomId, name: body.name, url: url.map { ($0.string, $0.masked) }, enabled: body.enabled)))
    }

    @Sendable func deleteCamera(_ request: Request, context: VenueRequestContext) async throws -> Response {
        let admin = try await staff(request, roles: [.admin])
        try await database.deleteCamera(by: admin, id: try context.parameters.require("cameraId"))
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
}
