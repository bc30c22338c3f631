import ExamCore
import Foundation
import GRDB
import Logging
import VenuePackage

/// A sitting whose paper arrived sealed (table `sealed_paper`).
struct SealedPaperRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sealed_paper"
    var sittingId: String
    var packageId: String
    var paperId: String
    var part: String
    var ciphertext: Data
    var sha256: String
    var importedAt: Int64
    var unsealedAt: Int64?
    var unsealedBy: String?
    /// The normalised code, kept once it has opened the paper (the paper is then plain in this database anyway): a
    /// later package carrying the same sitting sealed again opens with it at import.
    var code: String?

    var sealedPaper: SealedPaper {
        SealedPaper(sitting: Sitting.ID(sittingId), paper: Paper.ID(paperId), part: part, ciphertext: ciphertext)
    }
}

/// A sealed sitting as the admin page lists it.
public struct SealedSittingView: Codable, Sendable, Hashable {
    public var sittingId: String
    public var name: String
    public var paperId: String
    public var packageId: String
    public var scheduledStart: Int64
    public var importedAt: Int64
    public var unsealedAt: Int64?
    public var unsealedBy: String?
}

extension VenueDatabase {
    /// The placeholder body of a sealed paper's `paper` row; never decoded as a paper.
    static let sealedPaperBody = #"{"sealed":true}"#

