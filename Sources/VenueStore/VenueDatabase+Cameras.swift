import ExamCore
import Foundation
import GRDB

/// A room camera as the admin sees it: the URL only with its password masked.
public struct CameraView: Codable, Sendable {
    public var id: String
    public var roomId: String
    public var roomName: String?
    public var name: String
    /// `rtsp://user:***@host/path`
    public var url: String
    public var enabled: Bool
    /// `auto` (record during the room's sittings), `on` or `off` (set by hand).
    public var recordingMode: String
    public var lastTest: CameraTest?
    public var createdAt: Int64
    public var updatedAt: Int64
}

/// What the last "test" of a camera found: the stream's figures, or why it could not be opened.
public struct CameraTest: Codable, Sendable, Equatable {
    public var at: Int64
    public var ok: Bool
    public var codec: String?
    public var width: Int?
    public var height: Int?
    public var framesPerSecond: Double?
    /// Bits per second, measured over a few seconds of the stream.
    public var bitrate: Int?
    public var hasAudio: Bool?
    /// A `CameraError` code (`camera_refused`, `camera_unauthorised`, `camera_timeout`, …) when it failed.
    public var code: String?
    public var message: Message?

    public init(
        at: Int64, ok: Bool, codec: String? = nil, width: Int? = nil, height: Int? = nil, framesPerSecond: Double? = nil,
        bitrate: Int? = nil, hasAudio: Bool? = nil, code: String? = nil, message: Message? = nil
    ) {
        self.at = at
        self.ok = ok
        self.codec = codec
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.bitrate = bitrate
        self.hasAudio = hasAudio
        self.code = code
        self.message = message
    }
}

/// A camera to register: the URL already checked (and masked) by the caller.
public struct CameraInput: Sendable {
    public var roomID: String
    public var name: String
    public var url: String
    public var maskedURL: String
    public var enabled: Bool

    public init(roomID: String, name: String, url: String, maskedURL: String, enabled: Bool) {
        self.roomID = roomID
        self.name = name
        self.url = url
        self.maskedURL = maskedURL
        self.enabled = enabled
    }
}

/// A change to a camera; nil keeps what is there (in particular the URL and its password).
public struct CameraChange: Sendable {
    public var roomID: String?
    public var name: String?
    public var url: (url: String, masked: String)?
    public var enabled: Bool?

    public init(roomID: String? = nil, name: String? = nil, url: (url: String, masked: String)? = nil, enabled: Bool? = nil) {
        self.roomID = roomID
        self.name = name
        self.url = url
        self.enabled = enabled
    }
}

extension VenueDatabase {
    public func cameras() async throws -> [CameraView] {
        try await pool.read { db in try Self.cameraViews(db) }
    }

    public func camera(id: String) async throws -> CameraView {
        try await pool.read { db in
            guard let view = try Self.cameraViews(db, id: id).first else { throw Self.noCamera(id) }
            return view
        }
    }

    /// Registers a camera for a room (audited). Names are unique within a room.
    public func createCamera(by admin: StaffSession, _ input: CameraInput, now: Date = Date()) async throws -> CameraView {
        let name = try Self.cameraName(input.name)
        let id = UUID().uuidString.lowercased()
        let sealed = try sealCameraURL(input.url, id: id)
        try await groupCommit.write { db in
            try Self.requireRoom(db, input.roomID)
            try Self.requireFreeName(db, roomID: input.roomID, name: name, except: nil)
            try CameraRecord(
                id: id, roomId: input.roomID, name: name, urlSealed: sealed, urlMasked: input.maskedURL, enabled: input.enabled,
                lastTest: nil, createdAt: now.millis, updatedAt: now.millis
            ).insert(db)
            try Self.audit(
                db, by: admin, action: .cameraCreated, now: now, roomID: input.roomID,
                detail: ["camera": id, "name": name, "url": input.maskedURL, "enabled": String(input.enabled)])
        }
        return try await camera(id: id)
    }

