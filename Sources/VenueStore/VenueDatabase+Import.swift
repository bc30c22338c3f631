import ExamCore
import Foundation
import GRDB
import Logging
import VenuePackage

/// What an import did.
public struct ImportSummary: Codable, Sendable, Hashable {
    public var packageID: String
    public var manifestSHA256: String
    public var issuer: String
    public var venue: String
    public var sittings: Int
    public var rooms: Int
    public var candidates: Int
    public var staff: Int
    public var questions: Int
    public var papers: Int
    /// Papers that arrived sealed (version 2 packages); nil in summaries of earlier imports.
    public var sealedPapers: Int?
    /// False when the same package had been imported before and nothing changed.
    public var newlyImported: Bool
    /// Unix milliseconds, like every time in the API.
    public var importedAt: Int64
}

extension VenueDatabase {
    /// Imports a checked package in one transaction: everything or nothing.
    /// The same package a second time changes nothing; a package for another venue, or one that would change a
    /// sitting candidates have already started, is refused whole.
    public func importPackage(
        _ package: VerifiedPackage, actor: String = "command line", actorRole: String = "system", now: Date = Date()
    ) async throws -> ImportSummary {
        let contents = package.contents
        let manifestJSON = String(decoding: try PackageJSON.encoder().encode(package.manifest), as: UTF8.self)
        let summary = ImportSummary(
            packageID: contents.packageID, manifestSHA256: package.manifestSHA256, issuer: contents.issuer.id,
            venue: contents.venue.id.rawValue, sittings: contents.sittings.count, rooms: contents.rooms.count,
            candidates: contents.candidates.count, staff: contents.staff.count, questions: contents.questions.count,
            papers: contents.papers.count + package.sealed.count, sealedPapers: package.sealed.count,
            newlyImported: true, importedAt: now.millis)
        let result: ImportSummary = try await pool.write { db in
            if let earlier = try PackageImportRecord.filter(Column("manifestSHA256") == package.manifestSHA256).fetchOne(db) {
                var again = try JSONDecoder.package.decode(ImportSummary.self, from: Data(earlier.summary.utf8))
                again.newlyImported = false
                return again
            }
            if try PackageImportRecord.fetchOne(db, key: contents.packageID) != nil {
                throw StoreError.packageConflict(
                    Message(
                        zh: "数据包编号 \(contents.packageID) 已被另一个内容不同的数据包使用",
                        en: "the package id \(contents.packageID) was already used by a package with different content"))
            }
            if let identity = try VenueIdentityRecord.fetchOne(db) {
                guard identity.id == contents.venue.id.rawValue else {
                    throw StoreError.wrongVenue(expected: identity.id, got: contents.venue.id.rawValue)
                }
                try db.execute(sql: "UPDATE venue_identity SET name = ?", arguments: [contents.venue.name])
            } else {
                try VenueIdentityRecord(id: contents.venue.id.rawValue, name: contents.venue.name, firstImportedAt: now.millis)
                    .insert(db)
            }
            try Self.refuseChangesToStartedSittings(db, contents: contents, sealed: package.sealed)
            try Self.writeSealedPlaceholders(db, package.sealed)
            try Self.write(contents, packageID: contents.packageID, db: db)
            try Self.writeSeals(db, package.sealed, contents: contents, packageID: contents.packageID, now: now)
            try PackageImportRecord(
                packageId: contents.packageID, manifestSHA256: package.manifestSHA256, issuerId: contents.issuer.id,
                issuedAt: contents.issuedAt.millis, importedAt: now.millis, manifest: manifestJSON,
                summary: try summary.storedJSON()
            ).insert(db)
            try Self.audit(
                db, actor: actor, role: actorRole, action: .packageImported, now: now,
                detail: [
                    "package": contents.packageID, "issuer": contents.issuer.id, "sha256": package.manifestSHA256,
                    "candidates": "\(contents.candidates.count)", "sittings": "\(contents.sittings.count)",
                ])
            return summary
        }
        if result.newlyImported {
            clearPaperCache()
            logger.info("imported venue package \(result.packageID) (\(result.candidates) candidates, \(result.sittings) sittings)")
        }
        return result
    }

    /// A sitting somebody has started answering may only arrive again unchanged: same sitting, paper and seats.
    /// A sealed paper counts as unchanged when its sealed part is the one held, or when the code kept from an earlier
    /// opening opens it to the same paper; a sealed part nothing here can open counts as a change.
    private static func refuseChangesToStartedSittings(_ db: Database, contents: PackageContents, sealed: [SealedPaper]) throws {
        for sitting in contents.sittings {
            let attempts = try AttemptRecord.filter(AttemptRecord.Columns.sittingId == sitting.id.rawValue).fetchCount(db)
            let sheets = try Int.fetchOne(db, sql: "SELECT count(*) FROM skill_sheet WHERE sittingId = ?", arguments: [sitting.id.rawValue]) ?? 0
            guard attempts + sheets > 0, let existing = try SittingRecord.fetchOne(db, key: sitting.id.rawValue) else { continue }
            let existingPaper =
                sitting.subject == .skill
                ? try String.fetchOne(db, sql: "SELECT body FROM skill_paper WHERE id = ?", arguments: [existing.paperId])
                : try PaperRecord.fetchOne(db, key: existing.paperId)?.body
            let paperBody: String? =
                if sitting.subject == .skill {
                    try contents.skillPapers.first { $0.id == sitting.paper }?.storedJSON()
                } else if let seal = sealed.first(where: { $0.sitting == sitting.id }) {
                    try incomingSealedPaperBody(db, seal, existingPaperBody: existingPaper)
                } else {
                    try contents.papers.first { $0.id == sitting.paper }?.storedJSON()
                }
            let seats = Set(contents.seats.filter { $0.sitting == sitting.id }.map { "\($0.admissionNumber)|\($0.room)|\($0.seat)" })
            let existingSeats = Set(
                try SeatAssignmentRecord.filter(SeatAssignmentRecord.Columns.sittingId == sitting.id.rawValue).fetchAll(db)
                    .map { "\($0.admissionNumber)|\($0.roomId)|\($0.seat)" })
            if existing.body != (try sitting.storedJSON()) || paperBody != existingPaper || seats != existingSeats {
                throw StoreError.packageConflict(
                    Message(
                        zh: "场次 \(sitting.id) 已有考生开始作答，数据包不能再修改该场次、其试卷或座位",
                        en: "candidates have already started the sitting \(sitting.id); a package may no longer change it, its paper or its seats"))
            }
        }
    }

