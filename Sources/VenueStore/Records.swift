import Foundation
import GRDB

// One record type per table. Times are Unix milliseconds.

extension Date {
    /// Unix milliseconds, the form times take in the database and the API.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    public init(millis: Int64) { self.init(timeIntervalSince1970: TimeInterval(millis) / 1000) }
}

struct VenueIdentityRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "venue_identity"
    var id: String
    var name: String
    var firstImportedAt: Int64
}

struct PackageImportRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "package_import"
    var packageId: String
    var manifestSHA256: String
    var issuerId: String
    var issuedAt: Int64
    var importedAt: Int64
    var manifest: String
    var summary: String
}

struct RoomRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "room"
    var id: String
    var name: String
    /// JSON array of seat labels.
    var seats: String
}

struct QuestionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "question"
    var id: String
    var type: String
    var body: String
}

struct PaperRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "paper"
    var id: String
    var title: String
    var body: String
}

struct SittingRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sitting"
    var id: String
    var name: String
    var subject: String
    var paperId: String
    var scheduledStart: Int64
    var durationSeconds: Int64
    var lateEntrySeconds: Int64?
    /// The sitting as the package described it (JSON).
    var body: String
    var startedAt: Int64?
    var startedBy: String?
    var closedAt: Int64?
    var extensionSeconds: Int64
    var packageId: String

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let startedAt = Column(CodingKeys.startedAt)
        static let startedBy = Column(CodingKeys.startedBy)
        static let extensionSeconds = Column(CodingKeys.extensionSeconds)
    }
}

extension SittingRecord {
    init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        subject = row["subject"]
        paperId = row["paperId"]
        scheduledStart = row["scheduledStart"]
        durationSeconds = row["durationSeconds"]
        lateEntrySeconds = row["lateEntrySeconds"]
        body = row["body"]
        startedAt = row["startedAt"]
        startedBy = row["startedBy"]
        closedAt = row["closedAt"]
        extensionSeconds = row["extensionSeconds"]
        packageId = row["packageId"]
    }
}

struct SittingRoomRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sitting_room"
    var sittingId: String
    var roomId: String
}

struct PhotoRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "photo"
    var sha256: String
    var contentType: String
    var data: Data
}

struct CandidateRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "candidate"
    var admissionNumber: String
    var name: String
    var idNumber: String
    var organisation: String?
    var photoSHA256: String
}

struct SeatAssignmentRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "seat_assignment"
    var sittingId: String
    var admissionNumber: String
    var roomId: String
    var seat: String

    enum Columns {
        static let sittingId = Column(CodingKeys.sittingId)
        static let admissionNumber = Column(CodingKeys.admissionNumber)
        static let roomId = Column(CodingKeys.roomId)
    }
}

struct StaffRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "staff"
    var username: String
    var name: String
    var role: String
    var passwordHash: String
    /// JSON array of room ids.
    var rooms: String
    /// `package` (came with a venue package) or `local` (added at the venue).
    var source: String = "package"
    var mustChangePassword: Bool = false
    /// The password was set at the venue; a later package does not overwrite it.
    var passwordSetLocally: Bool = false
    var disabled: Bool = false
    /// The registered photo (for face sign-in), when the package carried one.
    var photoSHA256: String? = nil
}

struct AttemptRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "attempt"
    /// The room the candidate sits in for this sitting (copied from the seat assignment).
    var roomId: String?
    var id: String
    var sittingId: String
    var admissionNumber: String
    var seed: Int64
    var status: String
    var createdAt: Int64
    var submittedAt: Int64?
    var submittedBy: String?
    var extensionSeconds: Int64
    var logLength: Int64
    var activeSessionId: String?
    var score: Double?
    var maxPoints: Double?
    var pendingPoints: Double?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let sittingId = Column(CodingKeys.sittingId)
        static let admissionNumber = Column(CodingKeys.admissionNumber)
        static let status = Column(CodingKeys.status)
    }
}

// Read on every autosave and heartbeat: decoded column by column rather than through Codable,
// which profiling showed to cost more than the SQLite work.
extension AttemptRecord {
    init(row: Row) throws {
        id = row["id"]
        sittingId = row["sittingId"]
        admissionNumber = row["admissionNumber"]
        seed = row["seed"]
        status = row["status"]
        createdAt = row["createdAt"]
        submittedAt = row["submittedAt"]
        submittedBy = row["submittedBy"]
        extensionSeconds = row["extensionSeconds"]
        logLength = row["logLength"]
        activeSessionId = row["activeSessionId"]
        score = row["score"]
        maxPoints = row["maxPoints"]
        pendingPoints = row["pendingPoints"]
        roomId = row["roomId"]
    }
}

struct AnswerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "answer"
    var attemptId: String
    var questionId: String
    /// Canonical JSON of the answer; nil when cleared.
    var response: String?
    var flagged: Bool
    var updatedAt: Int64
    var logSeq: Int64
    var sessionId: String
    var clientSeq: Int64

    enum Columns {
        static let attemptId = Column(CodingKeys.attemptId)
    }
}

struct AnswerLogRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "answer_log"
    var attemptId: String
    var seq: Int64
    var changeId: String
    var questionId: String
    var kind: String
    var response: String?
    var flagged: Bool?
    var clientSeq: Int64
    var sessionId: String
    var terminalId: String
    var clientTime: Int64?
    var serverTime: Int64

    enum Columns {
        static let attemptId = Column(CodingKeys.attemptId)
        static let seq = Column(CodingKeys.seq)
        static let changeId = Column(CodingKeys.changeId)
    }
}