    /// Every sitting whose paper arrived sealed, opened or not, by scheduled start.
    public func sealedSittings() async throws -> [SealedSittingView] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.sittingId, s.name, p.paperId, p.packageId, s.scheduledStart, p.importedAt, p.unsealedAt, p.unsealedBy
                    FROM sealed_paper p JOIN sitting s ON s.id = p.sittingId ORDER BY s.scheduledStart, p.sittingId
                    """
            ).map {
                SealedSittingView(
                    sittingId: $0["sittingId"], name: $0["name"], paperId: $0["paperId"], packageId: $0["packageId"],
                    scheduledStart: $0["scheduledStart"], importedAt: $0["importedAt"], unsealedAt: $0["unsealedAt"],
                    unsealedBy: $0["unsealedBy"])
            }
        }
    }

    /// Sittings whose paper is still sealed.
    public func stillSealedSittings() async throws -> [Sitting.ID] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT sittingId FROM sealed_paper WHERE unsealedAt IS NULL ORDER BY sittingId")
                .map { Sitting.ID($0) }
        }
    }

    /// Opens a sitting's sealed paper with its code (启封码): the paper and its questions are written, the seal marked
    /// opened and the audit entry `paper.unsealed` appended, in one transaction. A wrong code changes nothing
    /// (`paper_seal_wrong_code`); a sitting already opened is left as it is (the code must still be right).
    /// Returns false when the paper had been opened before.
    @discardableResult
    public func unseal(sitting sittingID: Sitting.ID, code: String, actor: String, role: String, now: Date = Date())
        async throws -> Bool
    {
        let opened: Bool = try await pool.write { db in
            guard var record = try SealedPaperRecord.fetchOne(db, key: sittingID.rawValue) else {
                throw StoreError.notFound("场次 \(sittingID) 的密封试卷 / a sealed paper of the sitting \(sittingID)")
            }
            let (paper, questions) = try Self.open(db, record.sealedPaper, code: code)
            if record.unsealedAt != nil { return false }
            try Self.writeOpened(db, paper: paper, questions: questions)
            record.unsealedAt = now.millis
            record.unsealedBy = actor
            record.code = SealCode.normalise(code)
            try record.update(db)
            try Self.audit(
                db, actor: actor, role: role, action: .paperUnsealed, now: now, sittingID: sittingID.rawValue,
                detail: ["paper": paper.id.rawValue, "package": record.packageId, "questions": "\(questions.count)"])
            return true
        }
        if opened {
            // As after an import: papers are read afresh.
            clearPaperCache()
            logger.notice("unsealed the paper of sitting \(sittingID) (\(actor))")
        }
        return opened
    }

    /// Decrypts and checks a sealed part; plain questions the paper shares come from the database.
    static func open(_ db: Database, _ sealed: SealedPaper, code: String) throws -> (Paper, [Question]) {
        var lookupError: (any Error)?
        let result = try sealed.open(code: code) { id in
            do {
                guard let record = try QuestionRecord.fetchOne(db, key: id.rawValue) else { return nil }
                return try JSONDecoder().decode(Question.self, from: Data(record.body.utf8))
            } catch {
                lookupError = error
                return nil
            }
        }
        if let lookupError { throw lookupError }
        return result
    }

    /// Writes an opened paper and its questions as an import writes plain ones.
    static func writeOpened(_ db: Database, paper: Paper, questions: [Question]) throws {
        for question in questions {
            try QuestionRecord(id: question.id.rawValue, type: question.type.rawValue, body: try question.storedJSON()).upsert(db)
        }
        try PaperRecord(id: paper.id.rawValue, title: paper.title, body: try paper.storedJSON()).upsert(db)
    }

    /// Refuses while a sitting's paper is sealed (candidates, the console and the room start all go through here).
    static func refuseIfSealed(_ db: Database, sittingID: String) throws {
        if try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM sealed_paper WHERE sittingId = ? AND unsealedAt IS NULL)", arguments: [sittingID]) == true
        {
            throw StoreError.paperSealed(Sitting.ID(sittingID))
        }
    }

    static func isSealed(_ db: Database, sittingID: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM sealed_paper WHERE sittingId = ? AND unsealedAt IS NULL)", arguments: [sittingID])
            ?? false
    }

    // MARK: Import

    /// The paper body a sealed sitting of an incoming package amounts to, for the started-sitting check: unchanged
    /// when the sealed part is the one already held, the opened paper when the code kept from an earlier opening
    /// opens it, else nil (unknown: differs from anything held).
    static func incomingSealedPaperBody(_ db: Database, _ sealed: SealedPaper, existingPaperBody: String?) throws -> String? {
        guard let existing = try SealedPaperRecord.fetchOne(db, key: sealed.sitting.rawValue) else { return nil }
        if existing.sha256 == sha256Hex(sealed.ciphertext) { return existingPaperBody }
        if let code = existing.code, let opened = try? open(db, sealed, code: code) { return try opened.0.storedJSON() }
        return nil
    }

    /// Before sittings are written: a placeholder `paper` row for each sealed paper the database does not hold yet
    /// (the sitting's foreign key needs one; it is never served, `sealed_paper` decides).
    static func writeSealedPlaceholders(_ db: Database, _ sealed: [SealedPaper]) throws {
        for paper in sealed {
            try PaperRecord(id: paper.paper.rawValue, title: "（已密封 sealed）", body: sealedPaperBody).insert(db, onConflict: .ignore)
        }
    }

    /// After sittings are written: the seal of each sealed sitting. The same sealed part again changes nothing (an
    /// opened paper stays open); a new part is opened at once with the code kept from an earlier opening if it can
    /// be, else it waits for its code. A sitting that now arrives with a plain paper loses its seal.
    static func writeSeals(_ db: Database, _ sealed: [SealedPaper], contents: PackageContents, packageID: String, now: Date) throws {
        let sealedSittings = Set(sealed.map(\.sitting))
        for sitting in contents.sittings where !sealedSittings.contains(sitting.id) {
            try db.execute(sql: "DELETE FROM sealed_paper WHERE sittingId = ?", arguments: [sitting.id.rawValue])
        }
        for paper in sealed {
            let digest = sha256Hex(paper.ciphertext)
            let existing = try SealedPaperRecord.fetchOne(db, key: paper.sitting.rawValue)
            if existing?.sha256 == digest { continue }
            var record = SealedPaperRecord(
                sittingId: paper.sitting.rawValue, packageId: packageID, paperId: paper.paper.rawValue, part: paper.part,
                ciphertext: paper.ciphertext, sha256: digest, importedAt: now.millis, unsealedAt: nil, unsealedBy: nil, code: nil)
            if let existing, let code = existing.code, let opened = try? open(db, paper, code: code) {
                try writeOpened(db, paper: opened.0, questions: opened.1)
                record.unsealedAt = existing.unsealedAt
                record.unsealedBy = existing.unsealedBy
                record.code = code
            }
            try record.save(db)
        }
    }
}