    private static func write(_ contents: PackageContents, packageID: String, db: Database) throws {
        for room in contents.rooms {
            try RoomRecord(id: room.id.rawValue, name: room.name, seats: try room.seats.storedJSON()).upsert(db)
        }
        for question in contents.questions {
            try QuestionRecord(id: question.id.rawValue, type: question.type.rawValue, body: try question.storedJSON()).upsert(db)
        }
        for paper in contents.papers {
            try PaperRecord(id: paper.id.rawValue, title: paper.title, body: try paper.storedJSON()).upsert(db)
        }
        for paper in contents.skillPapers {
            try PaperRecord(id: paper.id.rawValue, title: paper.title, body: skillPaperBody).upsert(db)
            try db.execute(
                sql: "INSERT INTO skill_paper (id, title, body) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, body = excluded.body",
                arguments: [paper.id.rawValue, paper.title, try paper.storedJSON()])
        }
        for sitting in contents.sittings {
            // Keep what happened at the venue (start, extensions, close); take the rest from the package.
            try db.execute(
                sql: """
                    INSERT INTO sitting (id, name, subject, paperId, scheduledStart, durationSeconds, lateEntrySeconds,
                                         body, extensionSeconds, packageId)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, subject = excluded.subject,
                        paperId = excluded.paperId, scheduledStart = excluded.scheduledStart,
                        durationSeconds = excluded.durationSeconds, lateEntrySeconds = excluded.lateEntrySeconds,
                        body = excluded.body, packageId = excluded.packageId
                    """,
                arguments: [
                    sitting.id.rawValue, sitting.name, sitting.subject.rawValue, sitting.paper.rawValue,
                    sitting.scheduledStart.millis, Int64(sitting.durationMinutes) * 60,
                    sitting.lateEntryMinutes.map { Int64($0) * 60 }, try sitting.storedJSON(), packageID,
                ])
            try db.execute(sql: "DELETE FROM sitting_room WHERE sittingId = ?", arguments: [sitting.id.rawValue])
            for room in sitting.rooms {
                try SittingRoomRecord(sittingId: sitting.id.rawValue, roomId: room.rawValue).insert(db)
            }
            try db.execute(sql: "DELETE FROM seat_assignment WHERE sittingId = ?", arguments: [sitting.id.rawValue])
        }
        for candidate in contents.candidates {
            let data = contents.photos[candidate.photo] ?? Data()
            let digest = sha256Hex(data)
            let kind = PhotoKind.recognise(data) ?? .jpeg
            try PhotoRecord(sha256: digest, contentType: kind.contentType, data: data).insert(db, onConflict: .ignore)
            try CandidateRecord(
                admissionNumber: candidate.admissionNumber, name: candidate.name,
                idNumber: IdentityNumber.normalise(candidate.idNumber), organisation: candidate.organisation,
                photoSHA256: digest
            ).upsert(db)
        }
        for seat in contents.seats {
            try SeatAssignmentRecord(
                sittingId: seat.sitting.rawValue, admissionNumber: seat.admissionNumber, roomId: seat.room.rawValue,
                seat: seat.seat
            ).insert(db)
        }
        for member in contents.staff {
            var photoDigest: String?
            if let path = member.photo, let data = contents.photos[path] {
                let digest = sha256Hex(data)
                let kind = PhotoKind.recognise(data) ?? .jpeg
                try PhotoRecord(sha256: digest, contentType: kind.contentType, data: data).insert(db, onConflict: .ignore)
                photoDigest = digest
            }
            // A password changed at the venue stays; everything else follows the package.
            try db.execute(
                sql: """
                    INSERT INTO staff (username, name, role, passwordHash, rooms, source, photoSHA256)
                    VALUES (?, ?, ?, ?, ?, 'package', ?)
                    ON CONFLICT(username) DO UPDATE SET name = excluded.name, role = excluded.role, rooms = excluded.rooms,
                        photoSHA256 = excluded.photoSHA256,
                        passwordHash = CASE WHEN staff.passwordSetLocally THEN staff.passwordHash ELSE excluded.passwordHash END
                    """,
                arguments: [
                    member.username, member.name, member.role.rawValue, member.passwordHash,
                    try member.rooms.map(\.rawValue).storedJSON(), photoDigest,
                ])
        }
    }

    /// Packages imported so far, newest first.
    public func importedPackages() async throws -> [ImportSummary] {
        try await pool.read { db in
            try PackageImportRecord.order(Column("importedAt").desc).fetchAll(db).map {
                try JSONDecoder.package.decode(ImportSummary.self, from: Data($0.summary.utf8))
            }
        }
    }
}
