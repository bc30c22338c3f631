import Crypto
import ExamCore
import Foundation
import GRDB

/// The venue's data key: AES-256-GCM for personal data at rest (face templates, captured pictures).
/// Made once, on first start, in `DATA/keys/data.key` (mode 0600); losing it makes those records unreadable.
public struct DataKey: Sendable {
    let key: SymmetricKey

    static func loadOrCreate(in folder: URL) throws -> DataKey {
        let keys = folder.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = keys.appendingPathComponent("data.key")
        if let data = FileManager.default.contents(atPath: file.path) {
            guard data.count == 32 else { throw StoreError.invalidRequest("\(file.path) is not a 32-byte key") }
            return DataKey(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: file.path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.invalidRequest("the data key could not be written to \(file.path)")
        }
        return DataKey(key: key)
    }

    /// Nonce, ciphertext and tag in one blob; `context` binds it to its row so blobs cannot be swapped.
    func seal(_ plain: Data, context: String) throws -> Data {
        guard let combined = try AES.GCM.seal(plain, using: key, authenticating: Data(context.utf8)).combined else {
            throw StoreError.invalidRequest("sealing failed")
        }
        return combined
    }

    func open(_ sealed: Data, context: String) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Data(context.utf8))
    }
}

/// A person whose registered photo needs a face template.
public struct EnrolmentWork: Sendable {
    public var kind: String
    public var id: String
    public var name: String
    public var photoSHA256: String
    public var contentType: String
    public var photo: Data
}

/// Enrolment state for the admin page: how many templates exist and which photos could not be used.
public struct FaceEnrolmentStatus: Codable, Sendable {
    public struct Problem: Codable, Sendable {
        public var kind: String
        public var id: String
        public var name: String
        public var code: String
        public var detail: String?
        public var at: Int64
    }
    public var model: String
    public var people: Int
    public var enrolled: Int
    public var pending: Int
    public var problems: [Problem]
}

/// One face verification as the console and admin pages list it.
public struct FaceVerificationView: Codable, Sendable {
    public struct Override: Codable, Sendable {
        public var by: String
        public var reason: String
        public var at: Int64
    }
    public var id: String
    public var at: Int64
    /// `checkIn` (at the invigilator's desk).
    public var purpose: String
    public var personKind: String
    public var personId: String
    public var name: String?
    public var sittingId: String?
    public var roomId: String?
    public var by: String
    public var similarity: Double?
    public var threshold: Double
    /// `match`, `mismatch` or `unusable`.
    public var decision: String
    public var problem: String?
    public var face: [String: Double]?
    public var faceCount: Int
    public var flags: [String]
    public var model: String
    public var imageWidth: Int
    public var imageHeight: Int
    public var override: Override?
}

/// What a verification found, as the face engine reported it (VenueStore knows nothing of OpenCV).
public struct FaceVerificationInput: Sendable {
    public var similarity: Double?
    public var threshold: Double
    public var decision: String
    public var problem: String?
    public var face: [String: Double]?
    public var faceCount: Int
    public var flags: [String]
    public var model: String
    public var imageWidth: Int
    public var imageHeight: Int

    public init(
        similarity: Double?, threshold: Double, decision: String, problem: String?, face: [String: Double]?, faceCount: Int,
        flags: [String], model: String, imageWidth: Int, imageHeight: Int
    ) {
        self.similarity = similarity
        self.threshold = threshold
        self.decision = decision
        self.problem = problem
        self.face = face
        self.faceCount = faceCount
        self.flags = flags
        self.model = model
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }
}

public struct FaceVerificationFilter: Sendable {
    public var sittingID: String?
    public var roomID: String?
    public var personId: String?
    public var decision: String?
    public var purpose: String?
    public var from: Int64?
    public var to: Int64?
    public var limit: Int

    public init(
        sittingID: String? = nil, roomID: String? = nil, personId: String? = nil, decision: String? = nil,
        purpose: String? = nil, from: Int64? = nil, to: Int64? = nil, limit: Int = 1000
    ) {
        self.sittingID = sittingID
        self.roomID = roomID
        self.personId = personId
        self.decision = decision
        self.purpose = purpose
        self.from = from
        self.to = to
        self.limit = limit
    }
}

struct FaceTemplateRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "face_template"
    var personKind: String
    var personId: String
    var photoSha256: String
    var model: String
    var sealed: Data?
    var problem: String?
    var detail: String?
    var enrolledAt: Int64
}

