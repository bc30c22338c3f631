import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing

@testable import VenueStore

/// Logs in demo candidate `index` on a terminal.
func login(_ database: VenueDatabase, _ index: Int, terminal: String = "t1", now: Date = Date()) async throws -> CandidateSession {
    let candidate = Fixtures.candidate(index)
    let result = try await database.candidateLogin(
        admissionNumber: candidate.admissionNumber, idNumber: candidate.idNumber, terminal: TerminalInfo(terminalID: terminal),
        now: now)
    guard case .candidate(let session) = try await database.session(token: result.token, now: now) else {
        throw StoreError.sessionUnknown
    }
    return session
}

/// A staff session for one of the demo accounts (their test passwords are the demo ones).
func staffSession(_ database: VenueDatabase, _ username: String) async throws -> StaffSession {
    let password = username == "admin" ? "kaodian-admin" : "kaodian-demo"
    let result = try await database.staffLogin(username: username, password: password, terminal: TerminalInfo(terminalID: "desk"))
    guard case .staff(let session) = try await database.session(token: result.token) else { throw StoreError.sessionUnknown }
    return session
}

func change(_ question: String, _ json: String, seq: Int64, id: String = UUID().uuidString) -> AnswerChange {
    AnswerChange(
        changeId: id, questionId: question, response: try! JSONDecoder().decode(AnswerPayload.self, from: Data(json.utf8)),
        clientSeq: seq)
}

@Suite("Autosave, durability and the answer log")
struct AutosaveTests {
    @Test func theWriterConnectionSyncsFully() async throws {
        let venue = try Fixtures.venue()
        #expect(try venue.database.writerSynchronousLevel() == 2)  // FULL
        let mode = try await DatabaseQueue(path: venue.database.path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func concurrentAutosavesAreAllStoredWithAnUnbrokenLog() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10), candidates: 20)
        var sessions: [CandidateSession] = []
        for index in 0..<20 { sessions.append(try await login(database, index, terminal: "t\(index)")) }
        let all = sessions
        // 20 candidates × 15 saves each, all at once.
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for session in all {
                group.addTask {
                    var acked: [String] = []
                    for seq in 1...15 {
                        let receipt = try await database.saveAnswers(
                            session, changes: [change("Q-SA-01", #"{"text":"第\#(seq)稿"}"#, seq: Int64(seq))])
                        acked += receipt.acknowledged
                    }
                    return acked
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(acknowledged.count == 300)
        try await DatabaseQueue(path: database.path).read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM answer_log") == 300)
            for session in all {
                let seqs = try Int64.fetchAll(db, sql: "SELECT seq FROM answer_log WHERE attemptId = ? ORDER BY seq", arguments: [session.attemptID])
                #expect(seqs == Array(1...15))
                #expect(try String.fetchOne(db, sql: "SELECT response FROM answer WHERE attemptId = ?", arguments: [session.attemptID]) == #"{"text":"第15稿"}"#)
            }
        }
    }

    @Test func aResentChangeIsAcknowledgedAgainButStoredOnce() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        let first = change("Q-SC-01", #"{"choice":"a"}"#, seq: 1, id: "change-1")
        _ = try await database.saveAnswers(session, changes: [first])
        let again = try await database.saveAnswers(session, changes: [first])
        #expect(again.acknowledged == ["change-1"])
        let rows = try await DatabaseQueue(path: database.path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM answer_log") }
        #expect(rows == 1)
    }

    @Test func aLateOlderChangeIsLoggedButDoesNotOverwriteTheNewerAnswer() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        _ = try await database.saveAnswers(session, changes: [change("Q-SC-01", #"{"choice":"b"}"#, seq: 5)])
        _ = try await database.saveAnswers(session, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 4)])
        let paper = try await database.attemptPaper(session)
        #expect(paper.answers.first { $0.questionId == "Q-SC-01" }?.response == AnswerPayload(choice: "b"))
    }

    @Test func noAnswerIsAcceptedBeforeTheStartOrAfterTheEnd() async throws {
        // Packages carry times to the second.
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 60).rounded(.down))
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start)
        let session = try await login(database, 0)
        await #expect(throws: StoreError.rule(.notStarted(startsAt: start))) {
            _ = try await database.saveAnswers(session, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        }
        let end = start.addingTimeInterval(90 * 60)
        _ = try await database.saveAnswers(
            session, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)], receivedAt: end.addingTimeInterval(-0.5))
        await #expect(throws: StoreError.rule(.timeIsUp(endedAt: end))) {
            _ = try await database.saveAnswers(session, changes: [change("Q-SC-01", #"{"choice":"b"}"#, seq: 2)], receivedAt: end)
        }
    }

    @Test func anExtensionMovesTheEndForTheNamedCandidateOnly() async throws {
        let start = Date().addingTimeInterval(-90 * 60 - 30)  // ended 30 s ago
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start.addingTimeInterval(1000))
        // Start room R01 by hand at `start`, as its invigilator would have.
        let invigilator = try await staffSession(database, "invigilator1")
        _ = try await database.startRoom(DemoSittingID, "R01", by: invigilator, reason: nil, now: start)
        let extended = try await login(database, 0, now: start.addingTimeInterval(10))
        let other = try await login(database, 1, now: start.addingTimeInterval(10))
        try await database.extendTime(
            DemoSittingID, "R01", attemptID: extended.attemptID, seconds: 600, reason: "终端故障", by: invigilator)
        let receipt = try await database.saveAnswers(extended, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        #expect(receipt.clock.phase == "running")
        await #expect(throws: StoreError.self) {
            _ = try await database.saveAnswers(other, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        }
    }

    @Test func theAnswerLogIsAppendOnlyAndTracesEveryChange() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0, terminal: "pc-03")
        _ = try await database.saveAnswers(session, changes: [change("Q-SA-01", #"{"text":"初稿"}"#, seq: 1)])
        _ = try await database.saveAnswers(session, changes: [change("Q-SA-01", #"{"text":"定稿"}"#, seq: 2)])
        let log = try await database.answerLog(attemptID: session.attemptID, questionID: "Q-SA-01")
        #expect(log.map(\.seq) == [1, 2])
        #expect(log.map(\.terminalId) == ["pc-03", "pc-03"])
        #expect(log.last?.response == AnswerPayload(text: "定稿"))
        let queue = try DatabaseQueue(path: database.path)
        await #expect(throws: DatabaseError.self) {
            try await queue.write { try $0.execute(sql: "UPDATE answer_log SET response = '{}'") }
        }
        await #expect(throws: DatabaseError.self) {
            try await queue.write { try $0.execute(sql: "DELETE FROM answer_log") }
        }
    }

    @Test func aBadAnswerIsRefusedAndNothingOfTheRequestIsWritten() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        await #expect(throws: StoreError.response(.unknownOption("Q-SC-01", "zz"))) {
            _ = try await database.saveAnswers(
                session, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 1), change("Q-SC-01", #"{"choice":"zz"}"#, seq: 2)])
        }
        await #expect(throws: StoreError.unknownQuestion("nope")) {
            _ = try await database.saveAnswers(session, changes: [change("nope", #"{"value":true}"#, seq: 3)])
        }
        let rows = try await DatabaseQueue(path: database.path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM answer_log") }
        #expect(rows == 0)
    }
}

let DemoSittingID: Sitting.ID = "S-DEMO-THEORY"
