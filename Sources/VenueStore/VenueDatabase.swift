import ExamCore
import Foundation
import GRDB
import Logging
import Synchronization

/// The venue's database: one SQLite file in WAL mode with `synchronous = FULL`, so a commit is on disk before
/// anyone is told it happened. Every write the API needs has an intent-named method here.
public final class VenueDatabase: Sendable {
    let pool: DatabasePool
    let groupCommit: GroupCommit
    let logger: Logger
    /// Thesis attachments, content-addressed by SHA-256.
    public let attachmentsFolder: URL
    /// Captured face pictures, sealed with the data key.
    let faceFolder: URL
    /// Seals personal data at rest (face templates and captures).
    let dataKey: DataKey
    /// Assembled papers by sitting; cleared when a package is imported.
    private let paperCache = Mutex<[Sitting.ID: AssembledPaper]>([:])
    /// Live sessions by token hash, so a request does not need a database read to learn who sent it.
    /// Only this process ends sessions, and it drops them from here when it does.
    let sessionCache = Mutex<[String: (session: Session, expiresAt: Int64)]>([:])
    /// Attempt and sitting clocks for heartbeats; see `ClockCache`.
    let clocks = ClockCache()

    /// Opens (and creates or migrates) the database in `folder`.
    public static func open(folder: URL, logger: Logger = Logger(label: "kaodian.store")) throws -> VenueDatabase {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let attachments = folder.appendingPathComponent("attachments")
        try FileManager.default.createDirectory(at: attachments, withIntermediateDirectories: true)
        let faces = folder.appendingPathComponent("face-captures")
        try FileManager.default.createDirectory(at: faces, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let dataKey = try DataKey.loadOrCreate(in: folder)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: folder.appendingPathComponent("venue.sqlite").path, configuration: configuration)
        // GRDB sets synchronous = NORMAL on the writer when it opens a pool, after prepareDatabase ran;
        // FULL must therefore be set here, on the open writer connection.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try VenueMigrations.migrator.migrate(pool)
        return VenueDatabase(pool: pool, attachments: attachments, faces: faces, dataKey: dataKey, logger: logger)
    }

    private init(pool: DatabasePool, attachments: URL, faces: URL, dataKey: DataKey, logger: Logger) {
        self.pool = pool
        self.groupCommit = GroupCommit(writer: pool)
        self.attachmentsFolder = attachments
        self.faceFolder = faces
        self.dataKey = dataKey
        self.logger = logger
    }

    /// `PRAGMA synchronous` as the writer connection has it (2 = FULL).
    public func writerSynchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The path of the SQLite file, for tools and tests that inspect it.
    public var path: String { pool.path }

    /// The venue this appliance serves, once a package has been imported.
    public func venue() async throws -> Venue? {
        try await pool.read { db in
            try VenueIdentityRecord.fetchOne(db).map { Venue(id: Venue.ID($0.id), name: $0.name) }
        }
    }

    // MARK: Papers

    /// The assembled paper of a sitting, from the cache or the database.
    public func assembledPaper(for sittingID: Sitting.ID) async throws -> AssembledPaper {
        if let cached = paperCache.withLock({ $0[sittingID] }) { return cached }
        let paper = try await pool.read { db in try Self.loadPaper(db, sittingID: sittingID) }
        paperCache.withLock { $0[sittingID] = paper }
        return paper
    }

    /// The paper attempts of the sitting are answered on, or nil for a skill sitting (examiners score it; nobody
    /// answers on a terminal).
    func terminalPaper(for sittingID: Sitting.ID) async throws -> AssembledPaper? {
        // The room screens ask often: a paper already loaded needs no look at the sitting.
        if let cached = paperCache.withLock({ $0[sittingID] }) { return cached }
        let skill = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT subject FROM sitting WHERE id = ?", arguments: [sittingID.rawValue]) == Subject.skill.rawValue
        }
        return skill ? nil : try await assembledPaper(for: sittingID)
    }

    func clearPaperCache() {
        paperCache.withLock { $0.removeAll() }
        clocks.forgetAll()
    }

    static func loadPaper(_ db: Database, sittingID: Sitting.ID) throws -> AssembledPaper {
        // A sealed paper is never served, whatever its paper row holds.
        try refuseIfSealed(db, sittingID: sittingID.rawValue)
        guard let sitting = try SittingRecord.fetchOne(db, key: sittingID.rawValue),
            let paperRecord = try PaperRecord.fetchOne(db, key: sitting.paperId)
        else { throw StoreError.notFound("场次 \(sittingID) 的试卷 / the paper of sitting \(sittingID)") }
        if paperRecord.body == sealedPaperBody { throw StoreError.paperSealed(sittingID) }
        if paperRecord.body == skillPaperBody {
            throw StoreError.notFound("技能操作场次 \(sittingID) 没有机考试卷 / the skill sitting \(sittingID) has no paper for terminals")
        }
        let paper = try JSONDecoder().decode(Paper.self, from: Data(paperRecord.body.utf8))
        let ids = paper.sections.flatMap(\.items).map(\.question.rawValue)
        let records = try QuestionRecord.fetchAll(db, keys: ids)
        var questions: [Question.ID: Question] = [:]
        for record in records {
            let question = try JSONDecoder().decode(Question.self, from: Data(record.body.utf8))
            questions[question.id] = question
        }
        do {
            return try AssembledPaper(paper: paper, questions: questions)
        } catch {
            throw StoreError.notFound(error.message.zh + " / " + error.message.en)
        }
    }

    // MARK: Time

    /// The clock of one room of a sitting: the room may have been started early, paused, extended or ended.
    static func clock(sitting: SittingRecord, room: RoomClockRecord?) -> SittingClock {
        var clock = sittingClock(sitting)
        guard let room else { return clock }
        if let started = room.startedAt.map(Date.init(millis:)) { clock.startedAt = min(clock.startedAt ?? started, started) }
        clock.sittingExtension += TimeInterval(room.extensionSeconds)
        if let closed = room.closedAt.map(Date.init(millis:)) { clock.closedAt = min(clock.closedAt ?? closed, closed) }
        clock.pausedSeconds = TimeInterval(room.pausedSeconds)
        clock.pausedSince = room.pausedSince.map(Date.init(millis:))
        return clock
    }

    static func sittingClock(_ sitting: SittingRecord) -> SittingClock {
        SittingClock(
            scheduledStart: Date(millis: sitting.scheduledStart), duration: TimeInterval(sitting.durationSeconds),
            startedAt: sitting.startedAt.map(Date.init(millis:)),
            sittingExtension: TimeInterval(sitting.extensionSeconds), closedAt: sitting.closedAt.map(Date.init(millis:)))
    }
}

extension JSONEncoder {
    /// Sorted keys, unescaped slashes: the JSON form stored in the database.
    static var stored: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension Encodable {
    func storedJSON() throws -> String {
        String(decoding: try JSONEncoder.stored.encode(self), as: UTF8.self)
    }
}