struct FaceVerificationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "face_verification"
    var id: String
    var at: Int64
    var purpose: String
    var personKind: String
    var personId: String
    var sittingId: String?
    var roomId: String?
    var byUser: String
    var similarity: Double?
    var threshold: Double
    var decision: String
    var problem: String?
    var face: String?
    var faceCount: Int
    var flags: String
    var model: String
    var imageWidth: Int
    var imageHeight: Int
    var captureFile: String
}

struct FaceOverrideRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "face_override"
    var verificationId: String
    var byUser: String
    var reason: String
    var at: Int64
}

extension VenueDatabase {
    // MARK: Enrolment

    /// Candidates whose photo has no template for `model` yet (new photo, new model, or never tried).
    public func enrolmentWork(model: String, limit: Int = 64) async throws -> [EnrolmentWork] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.admissionNumber, c.name, c.photoSHA256, p.contentType, p.data
                    FROM candidate c JOIN photo p ON p.sha256 = c.photoSHA256
                    LEFT JOIN face_template t ON t.personKind = 'candidate' AND t.personId = c.admissionNumber
                    WHERE t.personId IS NULL OR t.photoSha256 <> c.photoSHA256 OR t.model <> ?
                    ORDER BY c.admissionNumber LIMIT ?
                    """, arguments: [model, limit]
            ).map {
                EnrolmentWork(
                    kind: "candidate", id: $0["admissionNumber"], name: $0["name"], photoSHA256: $0["photoSHA256"],
                    contentType: $0["contentType"], photo: $0["data"])
            }
        }
    }

    /// Stores a template (sealed with the data key) or the reason the photo could not give one.
    public func saveEnrolment(
        _ work: EnrolmentWork, model: String, template: Data?, problem: String?, detail: String?, now: Date = Date()
    ) async throws {
        let sealed = try template.map { try dataKey.seal($0, context: "face-template:\(work.kind):\(work.id)") }
        try await groupCommit.write { db in
            try FaceTemplateRecord(
                personKind: work.kind, personId: work.id, photoSha256: work.photoSHA256, model: model, sealed: sealed,
                problem: template == nil ? (problem ?? "face_not_found") : nil, detail: template == nil ? detail : nil,
                enrolledAt: now.millis
            ).save(db)
        }
    }

    /// The candidate's template for `model`: the embedding bytes, or why there is none.
    public func faceTemplate(admissionNumber: String, model: String) async throws -> Result<Data, StoreError> {
        let record = try await pool.read { db in
            try FaceTemplateRecord.fetchOne(db, key: ["personKind": "candidate", "personId": admissionNumber])
        }
        guard let record, record.model == model else {
            return .failure(.faceNotEnrolled("face_enrolment_pending"))
        }
        guard let sealed = record.sealed else { return .failure(.faceNotEnrolled(record.problem ?? "face_not_found")) }
        return .success(try dataKey.open(sealed, context: "face-template:candidate:\(admissionNumber)"))
    }

    public func enrolmentStatus(model: String) async throws -> FaceEnrolmentStatus {
        try await pool.read { db in
            let people = try CandidateRecord.fetchCount(db)
            let enrolled = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM face_template t JOIN candidate c ON c.admissionNumber = t.personId
                    WHERE t.personKind = 'candidate' AND t.model = ? AND t.photoSha256 = c.photoSHA256 AND t.sealed IS NOT NULL
                    """, arguments: [model]) ?? 0
            let problems = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.personKind, t.personId, c.name, t.problem, t.detail, t.enrolledAt
                    FROM face_template t JOIN candidate c ON c.admissionNumber = t.personId
                    WHERE t.personKind = 'candidate' AND t.model = ? AND t.photoSha256 = c.photoSHA256 AND t.sealed IS NULL
                    ORDER BY t.personId
                    """, arguments: [model]
            ).map {
                FaceEnrolmentStatus.Problem(
                    kind: $0["personKind"], id: $0["personId"], name: $0["name"], code: $0["problem"], detail: $0["detail"],
                    at: $0["enrolledAt"])
            }
            return FaceEnrolmentStatus(
                model: model, people: people, enrolled: enrolled, pending: people - enrolled - problems.count, problems: problems)
        }
    }

    // MARK: Verification at the desk

    /// Records a check-in verification with its sealed capture; a match checks the candidate in, in the same
    /// transaction. The capture file is on disk (synced) before the row that names it.
    public func recordCheckInVerification(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, by staff: StaffSession,
        result: FaceVerificationInput, capture: Data, now: Date = Date()
    ) async throws -> (FaceVerificationView, checkedIn: Bool) {
        let id = UUID().uuidString.lowercased()
        let file = "\(id).sealed"
        try writeDurably(try dataKey.seal(capture, context: "face-capture:\(id)"), to: faceFolder.appendingPathComponent(file))
        let checkedIn = result.decision == "match"
        try await roomActionChecked(sittingID, roomID, admissionNumber) { db, sitting, room in
            try FaceVerificationRecord(
                id: id, at: now.millis, purpose: "checkIn", personKind: "candidate", personId: admissionNumber,
                sittingId: sitting.id, roomId: room.id, byUser: staff.username, similarity: result.similarity,
                threshold: result.threshold, decision: result.decision, problem: result.problem,
                face: try result.face?.storedJSON(), faceCount: result.faceCount, flags: try result.flags.storedJSON(),
                model: result.model, imageWidth: result.imageWidth, imageHeight: result.imageHeight, captureFile: file
            ).insert(db)
            if checkedIn {
                try CheckInRecord(
                    sittingId: sitting.id, admissionNumber: admissionNumber, status: "checkedIn", method: "face", at: now.millis,
                    byUser: staff.username, note: String(format: "相似度 %.3f", result.similarity ?? 0)
                ).save(db)
                try Self.audit(
                    db, by: staff, action: .candidateCheckedIn, now: now, sittingID: sitting.id, roomID: room.id,
                    admissionNumber: admissionNumber, detail: ["method": "face", "verification": id])
            }
        }
        let view = try await faceVerifications(FaceVerificationFilter(limit: 1), id: id).first
        guard let view else { throw StoreError.notFound("face verification \(id)") }
        return (view, checkedIn)
    }

    /// The invigilator checks a candidate in although the face check failed, with a reason (audited).
    public func overrideFaceCheckIn(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, verificationID: String, by staff: StaffSession,
        reason: String, now: Date = Date()
    ) async throws {
        let reason = try Self.requiredReason(reason)
        try await roomActionChecked(sittingID, roomID, admissionNumber) { db, sitting, room in
            guard let verification = try FaceVerificationRecord.fetchOne(db, key: verificationID),
                verification.sittingId == sitting.id, verification.roomId == room.id, verification.personId == admissionNumber
            else { throw StoreError.notFound("本考场该考生的人脸核验记录 / a face verification of this candidate in this room") }
            guard verification.decision != "match" else {
                throw StoreError.invalidRequest("核验已通过，无需人工放行 / the face check passed; there is nothing to override")
            }
            guard try FaceOverrideRecord.fetchOne(db, key: verificationID) == nil else {
                throw StoreError.invalidRequest("该核验已人工放行 / this verification was already overridden")
            }
            try FaceOverrideRecord(verificationId: verificationID, byUser: staff.username, reason: reason, at: now.millis).insert(db)
            try CheckInRecord(
                sittingId: sitting.id, admissionNumber: admissionNumber, status: "checkedIn", method: "faceOverride",
                at: now.millis, byUser: staff.username, note: String(reason.prefix(500))
            ).save(db)
            try Self.audit(
                db, by: staff, action: .faceOverridden, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, reason: reason, detail: ["verification": verificationID])
        }
    }

    private func roomActionChecked(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, _ admissionNumber: String,
        _ body: @escaping @Sendable (Database, SittingRecord, RoomRecord) throws -> Void
    ) async throws {
        try await groupCommit.write { db in
            let (sitting, room) = try Self.sittingAndRoom(db, sittingID: sittingID, roomID: roomID)
            guard let seat = try SeatAssignmentRecord.fetchOne(db, key: ["sittingId": sitting.id, "admissionNumber": admissionNumber]),
                seat.roomId == room.id
            else { throw StoreError.notFound("本考场的考生 \(admissionNumber) / candidate \(admissionNumber) in this room") }
            try body(db, sitting, room)
        }
    }

    // MARK: Listing

    public func faceVerifications(_ filter: FaceVerificationFilter, id: String? = nil) async throws -> [FaceVerificationView] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            func add(_ sql: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                conditions.append(sql)
                arguments.append(value)
            }
            add("v.id = ?", id)
            add("v.sittingId = ?", filter.sittingID)
            add("v.roomId = ?", filter.roomID)
            add("v.personId = ?", filter.personId)
            add("v.decision = ?", filter.decision)
            add("v.purpose = ?", filter.purpose)
            add("v.at >= ?", filter.from)
            add("v.at <= ?", filter.to)
            arguments.append(max(1, min(filter.limit, 100_000)))
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT v.*, c.name, o.byUser AS overrideBy, o.reason AS overrideReason, o.at AS overrideAt
                    FROM face_verification v
                    LEFT JOIN candidate c ON v.personKind = 'candidate' AND c.admissionNumber = v.personId
                    LEFT JOIN face_override o ON o.verificationId = v.id
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY v.at DESC, v.id DESC LIMIT ?
                    """, arguments: StatementArguments(arguments))
            return try rows.map { row in
                let face: String? = row["face"]
                let flags: String = row["flags"]
                let overrideBy: String? = row["overrideBy"]
                return FaceVerificationView(
                    id: row["id"], at: row["at"], purpose: row["purpose"], personKind: row["personKind"], personId: row["personId"],
                    name: row["name"], sittingId: row["sittingId"], roomId: row["roomId"], by: row["byUser"],
                    similarity: row["similarity"], threshold: row["threshold"], decision: row["decision"], problem: row["problem"],
                    face: try face.map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) },
                    faceCount: row["faceCount"], flags: try JSONDecoder().decode([String].self, from: Data(flags.utf8)),
                    model: row["model"], imageWidth: row["imageWidth"], imageHeight: row["imageHeight"],
                    override: overrideBy.map { FaceVerificationView.Override(by: $0, reason: row["overrideReason"], at: row["overrideAt"]) })
            }
        }
    }

    /// The captured picture of a verification (decrypted), with where it was taken, for the access check.
    public func faceCapture(id: String) async throws -> (picture: Data, sittingID: String?, roomID: String?) {
        guard let record = try await pool.read({ db in try FaceVerificationRecord.fetchOne(db, key: id) }) else {
            throw StoreError.notFound("人脸核验记录 \(id) / face verification \(id)")
        }
        let url = faceFolder.appendingPathComponent(record.captureFile)
        guard let sealed = FileManager.default.contents(atPath: url.path) else {
            throw StoreError.notFound("核验照片 / the captured picture of verification \(id)")
        }
        return (try dataKey.open(sealed, context: "face-capture:\(id)"), record.sittingId, record.roomId)
    }

    /// The latest desk verification of each candidate of a sitting, for the roster.
    static func latestCheckInVerifications(_ db: Database, sittingID: String, roomID: String) throws -> [String: RosterEntry.Face] {
        var result: [String: RosterEntry.Face] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT v.id, v.personId, v.at, v.decision, v.similarity, o.byUser AS overrideBy
                FROM face_verification v LEFT JOIN face_override o ON o.verificationId = v.id
                WHERE v.sittingId = ? AND v.roomId = ? AND v.personKind = 'candidate'
                ORDER BY v.at, v.id
                """, arguments: [sittingID, roomID])
        {
            let overrideBy: String? = row["overrideBy"]
            result[row["personId"]] = RosterEntry.Face(
                verificationId: row["id"], at: row["at"], decision: row["decision"], similarity: row["similarity"],
                overridden: overrideBy != nil)
        }
        return result
    }
}

extension VenueDatabase {
    /// The filtered verification record as CSV (UTF-8 with BOM), for export.
    public func faceVerificationsCSV(_ filter: FaceVerificationFilter) async throws -> String {
        let formatter = ISO8601DateFormatter()
        var lines = [
            ["时间 time", "用途 purpose", "对象 person", "姓名 name", "场次 sitting", "考场 room", "操作人 by", "相似度 similarity",
             "阈值 threshold", "结论 decision", "问题 problem", "人脸数 faces", "质量 flags", "模型 model", "人工放行 override by",
             "放行原因 override reason", "记录号 id"].map(csvField).joined(separator: ",")
        ]
        for v in try await faceVerifications(filter) {
            lines.append(
                [
                    formatter.string(from: Date(millis: v.at)), v.purpose, v.personId, v.name ?? "", v.sittingId ?? "", v.roomId ?? "",
                    v.by, v.similarity.map { String(format: "%.4f", $0) } ?? "", String(format: "%.3f", v.threshold), v.decision,
                    v.problem ?? "", String(v.faceCount), v.flags.joined(separator: " "), v.model, v.override?.by ?? "",
                    v.override?.reason ?? "", v.id,
                ].map(csvField).joined(separator: ","))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }
}
