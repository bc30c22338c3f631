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
    /// A `FacePurpose`: `checkIn` (at the invigilator's desk), `selfCheckIn` and `recheck` (at the candidate's
    /// terminal), `staffSignIn` (a staff member signing in for duty).
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
    /// The seat, for a candidate in a room.
    public var seat: String?
    /// False when no picture was taken (the terminal's camera could not be opened) or it was deleted.
    public var hasPicture: Bool
    /// When the picture was deleted after its keeping time (`--face-keep-days`), if it was.
    public var pictureDeletedAt: Int64?
}

/// Why a face was checked.
public enum FacePurpose: String, Codable, Sendable, CaseIterable {
    /// By the invigilator at the desk.
    case checkIn
    /// By the candidate at the terminal before the paper opens.
    case selfCheckIn
    /// At a random moment during the exam, by the terminal.
    case recheck
    /// A staff member signing in for duty (考评员人脸核验签到).
    case staffSignIn
}

/// A photo's enrolment result, stored in batches.
public struct EnrolmentOutcome: Sendable {
    public var work: EnrolmentWork
    public var template: Data?
    public var problem: String?
    public var detail: String?
    public init(work: EnrolmentWork, template: Data?, problem: String? = nil, detail: String? = nil) {
        self.work = work
        self.template = template
        self.problem = problem
        self.detail = detail
    }
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
    public var personKind: String?
    public var personId: String?
    public var decision: String?
    public var purposes: [String]
    public var failedOnly: Bool
    public var from: Int64?
    public var to: Int64?
    public var limit: Int