struct AttemptEventRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "attempt_event"
    var id: Int64?
    var attemptId: String
    var eventId: String
    var kind: String
    var clientTime: Int64?
    var serverTime: Int64
    var sessionId: String?
    var terminalId: String?
    var detail: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum Columns {
        static let attemptId = Column(CodingKeys.attemptId)
        static let id = Column(CodingKeys.id)
    }
}

struct SessionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "session"
    var id: String
    var tokenHash: String
    var kind: String
    var attemptId: String?
    var username: String?
    var terminalId: String
    var userAgent: String?
    var address: String?
    var createdAt: Int64
    var expiresAt: Int64
    var endedAt: Int64?
    var endReason: String?
    /// A terminal move waiting for an invigilator's approval.
    var pending: Bool = false

    enum Columns {
        static let tokenHash = Column(CodingKeys.tokenHash)
        static let attemptId = Column(CodingKeys.attemptId)
        static let endedAt = Column(CodingKeys.endedAt)
    }
}

extension SessionRecord {
    init(row: Row) throws {
        id = row["id"]
        tokenHash = row["tokenHash"]
        kind = row["kind"]
        attemptId = row["attemptId"]
        username = row["username"]
        terminalId = row["terminalId"]
        userAgent = row["userAgent"]
        address = row["address"]
        createdAt = row["createdAt"]
        expiresAt = row["expiresAt"]
        endedAt = row["endedAt"]
        endReason = row["endReason"]
        pending = row["pending"]
    }
}

struct QuestionScoreRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "question_score"
    var attemptId: String
    var questionId: String
    var sectionId: String
    var maxPoints: Double
    var score: Double?
    var status: String

    enum Columns {
        static let attemptId = Column(CodingKeys.attemptId)
    }
}

struct SectionScoreRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "section_score"
    var attemptId: String
    var sectionId: String
    var title: String
    var position: Int
    var maxPoints: Double
    var score: Double
    var pendingPoints: Double

    enum Columns {
        static let attemptId = Column(CodingKeys.attemptId)
        static let position = Column(CodingKeys.position)
    }
}

struct AttachmentRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "attachment"
    var id: String
    var attemptId: String
    var questionId: String
    var name: String
    var kind: String
    var bytes: Int64
    var sha256: String
    var storedAt: Int64
}

struct TimeExtensionRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "time_extension"
    var id: Int64?
    var sittingId: String
    var roomId: String?
    var attemptId: String?
    var seconds: Int64
    var reason: String
    var grantedBy: String
    var grantedAt: Int64

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct RoomClockRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "room_clock"
    var sittingId: String
    var roomId: String
    var startedAt: Int64?
    var startedBy: String?
    var pausedSince: Int64?
    var pausedSeconds: Int64 = 0
    var extensionSeconds: Int64 = 0
    var closedAt: Int64?
    var closedBy: String?

    init(sittingId: String, roomId: String) {
        self.sittingId = sittingId
        self.roomId = roomId
    }

    init(row: Row) throws {
        sittingId = row["sittingId"]
        roomId = row["roomId"]
        startedAt = row["startedAt"]
        startedBy = row["startedBy"]
        pausedSince = row["pausedSince"]
        pausedSeconds = row["pausedSeconds"]
        extensionSeconds = row["extensionSeconds"]
        closedAt = row["closedAt"]
        closedBy = row["closedBy"]
    }
}

struct RoomPauseRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "room_pause"
    var id: Int64?
    var sittingId: String
    var roomId: String
    var pausedAt: Int64
    var pausedBy: String
    var reason: String
    var resumedAt: Int64?
    var resumedBy: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct CheckInRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "check_in"
    var sittingId: String
    var admissionNumber: String
    /// `checkedIn` or `absent`.
    var status: String
    var method: String?
    var at: Int64
    var byUser: String
    var note: String?
}

struct CameraRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "camera"
    var id: String
    var roomId: String
    var name: String
    /// The RTSP URL with its credentials, sealed with the venue's data key.
    var urlSealed: Data
    /// The URL with the password replaced by ***, the only form ever shown.
    var urlMasked: String
    var enabled: Bool
    /// The last "test" (`CameraTest` as JSON).
    var lastTest: String?
    var createdAt: Int64
    var updatedAt: Int64
    /// `auto` (follow the timetable), `on` or `off` (set by hand).
    var recordingMode: String = "auto"
}

struct IncidentRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "incident"
    var id: String
    var sittingId: String
    var roomId: String
    var admissionNumber: String?
    var category: String
    var note: String
    var occurredAt: Int64
    var recordedBy: String
    var recordedAt: Int64
}

struct MoveRequestRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "move_request"
    var id: String
    var attemptId: String
    var sessionId: String
    var fromSessionId: String?
    var fromTerminal: String?
    var toTerminal: String
    var requestedAt: Int64
    /// `pending`, `approved`, `rejected` or `superseded`.
    var status: String
    var decidedBy: String?
    var decidedAt: Int64?
    var reason: String?
}

struct AuditRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "audit_log"
    var id: Int64?
    var at: Int64
    var actor: String
    var actorRole: String
    var action: String
    var sittingId: String?
    var roomId: String?
    var admissionNumber: String?
    var attemptId: String?
    var reason: String?
    var detail: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
