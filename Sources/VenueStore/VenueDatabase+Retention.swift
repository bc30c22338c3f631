import Foundation
import GRDB

/// What one pass of the keeping rules deleted.
public struct FaceDataDeletion: Sendable, Equatable {
    /// Pictures taken at check-in, at the terminal or at staff sign-in.
    public var pictures: Int
    /// Candidates' face templates (the features their registered photo gave).
    public var templates: Int
}

extension VenueDatabase {
    /// A sitting's end (table alias `s`), Unix ms: when its rooms were ended, or its scheduled end with any extension,
    /// whichever is later.
    static let sittingEnd = "max(COALESCE(s.closedAt, 0), s.scheduledStart + (s.durationSeconds + s.extensionSeconds) * 1000)"

    /// Face data is personal data of a sensitive kind: it is kept only as long as a complaint about a sitting can
    /// still need it. Deletes the pictures taken for verifications whose sitting ended more than `keep` ago (staff
    /// sign-ins: taken more than `keep` ago), and the face templates of candidates none of whose sittings ended less
    /// than `keep` ago (a later package for them enrols them again). The verification rows stay: they are the record,
    /// and central has them. One audit entry says how much went.
    @discardableResult
    public func deleteExpiredFaceData(keep: TimeInterval, now: Date = Date()) async throws -> FaceDataDeletion {
        let cutoff = now.addingTimeInterval(-keep).millis
        let expired = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.id, v.captureFile FROM face_verification v
                    LEFT JOIN sitting s ON s.id = v.sittingId
                    WHERE v.captureFile <> '' AND v.at < ?
                        AND NOT EXISTS (SELECT 1 FROM face_capture_deleted d WHERE d.verificationId = v.id)
                        AND (s.id IS NULL OR \(Self.sittingEnd) < ?)
                    LIMIT 10000
                    """, arguments: [cutoff, cutoff]
            ).map { (id: $0["id"] as String, file: $0["captureFile"] as String) }
        }
        // Files first: a crash in between leaves rows that the next pass marks (their files already gone).
        for item in expired {
            let url = faceFolder.appendingPathComponent(item.file)
            do {
                try FileManager.default.removeItem(at: url)
            } catch CocoaError.fileNoSuchFile {
            } catch let error as NSError where error.domain == NSPOSIXErrorDomain && error.code == Int(ENOENT) {
            }
        }
        return try await pool.write { db in
            let mark = try db.cachedStatement(sql: "INSERT OR IGNORE INTO face_capture_deleted (verificationId, deletedAt) VALUES (?, ?)")
            for item in expired { try mark.execute(arguments: [item.id, now.millis]) }
            let expiredTemplates = """
                FROM face_template WHERE personKind = 'candidate'
                    AND NOT EXISTS (
                        SELECT 1 FROM seat_assignment a JOIN sitting s ON s.id = a.sittingId
                        WHERE a.admissionNumber = face_template.personId AND \(Self.sittingEnd) >= ?)
                """
            // Remembered, so that enrolment does not make the template again from the same photo.
            try db.execute(
                sql: "INSERT OR REPLACE INTO face_template_deleted (admissionNumber, deletedAt) SELECT personId, ? " + expiredTemplates,
                arguments: [now.millis, cutoff])
            try db.execute(sql: "DELETE " + expiredTemplates, arguments: [cutoff])
            let deletion = FaceDataDeletion(pictures: expired.count, templates: db.changesCount)
            if deletion.pictures > 0 || deletion.templates > 0 {
                try Self.audit(
                    db, actor: "system", role: "system", action: .faceDataDeleted, now: now,
                    reason: "保存期限 \(Int(keep / 86_400)) 天 / kept \(Int(keep / 86_400)) days",
                    detail: ["pictures": String(deletion.pictures), "templates": String(deletion.templates)])
            }
            return deletion
        }
    }

    /// When the picture of a verification was deleted under the keeping rules, if it was.
    public func faceCaptureDeletedAt(id: String) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT deletedAt FROM face_capture_deleted WHERE verificationId = ?", arguments: [id])
        }
    }
}