    /// Changes a camera (audited); a new URL replaces the old one with its password.
    public func updateCamera(by admin: StaffSession, id: String, _ change: CameraChange, now: Date = Date()) async throws
        -> CameraView
    {
        let name = try change.name.map(Self.cameraName)
        let sealed = try change.url.map { try sealCameraURL($0.url, id: id) }
        try await groupCommit.write { db in
            guard var camera = try CameraRecord.fetchOne(db, key: id) else { throw Self.noCamera(id) }
            var changed: [String: String] = ["camera": id]
            if let roomID = change.roomID, roomID != camera.roomId {
                try Self.requireRoom(db, roomID)
                camera.roomId = roomID
                changed["room"] = roomID
            }
            if let name {
                camera.name = name
                changed["name"] = name
            }
            try Self.requireFreeName(db, roomID: camera.roomId, name: camera.name, except: id)
            if let sealed, let url = change.url {
                camera.urlSealed = sealed
                camera.urlMasked = url.masked
                camera.lastTest = nil
                changed["url"] = url.masked
            }
            if let enabled = change.enabled {
                camera.enabled = enabled
                changed["enabled"] = String(enabled)
            }
            camera.updatedAt = now.millis
            try camera.update(db)
            try Self.audit(db, by: admin, action: .cameraUpdated, now: now, roomID: camera.roomId, detail: changed)
        }
        return try await camera(id: id)
    }

    /// Removes a camera (audited).
    public func deleteCamera(by admin: StaffSession, id: String, now: Date = Date()) async throws {
        try await groupCommit.write { db in
            guard let camera = try CameraRecord.fetchOne(db, key: id) else { throw Self.noCamera(id) }
            try camera.delete(db)
            try Self.audit(
                db, by: admin, action: .cameraDeleted, now: now, roomID: camera.roomId,
                detail: ["camera": id, "name": camera.name, "url": camera.urlMasked])
        }
    }

    /// The camera's URL with its credentials, for opening the stream (never for showing).
    public func cameraURL(id: String) async throws -> String {
        let record = try await pool.read { db in try CameraRecord.fetchOne(db, key: id) }
        guard let record else { throw Self.noCamera(id) }
        return String(decoding: try dataKey.open(record.urlSealed, context: "camera-url:\(id)"), as: UTF8.self)
    }

    /// Keeps the result of a test with the camera (audited: who tested which camera, and what it found).
    public func recordCameraTest(by admin: StaffSession, id: String, _ test: CameraTest, now: Date = Date()) async throws
        -> CameraView
    {
        let json = String(decoding: try JSONEncoder().encode(test), as: UTF8.self)
        try await groupCommit.write { db in
            guard var camera = try CameraRecord.fetchOne(db, key: id) else { throw Self.noCamera(id) }
            camera.lastTest = json
            try camera.update(db)
            try Self.audit(
                db, by: admin, action: .cameraTested, now: now, roomID: camera.roomId,
                detail: ["camera": id, "result": test.ok ? "ok" : (test.code ?? "failed")])
        }
        return try await camera(id: id)
    }

    // MARK: Helpers

    private func sealCameraURL(_ url: String, id: String) throws -> Data {
        try dataKey.seal(Data(url.utf8), context: "camera-url:\(id)")
    }

    static func cameraViews(_ db: Database, id: String? = nil) throws -> [CameraView] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.*, r.name AS roomName FROM camera c LEFT JOIN room r ON r.id = c.roomId
                \(id == nil ? "" : "WHERE c.id = ?")
                ORDER BY c.roomId, c.name
                """, arguments: id.map { [$0] } ?? [])
        return try rows.map { row in
            let lastTest: String? = row["lastTest"]
            return CameraView(
                id: row["id"], roomId: row["roomId"], roomName: row["roomName"], name: row["name"], url: row["urlMasked"],
                enabled: row["enabled"], recordingMode: row["recordingMode"],
                lastTest: try lastTest.map { try JSONDecoder().decode(CameraTest.self, from: Data($0.utf8)) },
                createdAt: row["createdAt"], updatedAt: row["updatedAt"])
        }
    }

    static func cameraName(_ name: String) throws -> String {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 64 else {
            throw StoreError.invalidRequest("摄像头名称须为 1–64 个字符 / the camera name must be 1–64 characters")
        }
        return name
    }

    static func requireRoom(_ db: Database, _ roomID: String) throws {
        guard try RoomRecord.fetchOne(db, key: roomID) != nil else {
            throw StoreError.invalidRequest("考场 \(roomID) 不存在 / there is no room \(roomID)")
        }
    }

    static func requireFreeName(_ db: Database, roomID: String, name: String, except id: String?) throws {
        let taken = try String.fetchOne(
            db, sql: "SELECT id FROM camera WHERE roomId = ? AND name = ?", arguments: [roomID, name])
        if let taken, taken != id {
            throw StoreError.invalidRequest("考场 \(roomID) 已有名为“\(name)”的摄像头 / room \(roomID) already has a camera called \(name)")
        }
    }

    static func noCamera(_ id: String) -> StoreError { .notFound("摄像头 \(id) / the camera \(id)") }
}
