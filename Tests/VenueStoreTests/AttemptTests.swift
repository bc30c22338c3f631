import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing

@testable import VenueStore

@Suite("Failover, submission and results")
struct AttemptTests {
    @Test func resumesOnAnotherTerminalWithAllAcknowledgedAnswers() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let first = try await login(database, 0, terminal: "pc-07")
        _ = try await database.saveAnswers(first, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        _ = try await database.saveAnswers(first, changes: [change("Q-SA-01", #"{"text":"断电"}"#, seq: 2)])
        let before = try await database.attemptState(first)

        var second = try await login(database, 0, terminal: "pc-12")
        #expect(second.attemptID == first.attemptID)
        #expect(second.pending)
        let invigilator = try await staffSession(database, "invigilator1")
        let move = try #require(try await database.roomView(sittingID: DemoSittingID, roomID: "R01").pendingMoves.first)
        try await database.approveMove(DemoSittingID, "R01", moveID: move.id, by: invigilator)
        second.pending = false
        let paper = try await database.attemptPaper(second)
        #expect(Set(paper.answers.map(\.questionId)) == ["Q-SC-01", "Q-SA-01"])
        // The remaining time is the server's, unchanged by the move.
        let after = try await database.attemptState(second)
        #expect(after.clock.endsAt == before.clock.endsAt)
        // The old terminal is locked out, with a clear reason.
        await #expect(throws: StoreError.terminalMoved) {
            _ = try await database.saveAnswers(first, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 3)])
        }
        let review = try await database.review(attemptID: first.attemptID)
        #expect(review.events.contains { $0.kind == "terminalMoved" && $0.detail?.contains("pc-07") == true })
    }

    @Test func submittingGradesTheAttemptAndMakesItReadOnly() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        _ = try await database.saveAnswers(
            session,
            changes: [
                change("Q-SC-01", #"{"choice":"a"}"#, seq: 1),  // right: 2
                change("Q-MC-01", #"{"choices":["a","b","c"]}"#, seq: 2),  // right: 3
                change("Q-TF-02", #"{"value":true}"#, seq: 3),  // wrong
                change("Q-FB-01", #"{"blanks":["U/R","Ω"]}"#, seq: 4),  // right: 4
                change("Q-CA-01", #"{"value":"5","working":"I=P/U"}"#, seq: 5),  // right: 10
                change("Q-SA-01", #"{"text":"切断电源"}"#, seq: 6),  // pending 10
            ])
        let result = try await database.submit(session)
        #expect(result.status == "submitted")
        #expect(result.submittedBy == "candidate")
        #expect(result.unanswered == 12)
        await #expect(throws: StoreError.rule(.alreadySubmitted)) {
            _ = try await database.saveAnswers(session, changes: [change("Q-TF-02", #"{"value":false}"#, seq: 7)])
        }
        let again = try await database.submit(session)
        #expect(again.submittedAt == result.submittedAt)
        let row = try await database.results(sittingID: DemoSittingID).first { $0.attemptId == session.attemptID }
        #expect(row?.score == 19)
        #expect(row?.pendingPoints == 10)
        #expect(row?.maxPoints == 100)
        #expect(row?.sections.count == 10)
        let csv = try await database.resultsCSV(sittingID: DemoSittingID)
        #expect(csv.contains("KD261100001"))
        #expect(csv.contains("absent"))
    }

    @Test func theServerSubmitsByItselfWhenTimeRunsOut() async throws {
        let start = Date().addingTimeInterval(-3600)
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start)
        let session = try await login(database, 0, now: start.addingTimeInterval(60))
        _ = try await database.saveAnswers(
            session, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 1)], receivedAt: start.addingTimeInterval(120))
        #expect(try await database.submitOverdue(now: start.addingTimeInterval(90 * 60 - 1)).isEmpty)
        let submitted = try await database.submitOverdue(now: start.addingTimeInterval(90 * 60 + 3))
        #expect(submitted == [session.attemptID])
        let state = try await database.attemptState(session)
        #expect(state.status == "submitted")
        #expect(state.submittedBy == "timeUp")
    }

    @Test func theReviewShowsThePaperInTheCandidatesOrder() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        let seen = try await database.attemptPaper(session)
        let review = try await database.review(attemptID: session.attemptID)
        #expect(review.paper == seen.paper)
        #expect(review.key["Q-SC-01"] != nil)
    }

    @Test func aWrongIDNumberDoesNotLogIn() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo()
        await #expect(throws: StoreError.loginFailed) {
            _ = try await database.candidateLogin(
                admissionNumber: Fixtures.candidate(0).admissionNumber, idNumber: Fixtures.candidate(1).idNumber,
                terminal: TerminalInfo(terminalID: "t"))
        }
    }

    @Test func aThesisAttachmentIsCheckedByContentAndStoredDurably() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-10))
        let session = try await login(database, 0)
        let pdf = Data("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)
        let reference = try await database.storeAttachment(session, questionID: "Q-TH-01", fileName: "论文.pdf", data: pdf)
        #expect(reference.bytes == pdf.count)
        let stored = try await database.attachment(id: reference.id)
        #expect(try Data(contentsOf: stored.file) == pdf)
        await #expect(throws: StoreError.attachmentTypeNotAllowed(allowed: ["pdf", "docx", "doc", "txt"])) {
            _ = try await database.storeAttachment(session, questionID: "Q-TH-01", fileName: "fake.pdf", data: Data("MZ\u{90}".utf8))
        }
        let answer = try JSONEncoder().encode(["text": "见附件"])  // text only first
        _ = answer
        let json = #"{"text":"见附件","attachment":{"id":"\#(reference.id)","name":"论文.pdf","bytes":\#(pdf.count),"sha256":"\#(reference.sha256)"}}"#
        let receipt = try await database.saveAnswers(session, changes: [change("Q-TH-01", json, seq: 1)])
        #expect(receipt.acknowledged.count == 1)
        await #expect(throws: StoreError.attachmentUnknown("made-up")) {
            _ = try await database.saveAnswers(
                session,
                changes: [change("Q-TH-01", #"{"text":"x","attachment":{"id":"made-up","name":"a.pdf","bytes":1,"sha256":"00"}}"#, seq: 2)])
        }
    }
}
