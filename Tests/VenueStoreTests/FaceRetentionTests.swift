import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing

@testable import VenueStore

@Suite("Face data is kept only for its keeping time")
struct FaceRetentionTests {
    static func input(_ decision: String) -> FaceVerificationInput {
        FaceVerificationInput(
            similarity: decision == "match" ? 0.81 : 0.12, threshold: 0.36, decision: decision, problem: nil,
            face: ["x": 10, "y": 10, "width": 100, "height": 120], faceCount: 1, flags: [], model: "test-model", imageWidth: 640,
            imageHeight: 480)
    }

    @Test func picturesAndTemplatesGoAfterTheKeepingTimeAndTheRecordsStay() async throws {
        let now = Date()
        // The sitting took place 100 days ago.
        let start = now.addingTimeInterval(-100 * 86_400)
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start, candidates: 3)
        let invigilator = try await staffSession(database, "invigilator1")
        let picture = Data((0..<2048).map { UInt8($0 % 251) })
        let (atDesk, _) = try await database.recordCheckInVerification(
            DemoSittingID, "R01", admissionNumber: Fixtures.candidate(0).admissionNumber, by: invigilator, result: Self.input("match"),
            capture: picture, now: start.addingTimeInterval(-600))
        let (mismatch, _) = try await database.recordCheckInVerification(
            DemoSittingID, "R01", admissionNumber: Fixtures.candidate(1).admissionNumber, by: invigilator, result: Self.input("mismatch"),
            capture: picture, now: start.addingTimeInterval(-500))
        let admin = try await staffSession(database, "admin")
        let signIn = try await database.recordStaffSignIn(admin, result: Self.input("match"), capture: picture, now: start)
        // A sign-in of today keeps its picture.
        let recent = try await database.recordStaffSignIn(admin, result: Self.input("match"), capture: picture, now: now)
        let work = try await database.enrolmentWork(model: "test-model")
        try await database.saveEnrolments(work.map { EnrolmentOutcome(work: $0, template: Data(repeating: 7, count: 512)) }, model: "test-model")
        func templates(_ kind: String) async throws -> Int {
            try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM face_template WHERE personKind = ?", arguments: [kind]) } ?? 0
        }
        #expect(try await templates("candidate") == 3)
        let staffTemplates = try await templates("staff")
        func fileExists(_ id: String) async throws -> Bool {
            let file = try await database.pool.read { try String.fetchOne($0, sql: "SELECT captureFile FROM face_verification WHERE id = ?", arguments: [id]) }
            return FileManager.default.fileExists(atPath: database.faceFolder.appendingPathComponent(try #require(file)).path)
        }
        for id in [atDesk.id, mismatch.id, signIn.id, recent.id] { #expect(try await fileExists(id)) }

        // Kept 200 days: nothing is due yet.
        #expect(try await database.deleteExpiredFaceData(keep: 200 * 86_400, now: now) == FaceDataDeletion(pictures: 0, templates: 0))
        #expect(try await database.faceCapture(id: atDesk.id).picture == picture)

        // Kept 90 days: the sitting's pictures, the old sign-in's and the candidates' templates go; the records stay.
        let deleted = try await database.deleteExpiredFaceData(keep: 90 * 86_400, now: now)
        #expect(deleted == FaceDataDeletion(pictures: 3, templates: 3))
        for id in [atDesk.id, mismatch.id, signIn.id] { #expect(try await fileExists(id) == false) }
        #expect(try await fileExists(recent.id))
        #expect(try await database.faceCapture(id: recent.id).picture == picture)
        #expect(try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM face_verification") } == 4)
        #expect(try await templates("candidate") == 0)
        #expect(try await templates("staff") == staffTemplates)
        do {
            _ = try await database.faceCapture(id: atDesk.id)
            Issue.record("a deleted picture was shown")
        } catch let error as StoreError {
            #expect(error.code == "face_picture_deleted" && error.message.zh.contains("按保存期限删除"))
        }
        let views = try await database.faceVerifications(FaceVerificationFilter(limit: 10))
        let view = try #require(views.first { $0.id == mismatch.id })
        #expect(view.hasPicture == false && view.pictureDeletedAt == now.millis && view.decision == "mismatch")
        #expect(views.first { $0.id == recent.id }?.hasPicture == true)
        let audit = try await database.auditLog(AuditFilter(action: "face.dataDeleted"))
        #expect(audit.count == 1 && audit.first?.actor == "system" && audit.first?.detail?["pictures"] == "3")

        // Enrolment does not make the deleted templates again, unless a later sitting seats the candidates.
        #expect(try await database.enrolmentWork(model: "test-model").filter { $0.kind == "candidate" }.isEmpty)
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE sitting SET scheduledStart = ?", arguments: [now.addingTimeInterval(3600).millis])
        }
        #expect(try await database.enrolmentWork(model: "test-model").filter { $0.kind == "candidate" }.count == 3)
        try await database.pool.write { db in try db.execute(sql: "UPDATE sitting SET scheduledStart = ?", arguments: [start.millis]) }

        // Nothing more is due: a second pass deletes nothing and writes no audit entry.
        #expect(try await database.deleteExpiredFaceData(keep: 90 * 86_400, now: now) == FaceDataDeletion(pictures: 0, templates: 0))
        #expect(try await database.auditLog(AuditFilter(action: "face.dataDeleted")).count == 1)
    }
}
