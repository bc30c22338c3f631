import ExamCore
import Foundation
import GRDB

/// What the audit log records. Every console and admin action writes one entry, in the same transaction as the
/// action itself, so an action and its entry exist together or not at all.
public enum AuditAction: String, Codable, Sendable, CaseIterable {
    case staffLogin = "staff.login"
    case staffLoginFailed = "staff.loginFailed"
    case staffPasswordChanged = "staff.passwordChanged"
    case staffCreated = "staff.created"
    case staffUpdated = "staff.updated"
    case packageImported = "package.imported"
    case sittingStarted = "sitting.started"
    case roomStarted = "room.started"
    case roomPaused = "room.paused"
    case roomResumed = "room.resumed"
    case roomEnded = "room.ended"
    case timeExtended = "time.extended"
    case candidateCheckedIn = "candidate.checkedIn"
    case candidateMarkedAbsent = "candidate.markedAbsent"
    case candidateForceSubmitted = "candidate.forceSubmitted"
    case moveApproved = "move.approved"
    case moveRejected = "move.rejected"
    case incidentRecorded = "incident.recorded"
    case faceOverridden = "face.overridden"
    case staffFaceSignIn = "staff.faceSignIn"
    case cameraCreated = "camera.created"
    case cameraUpdated = "camera.updated"
    case cameraDeleted = "camera.deleted"
    case cameraTested = "camera.tested"
    case recordingDeleted = "recording.deleted"
    case recordingUploaded = "recording.uploaded"
    case paperUnsealed = "paper.unsealed"
    case faceDataDeleted = "face.dataDeleted"
    case skillSheetSubmitted = "skill.sheetSubmitted"
}

/// One entry of the audit log: who did what, when, to what, and why.
public struct AuditEntry: Codable, Sendable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    public var actorRole: String
    public var action: String
    public var sittingId: String?
    public var roomId: String?
    public var admissionNumber: String?
    public var attemptId: String?
    public var reason: String?
    public var detail: [String: String]?
}

/// Filters for reading the audit log; nil means any.
public struct AuditFilter: Sendable {
    public var actor: String?
    public var action: String?
    public var sittingID: String?
    public var roomID: String?
    public var admissionNumber: String?
    public var from: Int64?
    public var to: Int64?
    public var limit: Int
    public init(
        actor: String? = nil, action: String? = nil, sittingID: String? = nil, roomID: String? = nil,
        admissionNumber: String? = nil, from: Int64? = nil, to: Int64? = nil, limit: Int = 500
    ) {
        self.actor = actor
        self.action = action
        self.sittingID = sittingID
        self.roomID = roomID
        self.admissionNumber = admissionNumber
        self.from = from
        self.to = to
        self.limit = limit
    }
}

extension VenueDatabase {
    /// Appends one audit entry in the caller's transaction.
    static func audit(
        _ db: Database, actor: String, role: String, action: AuditAction, now: Date, sittingID: String? = nil,
        roomID: String? = nil, admissionNumber: String? = nil, attemptID: String? = nil, reason: String? = nil,
        detail: [String: String]? = nil
    ) throws {
        var record = AuditRecord(
            id: nil, at: now.millis, actor: actor, actorRole: role, action: action.rawValue, sittingId: sittingID,
            roomId: roomID, admissionNumber: admissionNumber, attemptId: attemptID, reason: reason,
            detail: try detail.map { try $0.storedJSON() })
        try record.insert(db)
    }

    static func audit(
        _ db: Database, by staff: StaffSession, action: AuditAction, now: Date, sittingID: String? = nil,
        roomID: String? = nil, admissionNumber: String? = nil, attemptID: String? = nil, reason: String? = nil,
        detail: [String: String]? = nil
    ) throws {
        try audit(
            db, actor: staff.username, role: staff.role.rawValue, action: action, now: now, sittingID: sittingID,
            roomID: roomID, admissionNumber: admissionNumber, attemptID: attemptID, reason: reason, detail: detail)
    }

    /// The audit log, newest first, filtered.
    public func auditLog(_ filter: AuditFilter) async throws -> [AuditEntry] {
        try await pool.read { db in
            var request = AuditRecord.all()
            if let actor = filter.actor { request = request.filter(Column("actor") == actor) }
            if let action = filter.action { request = request.filter(Column("action") == action) }
            if let sitting = filter.sittingID { request = request.filter(Column("sittingId") == sitting) }
            if let room = filter.roomID { request = request.filter(Column("roomId") == room) }
            if let number = filter.admissionNumber { request = request.filter(Column("admissionNumber") == number) }
            if let from = filter.from { request = request.filter(Column("at") >= from) }
            if let to = filter.to { request = request.filter(Column("at") <= to) }
            return try request.order(Column("id").desc).limit(max(1, min(filter.limit, 100_000))).fetchAll(db).map {
                AuditEntry(
                    id: $0.id ?? 0, at: $0.at, actor: $0.actor, actorRole: $0.actorRole, action: $0.action,
                    sittingId: $0.sittingId, roomId: $0.roomId, admissionNumber: $0.admissionNumber, attemptId: $0.attemptId,
                    reason: $0.reason,
                    detail: $0.detail.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) })
            }
        }
    }

    /// The filtered audit log as CSV (UTF-8 with BOM).
    public func auditCSV(_ filter: AuditFilter) async throws -> String {
        let formatter = ISO8601DateFormatter()
        var lines = [
            ["时间 time", "操作人 actor", "角色 role", "操作 action", "场次 sitting", "考场 room", "准考证号 admission number",
             "作答 attempt", "原因 reason", "详情 detail"].map(csvField).joined(separator: ",")
        ]
        for entry in try await auditLog(filter) {
            let detail = entry.detail.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            lines.append(
                [
                    formatter.string(from: Date(millis: entry.at)), entry.actor, entry.actorRole, entry.action,
                    entry.sittingId ?? "", entry.roomId ?? "", entry.admissionNumber ?? "", entry.attemptId ?? "",
                    entry.reason ?? "", detail ?? "",
                ].map(csvField).joined(separator: ","))
        }
        return CSVText.document(lines)
    }
}
