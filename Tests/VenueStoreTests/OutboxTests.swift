import ExamCore
import Foundation
import GRDB
import SyncProtocol
import TestSupport
import Testing

@testable import VenueStore

@Suite("The outbox: every record for the central office is queued in the same transaction")
struct OutboxTests {
    func everything(_ database: VenueDatabase) async throws -> [SyncItem] {
        try await database.pendingOutbox(limit: 100_000, maxBytes: .max)
    }

    func object(_ item: SyncItem) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(item.payload.utf8)) as? [String: Any])
    }

    @Test func anExamLeavesEveryRecordInTheOutboxResultsFirst() async throws {
        let start = Date().addingTimeInterval(-600)
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start.addingTimeInterval(3600), candidates: 4)
        #expect(try await everything(database).allSatisfy { $0.kind == "audit" }, "an import produces only its audit entry")
        let invigilator = try await staffSession(database, "invigilator1")
        _ = try await database.startRoom(DemoSittingID, "R01", by: invigilator, reason: nil, now: start)
        let candidate = Fixtures.candidate(0).admissionNumber
        try await database.checkIn(DemoSittingID, "R01", admissionNumber: candidate, by: invigilator, note: "证件核对", now: start)
        let session = try await login(database, 0, now: start.addingTimeInterval(5))
        _ = try await database.saveAnswers(session, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 1)])
        _ = try await database.saveAnswers(session, changes: [change("Q-TF-01", #"{"value":false}"#, seq: 2)])
        let incident = try await database.recordIncident(
            DemoSittingID, "R01", admissionNumber: candidate, category: .other, note: "夹带纸条", occurredAt: nil, by: invigilator)
        _ = try await database.submit(session)

        let items = try await everything(database)
        let kinds = items.map(\.kind)
        for kind in ["roomClock", "checkIn", "attempt", "answerLog", "incident", "attemptSubmitted", "audit"] {
            #expect(kinds.contains(kind), "no \(kind) item in \(kinds)")
        }
        #expect(kinds.filter { $0 == "answerLog" }.count == 2)
        // Results go before the venue's record: every audit entry after every result.
        let lastResult = try #require(kinds.lastIndex { $0 != "audit" })
        let firstAudit = try #require(kinds.firstIndex(of: "audit"))
        #expect(lastResult < firstAudit)
        #expect(Set(items.map(\.id)).count == items.count)
        #expect(items.allSatisfy { $0.sha256 == SyncDigest.hex(Data($0.payload.utf8)) })

        // The submission carries the final answers and the scores, as stored.
        let submitted = try object(try #require(items.first { $0.kind == "attemptSubmitted" }))
        let attemptID = submitted["id"] as? String
        let attempt = try await database.pool.read { db in try AttemptRecord.fetchOne(db, key: attemptID) }
        #expect(submitted["status"] as? String == "submitted")
        #expect(submitted["score"] as? Double == attempt?.score)
        let answers = try #require(submitted["answers"] as? [[String: Any]])
        #expect(answers.count == 1 && answers.first?["questionId"] as? String == "Q-TF-01")
        #expect((answers.first?["response"] as? [String: Any])?["value"] as? Bool == false)
        let scores = try #require(submitted["questionScores"] as? [[String: Any]])
        let stored = try await database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM question_score WHERE attemptId = ?", arguments: [attempt?.id])
        }
        #expect(scores.count == stored && !scores.isEmpty)
        #expect((submitted["sectionScores"] as? [Any])?.isEmpty == false)
        let log = try items.filter { $0.kind == "answerLog" }.map(object)
        #expect(log.map { $0["seq"] as? Int } == [1, 2])
        #expect(try object(try #require(items.first { $0.kind == "incident" }))["id"] as? String == incident)

        // Reading again gives the same ids and the same bytes (what a re-send carries).
        #expect(try await everything(database) == items)
    }

    @Test func aWriteThatRollsBackLeavesNoItemAndAcknowledgedItemsAreNotSentAgain() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(3600), candidates: 2)
        let invigilator = try await staffSession(database, "invigilator1")
        try await database.checkIn(DemoSittingID, "R01", admissionNumber: Fixtures.candidate(0).admissionNumber, by: invigilator, note: nil)
        let before = try await everything(database)
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO incident (id, sittingId, roomId, category, note, occurredAt, recordedBy, recordedAt)
                        VALUES ('x', ?, 'R01', 'other', 'n', 0, 'invigilator1', 0)
                        """, arguments: [DemoSittingID.rawValue])
                throw Abandon()
            }
        }
        #expect(try await everything(database) == before)

        // A corrected check-in is a new item; acknowledged ones are not offered again, refused ones wait aside.
        try await database.markAbsent(DemoSittingID, "R01", admissionNumber: Fixtures.candidate(1).admissionNumber, by: invigilator, reason: "未到")
        let all = try await everything(database)
        #expect(all.count > before.count)
        try await database.acknowledgeOutbox([all[0].id])
        try await database.refuseOutbox([all[1].id], reason: "item_conflict")
        let left = try await everything(database)
        #expect(left.map(\.id) == all.dropFirst(2).map(\.id))
        let summary = try await database.outboxSummary()
        #expect(summary.queuedItems == left.count && summary.acknowledgedItems == 1 && summary.refusedItems == 1)
        #expect(summary.queuedBytes == left.reduce(0) { $0 + $1.payload.utf8.count })
        #expect(try await database.refusedOutbox().map(\.id) == [all[1].id])
        // Batches are bounded by items and by bytes (always at least one item).
        #expect(try await database.pendingOutbox(limit: 1, maxBytes: .max).count == 1)
        #expect(try await database.pendingOutbox(limit: 100, maxBytes: 1).count == 1)
    }

    @Test func acknowledgedItemsAreDeletedAfterTheirKeepingTimeAndNothingElseIs() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(3600), candidates: 3)
        let invigilator = try await staffSession(database, "invigilator1")
        for index in 0..<3 {
            try await database.checkIn(DemoSittingID, "R01", admissionNumber: Fixtures.candidate(index).admissionNumber, by: invigilator, note: nil)
        }
        let all = try await everything(database)
        #expect(all.count >= 4)
        let now = Date()
        try await database.acknowledgeOutbox([all[0].id], now: now.addingTimeInterval(-40 * 86_400))
        try await database.acknowledgeOutbox([all[1].id], now: now.addingTimeInterval(-86_400))
        try await database.refuseOutbox([all[2].id], reason: "item_unusable", now: now.addingTimeInterval(-40 * 86_400))
        let checkIns = try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM check_in") }
        // Kept 30 days: only the item acknowledged 40 days ago goes; the refused and the unsent ones stay.
        #expect(try await database.pruneAcknowledgedOutbox(before: now.addingTimeInterval(-30 * 86_400)) == 1)
        let ids = try await database.pool.read { try String.fetchAll($0, sql: "SELECT id FROM sync_outbox") }
        #expect(Set(ids) == Set(all.dropFirst().map(\.id)) && ids.count == all.count - 1)
        #expect(try await database.refusedOutbox().map(\.id) == [all[2].id])
        #expect(try await everything(database).map(\.id) == all.dropFirst(3).map(\.id))
        // Kept 0 days: every acknowledged item goes; the venue's own records are untouched.
        #expect(try await database.pruneAcknowledgedOutbox(before: now) == 1)
        #expect(try await database.outboxSummary().acknowledgedItems == 0)
        #expect(try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM check_in") } == checkIns)
    }
}
