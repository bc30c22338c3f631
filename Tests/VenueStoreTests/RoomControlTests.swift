import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing
import VenuePackage

@testable import VenueStore

/// How many audit entries of `action` exist.
func auditCount(_ database: VenueDatabase, _ action: AuditAction) async throws -> Int {
    try await database.auditLog(AuditFilter(action: action.rawValue, limit: 10_000)).count
}

@Suite("Sitting control in a room")
struct RoomControlTests {
    /// A demo venue whose room R01 started at `start`, with candidates 0 and 1 (R01) logged in.
    func startedRoom(start: Date = Date().addingTimeInterval(-600)) async throws
        -> (VenueDatabase, StaffSession, CandidateSession, CandidateSession)
    {
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: start.addingTimeInterval(3600), candidates: 6)
        let invigilator = try await staffSession(database, "invigilator1")
        _ = try await database.startRoom(DemoSittingID, "R01", by: invigilator, reason: nil, now: start)
        let first = try await login(database, 0, now: start.addingTimeInterval(5))
        let second = try await login(database, 1, now: start.addingTimeInterval(5))
        return (database, invigilator, first, second)
    }

    @Test func pauseStopsTheClockForEveryCandidateInTheRoomAndAnswersWait() async throws {
        let (database, invigilator, first, second) = try await startedRoom()
        let before = try await database.attemptState(first).clock
        let pausedAt = Date()
        _ = try await database.pauseRoom(DemoSittingID, "R01", by: invigilator, reason: "停电", now: pausedAt)
        for session in [first, second] {
            let (clock, _) = try await database.clock(session, now: pausedAt.addingTimeInterval(60))
            #expect(clock.phase == "paused")
            // A minute into the pause, the remaining time has not moved.
            #expect(abs((clock.remainingMs ?? 0) - (before.remainingMs ?? 0) + (pausedAt.millis - before.serverTime)) < 1500)
            await #expect(throws: StoreError.rule(.paused)) {
                _ = try await database.saveAnswers(session, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 1)])
            }
        }
        // The console's sitting list shows each room's own clock.
        let admin = try await staffSession(database, "admin")
        let rooms = try #require(try await database.sittings(for: admin, now: pausedAt.addingTimeInterval(60)).first).rooms
        #expect(rooms.map(\.clock.phase) == ["paused", "waiting"])
        _ = try await database.resumeRoom(DemoSittingID, "R01", by: invigilator, reason: nil, now: pausedAt.addingTimeInterval(120))
        let after = try await database.attemptState(first).clock
        #expect(after.phase == "running")
        // The end moved by the two minutes the room stood still.
        #expect(abs((after.endsAt ?? 0) - (before.endsAt ?? 0) - 120_000) < 1500)
        _ = try await database.saveAnswers(first, changes: [change("Q-TF-01", #"{"value":true}"#, seq: 2)])
        // Candidates in another room are not affected.
        let other = try await database.roomView(sittingID: DemoSittingID, roomID: "R02")
        #expect(other.clock.phase == "waiting")
        // The record names who paused, who resumed and why.
        let pauses = try await database.roomReport(sittingID: DemoSittingID, roomID: "R01").pauses
        #expect(pauses.count == 1)
        #expect(pauses.first?.by == "invigilator1" && pauses.first?.resumedBy == "invigilator1" && pauses.first?.reason == "停电")
        #expect(try await auditCount(database, .roomPaused) == 1)
        #expect(try await auditCount(database, .roomResumed) == 1)
    }

    @Test func forceSubmitMakesOneAttemptReadOnly() async throws {
        let (database, invigilator, first, second) = try await startedRoom()
        _ = try await database.saveAnswers(first, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        let result = try await database.forceSubmit(
            DemoSittingID, "R01", admissionNumber: first.admissionNumber, by: invigilator, reason: "违纪，收卷")
        #expect(result.submittedBy == "invigilator")
        await #expect(throws: StoreError.rule(.alreadySubmitted)) {
            _ = try await database.saveAnswers(first, changes: [change("Q-SC-01", #"{"choice":"b"}"#, seq: 2)])
        }
        _ = try await database.saveAnswers(second, changes: [change("Q-SC-01", #"{"choice":"b"}"#, seq: 1)])
        #expect(try await database.clock(first).status == "submitted")
        #expect(try await auditCount(database, .candidateForceSubmitted) == 1)
    }

    @Test func endingTheRoomCollectsEveryOpenAttempt() async throws {
        let (database, invigilator, first, second) = try await startedRoom()
        _ = try await database.endRoom(DemoSittingID, "R01", by: invigilator, reason: "考试结束")
        for session in [first, second] {
            #expect(try await database.attemptState(session).submittedBy == "invigilator")
        }
        let report = try await database.roomReport(sittingID: DemoSittingID, roomID: "R01")
        #expect(report.submissions.count == 2)
        #expect(report.endedBy == "invigilator1")
        #expect(report.endReason == "考试结束")
        // The four candidates of R01 who never came are absent in the record.
        #expect(report.absences.count == 4)
    }

    @Test func absentCandidatesCannotLogInUntilCheckedIn() async throws {
        let (database, invigilator, _, _) = try await startedRoom()
        let number = Fixtures.candidate(2).admissionNumber
        try await database.markAbsent(DemoSittingID, "R01", admissionNumber: number, by: invigilator, reason: "未到场")
        await #expect(throws: StoreError.markedAbsent) { _ = try await login(database, 2) }
        try await database.checkIn(DemoSittingID, "R01", admissionNumber: number, by: invigilator, note: "迟到 5 分钟，核对照片")
        _ = try await login(database, 2)
        let entry = try await database.roomView(sittingID: DemoSittingID, roomID: "R01").roster.first { $0.admissionNumber == number }
        #expect(entry?.status == "answering")
        #expect(entry?.checkIn?.by == "invigilator1")
        // A candidate already logged in cannot be marked absent.
        await #expect(throws: StoreError.self) {
            try await database.markAbsent(DemoSittingID, "R01", admissionNumber: number, by: invigilator, reason: nil)
        }
    }

    @Test func incidentsShowInTheRosterAndTheRecord() async throws {
        let (database, invigilator, first, _) = try await startedRoom()
        _ = try await database.recordIncident(
            DemoSittingID, "R01", admissionNumber: first.admissionNumber, category: .cheating, note: "夹带小抄", occurredAt: nil,
            by: invigilator)
        _ = try await database.recordIncident(
            DemoSittingID, "R01", admissionNumber: nil, category: .deviceFailure, note: "空调故障", occurredAt: nil, by: invigilator)
        let view = try await database.roomView(sittingID: DemoSittingID, roomID: "R01")
        #expect(view.incidents.count == 2)
        #expect(view.roster.first { $0.admissionNumber == first.admissionNumber }?.incidents == 1)
        let report = try await database.roomReport(sittingID: DemoSittingID, roomID: "R01")
        #expect(report.incidents.map(\.category) == ["cheating", "deviceFailure"])
        #expect(try await auditCount(database, .incidentRecorded) == 2)
    }

    @Test func aRejectedMoveLeavesTheOldTerminalAnswering() async throws {
        let (database, invigilator, first, _) = try await startedRoom()
        let pending = try await login(database, 0, terminal: "pc-99")
        #expect(pending.pending)
        let move = try #require(try await database.roomView(sittingID: DemoSittingID, roomID: "R01").pendingMoves.first)
        try await database.rejectMove(DemoSittingID, "R01", moveID: move.id, by: invigilator, reason: "本人仍在原座位")
        _ = try await database.saveAnswers(first, changes: [change("Q-SC-01", #"{"choice":"a"}"#, seq: 1)])
        let token = try await database.candidateLogin(
            admissionNumber: first.admissionNumber, idNumber: Fixtures.candidate(0).idNumber, terminal: TerminalInfo(terminalID: "pc-98"))
        #expect(token.pendingApproval)
        #expect(try await auditCount(database, .moveRejected) == 1)
        await #expect(throws: StoreError.moveNotPending) {
            try await database.approveMove(DemoSittingID, "R01", moveID: move.id, by: invigilator)
        }
    }

    @Test func everyConsoleActionIsAuditedExactlyOnceAndTheLogCannotBeRewritten() async throws {
        let (database, invigilator, first, second) = try await startedRoom()
        let number = Fixtures.candidate(3).admissionNumber
        try await database.checkIn(DemoSittingID, "R01", admissionNumber: number, by: invigilator, note: nil)
        try await database.markAbsent(
            DemoSittingID, "R01", admissionNumber: Fixtures.candidate(4).admissionNumber, by: invigilator, reason: "未到")
        try await database.extendTime(DemoSittingID, "R01", attemptID: second.attemptID, seconds: 300, reason: "设备故障", by: invigilator)
        try await database.extendTime(DemoSittingID, "R01", attemptID: nil, seconds: 120, reason: "全场补时", by: invigilator)
        _ = try await database.pauseRoom(DemoSittingID, "R01", by: invigilator, reason: "噪音")
        _ = try await database.resumeRoom(DemoSittingID, "R01", by: invigilator, reason: nil)
        _ = try await database.recordIncident(
            DemoSittingID, "R01", admissionNumber: second.admissionNumber, category: .disturbance, note: "大声说话", occurredAt: nil,
            by: invigilator)
        _ = try await login(database, 1, terminal: "pc-new")
        let move = try #require(try await database.roomView(sittingID: DemoSittingID, roomID: "R01").pendingMoves.first)
        try await database.approveMove(DemoSittingID, "R01", moveID: move.id, by: invigilator)
        _ = try await database.forceSubmit(DemoSittingID, "R01", admissionNumber: first.admissionNumber, by: invigilator, reason: "收卷")
        _ = try await database.endRoom(DemoSittingID, "R01", by: invigilator, reason: "结束")
        let expected: [AuditAction: Int] = [
            .roomStarted: 1, .candidateCheckedIn: 1, .candidateMarkedAbsent: 1, .timeExtended: 2, .roomPaused: 1,
            .roomResumed: 1, .incidentRecorded: 1, .moveApproved: 1, .candidateForceSubmitted: 1, .roomEnded: 1,
        ]
        for (action, count) in expected { #expect(try await auditCount(database, action) == count, "\(action)") }
        let entries = try await database.auditLog(AuditFilter(actor: "invigilator1", limit: 1000))
        #expect(entries.allSatisfy { $0.actorRole == "invigilator" && $0.roomId == "R01" || $0.action == AuditAction.staffLogin.rawValue })
        #expect(entries.first { $0.action == AuditAction.timeExtended.rawValue && $0.admissionNumber == second.admissionNumber }?.reason == "设备故障")
        let queue = try DatabaseQueue(path: database.path)
        await #expect(throws: DatabaseError.self) { try await queue.write { try $0.execute(sql: "DELETE FROM audit_log") } }
        await #expect(throws: DatabaseError.self) { try await queue.write { try $0.execute(sql: "UPDATE audit_log SET actor = 'x'") } }
        let csv = try await database.auditCSV(AuditFilter(action: AuditAction.roomPaused.rawValue))
        #expect(csv.contains("噪音"))
    }
}

@Suite("Staff accounts")
struct AccountTests {
    @Test func aFirstRunAdminMustChangeTheOneTimePassword() async throws {
        let venue = try Fixtures.venue()
        let password = try #require(try await venue.database.ensureAdminAccount())
        #expect(try await venue.database.ensureAdminAccount() == nil)
        let login = try await venue.database.staffLogin(username: "admin", password: password, terminal: TerminalInfo(terminalID: "t"))
        #expect(login.mustChangePassword)
        guard case .staff(let session) = try await venue.database.session(token: login.token) else { throw StoreError.sessionUnknown }
        await #expect(throws: StoreError.passwordTooWeak) {
            try await venue.database.changePassword(session, current: password, new: "short1")
        }
        await #expect(throws: StoreError.staffLoginFailed) {
            try await venue.database.changePassword(session, current: "wrong", new: "a-much-better-pass-9")
        }
        try await venue.database.changePassword(session, current: password, new: "a-much-better-pass-9")
        guard case .staff(let after) = try await venue.database.session(token: login.token) else { throw StoreError.sessionUnknown }
        #expect(!after.mustChangePassword)
        #expect(try await auditCount(venue.database, .staffPasswordChanged) == 1)
    }

    @Test func aDisabledAccountCannotLogInAndItsSessionsEnd() async throws {
        let (database, _, _) = try await Fixtures.venueWithDemo()
        let admin = try await staffSession(database, "admin")
        let invigilator = try await database.staffLogin(
            username: "invigilator2", password: "kaodian-demo", terminal: TerminalInfo(terminalID: "t"))
        try await database.updateStaff(by: admin, username: "invigilator2", update: StaffUpdate(disabled: true))
        await #expect(throws: StoreError.self) { _ = try await database.session(token: invigilator.token) }
        await #expect(throws: StoreError.staffLoginFailed) {
            _ = try await database.staffLogin(username: "invigilator2", password: "kaodian-demo", terminal: TerminalInfo(terminalID: "t"))
        }
        #expect(try await auditCount(database, .staffLoginFailed) == 1)
    }

    @Test func aLocallyChangedPasswordSurvivesTheNextPackage() async throws {
        let (database, folder, contents) = try await Fixtures.venueWithDemo()
        let admin = try await staffSession(database, "admin")
        try await database.createStaff(
            by: admin, username: "examiner1", name: "考评员一", role: .examiner, rooms: ["R01"], password: "examiner-pass-1")
        var session = try await staffSession(database, "invigilator1")
        try await database.changePassword(session, current: "kaodian-demo", new: "changed-at-venue-7")
        var again = contents
        again.packageID = UUID().uuidString
        again.candidates[0].name = "改名后"
        let package = try PackageReaderShim.read(try Fixtures.writePackage(again), folder: folder)
        _ = try await database.importPackage(package)
        _ = try await database.staffLogin(username: "invigilator1", password: "changed-at-venue-7", terminal: TerminalInfo(terminalID: "t"))
        session = try await staffSession(database, "admin")
        let accounts = try await database.staffAccounts()
        #expect(accounts.first { $0.username == "examiner1" }?.source == "local")
        #expect(accounts.first { $0.username == "examiner1" }?.mustChangePassword == true)
        #expect(try await auditCount(database, .staffCreated) == 1)
    }
}

@Suite("Time-up follows the room's clock")
struct RoomTimeUpTests {
    @Test func aRoomStartedEarlyIsSubmittedAtItsOwnEndAndAPausedOneIsNot() async throws {
        let start = Date().addingTimeInterval(-2 * 3600)
        // Scheduled far in the future: only the invigilators' early starts make these rooms run.
        let (database, _, _) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(24 * 3600), candidates: 40)
        let first = try await staffSession(database, "invigilator1")
        let second = try await staffSession(database, "invigilator2")
        _ = try await database.startRoom(DemoSittingID, "R01", by: first, reason: nil, now: start)
        _ = try await database.startRoom(DemoSittingID, "R02", by: second, reason: nil, now: start)
        let inFirst = try await login(database, 0, now: start.addingTimeInterval(60))
        let inSecond = try await login(database, 30, now: start.addingTimeInterval(60))
        // R02 was paused ten minutes before its end and is still paused.
        _ = try await database.pauseRoom(DemoSittingID, "R02", by: second, reason: "停电", now: start.addingTimeInterval(80 * 60))
        let submitted = try await database.submitOverdue(now: Date())
        #expect(submitted == [inFirst.attemptID])
        #expect(try await database.attemptState(inFirst).submittedBy == "timeUp")
        #expect(try await database.attemptState(inSecond).status != "submitted")
    }
}