    public init(
        sittingID: String? = nil, roomID: String? = nil, personKind: String? = nil, personId: String? = nil,
        decision: String? = nil, purposes: [String] = [], failedOnly: Bool = false, from: Int64? = nil, to: Int64? = nil,
        limit: Int = 1000
    ) {
        self.sittingID = sittingID
        self.roomID = roomID
        self.personKind = personKind
        self.personId = personId
        self.decision = decision
        self.purposes = purposes
        self.failedOnly = failedOnly
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

    /// Everyone with a registered photo: candidates, and staff whose package entry carried a photo.
    private static let people = """
        WITH person(kind, id, name, photo) AS (
            SELECT 'candidate', admissionNumber, name, photoSHA256 FROM candidate
            UNION ALL
            SELECT 'staff', username, name, photoSHA256 FROM staff WHERE photoSHA256 IS NOT NULL AND disabled = 0)
        """

    /// People whose photo has no template for `model` yet (new photo, new model, or never tried); not candidates whose
    /// template was deleted after its keeping time, unless a sitting of theirs ends after that.
    public func enrolmentWork(model: String, limit: Int = 64) async throws -> [EnrolmentWork] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: Self.people + """
                    SELECT x.kind, x.id, x.name, x.photo, p.contentType, p.data
                    FROM person x JOIN photo p ON p.sha256 = x.photo
                    LEFT JOIN face_template t ON t.personKind = x.kind AND t.personId = x.id
                    LEFT JOIN face_template_deleted d ON x.kind = 'candidate' AND d.admissionNumber = x.id
                    WHERE (t.personId IS NULL OR t.photoSha256 <> x.photo OR t.model <> ?)
                        AND (d.admissionNumber IS NULL OR EXISTS (
                            SELECT 1 FROM seat_assignment a JOIN sitting s ON s.id = a.sittingId
                            WHERE a.admissionNumber = x.id AND \(Self.sittingEnd) > d.deletedAt))
                    ORDER BY x.kind, x.id LIMIT ?
                    """, arguments: [model, limit]
            ).map {
                EnrolmentWork(
                    kind: $0["kind"], id: $0["id"], name: $0["name"], photoSHA256: $0["photo"], contentType: $0["contentType"],
                    photo: $0["data"])
            }
        }
    }

    /// Stores templates (sealed with the data key) or the reasons photos could not give one, in one transaction.
    public func saveEnrolments(_ outcomes: [EnrolmentOutcome], model: String, now: Date = Date()) async throws {
        let records = try outcomes.map { outcome in
            let work = outcome.work
            return FaceTemplateRecord(
                personKind: work.kind, personId: work.id, photoSha256: work.photoSHA256, model: model,
                sealed: try outcome.template.map { try dataKey.seal($0, context: "face-template:\(work.kind):\(work.id)") },
                problem: outcome.template == nil ? (outcome.problem ?? "face_not_found") : nil,
                detail: outcome.template == nil ? outcome.detail : nil, enrolledAt: now.millis)
        }
        guard !records.isEmpty else { return }
        try await groupCommit.write { db in
            for record in records { try record.save(db) }
        }
    }

    /// A person's template for `model`: the embedding bytes, or why there is none.
    public func faceTemplate(personKind: String = "candidate", personId: String, model: String) async throws
        -> Result<Data, StoreError>
    {
        let record = try await pool.read { db in
            try FaceTemplateRecord.fetchOne(db, key: ["personKind": personKind, "personId": personId])
        }
        guard let record, record.model == model else {
            return .failure(.faceNotEnrolled("face_enrolment_pending"))
        }
        guard let sealed = record.sealed else { return .failure(.faceNotEnrolled(record.problem ?? "face_not_found")) }
        return .success(try dataKey.open(sealed, context: "face-template:\(personKind):\(personId)"))
    }

    public func enrolmentStatus(model: String) async throws -> FaceEnrolmentStatus {
        try await pool.read { db in
            let people = try Int.fetchOne(db, sql: Self.people + "SELECT COUNT(*) FROM person") ?? 0
            let enrolled = try Int.fetchOne(
                db,
                sql: Self.people + """
                    SELECT COUNT(*) FROM face_template t JOIN person x ON x.kind = t.personKind AND x.id = t.personId
                    WHERE t.model = ? AND t.photoSha256 = x.photo AND t.sealed IS NOT NULL
                    """, arguments: [model]) ?? 0
            let problems = try Row.fetchAll(
                db,
                sql: Self.people + """
                    SELECT t.personKind, t.personId, x.name, t.problem, t.detail, t.enrolledAt
                    FROM face_template t JOIN person x ON x.kind = t.personKind AND x.id = t.personId
                    WHERE t.model = ? AND t.photoSha256 = x.photo AND t.sealed IS NULL
                    ORDER BY t.personKind, t.personId
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

    // MARK: Recording verifications

    /// Seals a captured picture into its own file, on disk (synced) before the row that names it.
    private func sealCapture(_ capture: Data?, id: String) throws -> String {
        guard let capture else { return "" }
        let file = "\(id).sealed"
        try writeDurably(try dataKey.seal(capture, context: "face-capture:\(id)"), to: faceFolder.appendingPathComponent(file))
        return file
    }

    private static func insertVerification(
        _ db: Database, id: String, purpose: FacePurpose, personKind: String, personId: String, sittingID: String?,
        roomID: String?, by: String, result: FaceVerificationInput, captureFile: String, now: Date
    ) throws {
        try FaceVerificationRecord(
            id: id, at: now.millis, purpose: purpose.rawValue, personKind: personKind, personId: personId, sittingId: sittingID,
            roomId: roomID, byUser: by, similarity: result.similarity, threshold: result.threshold, decision: result.decision,
            problem: result.problem, face: try result.face?.storedJSON(), faceCount: result.faceCount,
            flags: try result.flags.storedJSON(), model: result.model, imageWidth: result.imageWidth,
            imageHeight: result.imageHeight, captureFile: captureFile
        ).insert(db)
    }

    private func verificationView(_ id: String) async throws -> FaceVerificationView {
        guard let view = try await faceVerifications(FaceVerificationFilter(limit: 1), id: id).first else {
            throw StoreError.notFound("face verification \(id)")
        }
        return view
    }

    /// Records a check-in verification at the desk with its sealed capture; a match checks the candidate in, in the
    /// same transaction.
    public func recordCheckInVerification(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, by staff: StaffSession,
        result: FaceVerificationInput, capture: Data, now: Date = Date()
    ) async throws -> (FaceVerificationView, checkedIn: Bool) {
        let id = UUID().uuidString.lowercased()
        let file = try sealCapture(capture, id: id)
        let checkedIn = result.decision == "match"
        try await roomActionChecked(sittingID, roomID, admissionNumber) { db, sitting, room in
            try Self.insertVerification(
                db, id: id, purpose: .checkIn, personKind: "candidate", personId: admissionNumber, sittingID: sitting.id,
                roomID: room.id, by: staff.username, result: result, captureFile: file, now: now)
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
        return (try await verificationView(id), checkedIn)
    }

    /// How many self check-in tries a candidate has at the terminal before only the invigilator can check them in.
    public static let selfCheckInTries = 5

    /// Whether the terminal may send a face check of `purpose` now; throws the reason when not. Called before the
    /// picture is judged (to spare the engine) and again in the transaction that records it.
    public func requireTerminalFaceCheck(_ session: CandidateSession, purpose: FacePurpose, now: Date = Date()) async throws {
        _ = try await pool.read { db in try Self.requireTerminalFaceCheck(db, session, purpose: purpose, now: now) }
    }

    @discardableResult
    private static func requireTerminalFaceCheck(_ db: Database, _ session: CandidateSession, purpose: FacePurpose, now: Date)
        throws -> (AttemptRecord, SittingRecord)
    {
        guard let attempt = try db.attempt(id: session.attemptID), let sitting = try db.sitting(id: attempt.sittingId) else {
            throw StoreError.notFound("考试 / the attempt")
        }
        guard attempt.status != AttemptStatus.submitted.rawValue,
            let checks = try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8)).faceChecks
        else { throw StoreError.faceCheckNotDue }
        let phase = try db.clock(for: attempt, in: sitting).phase(
            attemptExtension: TimeInterval(attempt.extensionSeconds), now: now)
        switch purpose {
        case .selfCheckIn:
            guard checks.selfCheckIn else { throw StoreError.faceCheckNotDue }
            if case .over = phase { throw StoreError.faceCheckNotDue }
            if try CheckInRecord.fetchOne(db, key: ["sittingId": sitting.id, "admissionNumber": attempt.admissionNumber])?.status
                == "checkedIn"
            {
                throw StoreError.alreadyCheckedIn
            }
            let tries = try Self.verificationCount(db, attempt, purpose: .selfCheckIn)
            if tries >= selfCheckInTries { throw StoreError.faceCheckAttemptsUsed(tries) }
        case .recheck:
            let moments = checks.recheckMoments(seed: attempt.seed, durationSeconds: TimeInterval(sitting.durationSeconds))
            guard case .running(let startedAt, _) = phase,
                moments.filter({ $0 <= now.timeIntervalSince(startedAt) }).count > (try Self.verificationCount(db, attempt, purpose: .recheck))
            else { throw StoreError.faceCheckNotDue }
        case .checkIn, .staffSignIn:
            throw StoreError.faceCheckNotDue
        }
        return (attempt, sitting)
    }

    /// How many face checks of `purpose` the candidate's terminal has sent in this sitting.
    public func faceCheckCount(_ session: CandidateSession, purpose: FacePurpose) async throws -> Int {
        try await pool.read { db in
            guard let attempt = try db.attempt(id: session.attemptID) else { return 0 }
            return try Self.verificationCount(db, attempt, purpose: purpose)
        }
    }

    private static func verificationCount(_ db: Database, _ attempt: AttemptRecord, purpose: FacePurpose) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) FROM face_verification
                WHERE personKind = 'candidate' AND personId = ? AND sittingId = ? AND purpose = ?
                """, arguments: [attempt.admissionNumber, attempt.sittingId, purpose.rawValue]) ?? 0
    }

    /// Records a face check taken by the candidate's terminal (`capture` nil: the camera could not be opened).
    /// A self check-in that matches checks the candidate in; a failed re-check shows as an alert on the console.
    public func recordTerminalVerification(
        _ session: CandidateSession, purpose: FacePurpose, result: FaceVerificationInput, capture: Data?, now: Date = Date()
    ) async throws -> (FaceVerificationView, checkedIn: Bool) {
        let id = UUID().uuidString.lowercased()
        let file = try sealCapture(capture, id: id)
        let checkedIn = purpose == .selfCheckIn && result.decision == "match"
        try await groupCommit.write { db in
            let (attempt, sitting) = try Self.requireTerminalFaceCheck(db, session, purpose: purpose, now: now)
            let by = "terminal:\(session.terminalID)"
            try Self.insertVerification(
                db, id: id, purpose: purpose, personKind: "candidate", personId: attempt.admissionNumber, sittingID: sitting.id,
                roomID: attempt.roomId, by: by, result: result, captureFile: file, now: now)
            if checkedIn {
                try CheckInRecord(
                    sittingId: sitting.id, admissionNumber: attempt.admissionNumber, status: "checkedIn", method: "selfFace",
                    at: now.millis, byUser: by, note: String(format: "相似度 %.3f", result.similarity ?? 0)
                ).save(db)
                try Self.audit(
                    db, actor: attempt.admissionNumber, role: "candidate", action: .candidateCheckedIn, now: now,
                    sittingID: sitting.id, roomID: attempt.roomId, admissionNumber: attempt.admissionNumber,
                    attemptID: attempt.id, detail: ["method": "selfFace", "verification": id, "terminal": session.terminalID])
            }
        }
        return (try await verificationView(id), checkedIn)
    }

    /// Records a staff member's face sign-in for duty (考评员人脸核验签到); it is audited whatever the decision.
    public func recordStaffSignIn(_ staff: StaffSession, result: FaceVerificationInput, capture: Data, now: Date = Date())
        async throws -> FaceVerificationView
    {
        let id = UUID().uuidString.lowercased()
        let file = try sealCapture(capture, id: id)
        try await groupCommit.write { db in
            try Self.insertVerification(
                db, id: id, purpose: .staffSignIn, personKind: "staff", personId: staff.username, sittingID: nil, roomID: nil,
                by: staff.username, result: result, captureFile: file, now: now)
            try Self.audit(
                db, by: staff, action: .staffFaceSignIn, now: now,
                detail: ["verification": id, "decision": result.decision, "rooms": staff.rooms.map(\.rawValue).joined(separator: " ")])
        }
        return try await verificationView(id)
    }

    /// Whether the staff member has a registered photo to sign in against.
    public func staffHasPhoto(_ username: String) async throws -> Bool {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT photoSHA256 FROM staff WHERE username = ?", arguments: [username]) != nil
        }
    }

    /// The invigilator checks a candidate in although the face check failed, with a reason (audited).
    public func overrideFaceCheckIn(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, verificationID: String, by staff: StaffSession,
        reason: String, now: Date = Date()
    ) async throws {
        let reason = try Self.requiredReason(reason)
        try await roomActionChecked(sittingID, roomID, admissionNumber) { db, sitting, room in
            guard let verification = try FaceVerificationRecord.fetchOne(db, key: verificationID),
                verification.sittingId == sitting.id, verification.roomId == room.id, verification.personId == admissionNumber,
                verification.purpose == FacePurpose.checkIn.rawValue || verification.purpose == FacePurpose.selfCheckIn.rawValue
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
        try await pool.read { db in try Self.faceVerifications(db, filter, id: id) }
    }

    static func faceVerifications(_ db: Database, _ filter: FaceVerificationFilter, id: String? = nil) throws
        -> [FaceVerificationView]
    {
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
        add("v.personKind = ?", filter.personKind)
        add("v.personId = ?", filter.personId)
        add("v.decision = ?", filter.decision)
        add("v.at >= ?", filter.from)
        add("v.at <= ?", filter.to)
        if !filter.purposes.isEmpty {
            conditions.append("v.purpose IN (\(filter.purposes.map { _ in "?" }.joined(separator: ",")))")
            arguments += filter.purposes
        }
        if filter.failedOnly { conditions.append("v.decision <> 'match'") }
        arguments.append(max(1, min(filter.limit, 100_000)))
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT v.*, COALESCE(c.name, st.name) AS name, seat.seat AS seat,
                       o.byUser AS overrideBy, o.reason AS overrideReason, o.at AS overrideAt, gone.deletedAt AS pictureDeletedAt
                FROM face_verification v
                LEFT JOIN face_capture_deleted gone ON gone.verificationId = v.id
                LEFT JOIN candidate c ON v.personKind = 'candidate' AND c.admissionNumber = v.personId
                LEFT JOIN staff st ON v.personKind = 'staff' AND st.username = v.personId
                LEFT JOIN seat_assignment seat ON v.personKind = 'candidate' AND seat.sittingId = v.sittingId
                    AND seat.admissionNumber = v.personId
                LEFT JOIN face_override o ON o.verificationId = v.id
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY v.at DESC, v.id DESC LIMIT ?
                """, arguments: StatementArguments(arguments))
        return try rows.map { row in
            let face: String? = row["face"]
            let flags: String = row["flags"]
            let overrideBy: String? = row["overrideBy"]
            let captureFile: String = row["captureFile"]
            return FaceVerificationView(
                id: row["id"], at: row["at"], purpose: row["purpose"], personKind: row["personKind"], personId: row["personId"],
                name: row["name"], sittingId: row["sittingId"], roomId: row["roomId"], by: row["byUser"],
                similarity: row["similarity"], threshold: row["threshold"], decision: row["decision"], problem: row["problem"],
                face: try face.map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) },
                faceCount: row["faceCount"], flags: try JSONDecoder().decode([String].self, from: Data(flags.utf8)),
                model: row["model"], imageWidth: row["imageWidth"], imageHeight: row["imageHeight"],
                override: overrideBy.map { FaceVerificationView.Override(by: $0, reason: row["overrideReason"], at: row["overrideAt"]) },
                seat: row["seat"], hasPicture: !captureFile.isEmpty && row["pictureDeletedAt"] == nil,
                pictureDeletedAt: row["pictureDeletedAt"])
        }
    }

    /// The captured picture of a verification (decrypted), with whose and where it was, for the access check.
    public func faceCapture(id: String) async throws
        -> (picture: Data, personKind: String, personId: String, sittingID: String?, roomID: String?)
    {
        guard let record = try await pool.read({ db in try FaceVerificationRecord.fetchOne(db, key: id) }), !record.captureFile.isEmpty
        else { throw StoreError.notFound("核验照片 / the captured picture of verification \(id)") }
        if let deleted = try await faceCaptureDeletedAt(id: id) { throw StoreError.facePictureDeleted(at: deleted) }
        let url = faceFolder.appendingPathComponent(record.captureFile)
        guard let sealed = FileManager.default.contents(atPath: url.path) else {
            throw StoreError.notFound("核验照片 / the captured picture of verification \(id)")
        }
        return (try dataKey.open(sealed, context: "face-capture:\(id)"), record.personKind, record.personId, record.sittingId, record.roomId)
    }

    private static let checkInPurposes = [FacePurpose.checkIn.rawValue, FacePurpose.selfCheckIn.rawValue]

    /// The latest check-in verification (desk or terminal) of each candidate of a room, for the roster.
    static func latestCheckInVerifications(_ db: Database, sittingID: String, roomID: String, admissionNumber: String? = nil)
        throws -> [String: RosterEntry.Face]
    {
        var result: [String: RosterEntry.Face] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT v.id, v.personId, v.at, v.decision, v.similarity, v.purpose, o.byUser AS overrideBy
                FROM face_verification v LEFT JOIN face_override o ON o.verificationId = v.id
                WHERE v.sittingId = ? AND v.roomId = ? AND v.personKind = 'candidate' AND v.purpose IN (?, ?)
                \(admissionNumber == nil ? "" : "AND v.personId = ?")
                ORDER BY v.at, v.id
                """, arguments: StatementArguments([sittingID, roomID] + checkInPurposes + [admissionNumber].compactMap { $0 }))
        {
            let overrideBy: String? = row["overrideBy"]
            result[row["personId"]] = RosterEntry.Face(
                verificationId: row["id"], at: row["at"], decision: row["decision"], similarity: row["similarity"],
                overridden: overrideBy != nil, purpose: row["purpose"])
        }
        return result
    }

    /// Failed face checks taken by the room's terminals (self check-in and re-checks), newest first: the console's alerts.
    /// A failed self check-in stops being an alert once the candidate is checked in (by a later try or at the desk).
    static func faceAlerts(_ db: Database, sittingID: String, roomID: String) throws -> [FaceVerificationView] {
        let alerts = try faceVerifications(
            db,
            FaceVerificationFilter(
                sittingID: sittingID, roomID: roomID, personKind: "candidate",
                purposes: [FacePurpose.selfCheckIn.rawValue, FacePurpose.recheck.rawValue], failedOnly: true, limit: 50))
        guard alerts.contains(where: { $0.purpose == FacePurpose.selfCheckIn.rawValue }) else { return alerts }
        let checkedIn = Set(
            try String.fetchAll(
                db, sql: "SELECT admissionNumber FROM check_in WHERE sittingId = ? AND status = 'checkedIn'", arguments: [sittingID]))
        return alerts.filter { $0.purpose != FacePurpose.selfCheckIn.rawValue || !checkedIn.contains($0.personId) }
    }

    /// Whether a re-check is due for the attempt: how many of its moments have passed against how many were taken.
    func recheckDue(attemptID: String, admissionNumber: String, sittingID: String, moments: [TimeInterval], startedAt: Date, now: Date)
        async throws -> Bool
    {
        let passed = moments.filter { $0 <= now.timeIntervalSince(startedAt) }.count
        guard passed > 0 else { return false }
        let done = try await pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM face_verification
                    WHERE personKind = 'candidate' AND personId = ? AND sittingId = ? AND purpose = 'recheck'
                    """, arguments: [admissionNumber, sittingID]) ?? 0
        }
        return passed > done
    }
}

extension VenueDatabase {
    /// The filtered verification record as CSV (UTF-8 with BOM), for export.
    public func faceVerificationsCSV(_ filter: FaceVerificationFilter) async throws -> String {
        let formatter = ISO8601DateFormatter()
        var lines = [
            ["时间 time", "用途 purpose", "类别 kind", "对象 person", "姓名 name", "场次 sitting", "考场 room", "座位 seat",
             "操作人 by", "相似度 similarity", "阈值 threshold", "结论 decision", "问题 problem", "人脸数 faces", "质量 flags",
             "模型 model", "人工放行 override by", "放行原因 override reason", "记录号 id"].map(csvField).joined(separator: ",")
        ]
        for v in try await faceVerifications(filter) {
            lines.append(
                [
                    formatter.string(from: Date(millis: v.at)), v.purpose, v.personKind, v.personId, v.name ?? "", v.sittingId ?? "",
                    v.roomId ?? "", v.seat ?? "", v.by, v.similarity.map { String(format: "%.4f", $0) } ?? "",
                    String(format: "%.3f", v.threshold), v.decision, v.problem ?? "", String(v.faceCount),
                    v.flags.joined(separator: " "), v.model, v.override?.by ?? "", v.override?.reason ?? "", v.id,
                ].map(csvField).joined(separator: ","))
        }
        return CSVText.document(lines)
    }
}
