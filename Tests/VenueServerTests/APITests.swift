import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing
import VenuePackage
import VenueStore

@testable import VenueServer

/// Runs `body` against the venue's router with the demo exam imported.
func withVenue<T: Sendable>(
    startsAt: Date = Date().addingTimeInterval(3600),
    _ body: @Sendable (any TestClientProtocol, VenueDatabase, URL) async throws -> T
) async throws -> T {
    let (database, folder, _) = try await Fixtures.venueWithDemo(startsAt: startsAt)
    // Without face models: loading the engines for every test costs time and memory; the face tests load them.
    let configuration = VenueConfiguration(
        dataDirectory: folder, host: "127.0.0.1", port: 0, faceModels: folder.appendingPathComponent("no-face-models"))
    let router = VenueApp.buildRouter(database: database, configuration: configuration, logger: Logger(label: "test"))
    return try await Application(router: router).test(.router) { client in try await body(client, database, folder) }
}

func json(_ value: some Encodable) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONEncoder().encode(value))
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(T.self, from: Data(response.body.readableBytesView))
}

struct ErrorEnvelope: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
        var messageZh: String
    }
    var error: Detail
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

func candidateToken(_ client: some TestClientProtocol, index: Int = 0, terminal: String = "t1") async throws -> String {
    let credentials = Fixtures.candidate(index)
    let response = try await client.execute(
        uri: "/api/candidate/login", method: .post, headers: [.contentType: "application/json"],
        body: json(["admissionNumber": credentials.admissionNumber, "idNumber": credentials.idNumber, "terminalId": terminal]))
    #expect(response.status == .ok)
    return try decode(LoginResult.self, response).token
}

func staffToken(_ client: some TestClientProtocol, username: String = "invigilator1", password: String = "kaodian-demo")
    async throws -> String
{
    let response = try await client.execute(
        uri: "/api/staff/login", method: .post, headers: [.contentType: "application/json"],
        body: json(["username": username, "password": password]))
    #expect(response.status == .ok)
    return try decode(LoginResult.self, response).token
}

@Suite("Venue HTTP API")
struct APITests {
    @Test func aCandidateTakesTheExamThroughTheAPI() async throws {
        try await withVenue { client, _, _ in
            let token = try await candidateToken(client)
            // Before the start the paper is withheld, with a stable code.
            let early = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(token))
            #expect(early.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, early).error.code == "sitting_not_started")

            let invigilator = try await staffToken(client)
            let start = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/start", method: .post, headers: bearer(invigilator))
            #expect(start.status == .ok)

            let paperResponse = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(token))
            #expect(paperResponse.status == .ok)
            let paper = try decode(AttemptPaper.self, paperResponse)
            #expect(paper.paper.answerOrder.count == 18)
            #expect(!String(buffer: paperResponse.body).contains("\"correct\""))

            let save = try await client.execute(
                uri: "/api/attempt/answers", method: .post, headers: bearer(token),
                body: json(["changes": [AnswerChange(changeId: "c1", questionId: "Q-TF-01", response: AnswerPayload(value: .bool(true)), clientSeq: 1)]]))
            #expect(save.status == .ok)
            #expect(try decode(SaveReceipt.self, save).acknowledged == ["c1"])

            let submit = try await client.execute(
                uri: "/api/attempt/submit", method: .post, headers: bearer(token), body: json(["confirm": true]))
            #expect(submit.status == .ok)
            #expect(try decode(SubmitResult.self, submit).unanswered == 17)

            let late = try await client.execute(
                uri: "/api/attempt/answers", method: .post, headers: bearer(token),
                body: json(["changes": [AnswerChange(changeId: "c2", questionId: "Q-TF-01", response: AnswerPayload(value: .bool(false)), clientSeq: 2)]]))
            #expect(late.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, late).error.code == "attempt_submitted")

            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let csv = try await client.execute(uri: "/api/admin/sittings/S-DEMO-THEORY/results.csv", method: .get, headers: bearer(admin))
            #expect(csv.status == .ok)
            #expect(String(buffer: csv.body).contains("KD261100001"))
        }
    }

    @Test func errorsHaveAStableCodeAndReadableMessagesInBothLanguages() async throws {
        try await withVenue { client, _, _ in
            let missing = try await client.execute(uri: "/api/nothing-here", method: .get)
            #expect(missing.status == .notFound)
            #expect(try decode(ErrorEnvelope.self, missing).error.code == "not_found")

            let malformed = try await client.execute(
                uri: "/api/candidate/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"admissionNumber\": 12"))
            #expect(malformed.status == .badRequest)
            #expect(try decode(ErrorEnvelope.self, malformed).error.code == "invalid_request")

            let wrong = try await client.execute(
                uri: "/api/candidate/login", method: .post, headers: [.contentType: "application/json"],
                body: json(["admissionNumber": "KD261100001", "idNumber": "110105197501010001", "terminalId": "t"]))
            #expect(wrong.status == .unauthorized)
            let body = try decode(ErrorEnvelope.self, wrong).error
            #expect(body.code == "login_failed")
            #expect(body.messageZh == "准考证号或身份证号不正确")

            let anonymous = try await client.execute(uri: "/api/attempt", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test func aCandidateCannotReachStaffRoutes() async throws {
        try await withVenue { client, _, _ in
            let token = try await candidateToken(client)
            for uri in ["/api/console/sittings", "/api/admin/packages", "/api/admin/sittings/S-DEMO-THEORY/results"] {
                let response = try await client.execute(uri: uri, method: .get, headers: bearer(token))
                #expect(response.status == .forbidden || response.status == .unauthorized, "\(uri) answered \(response.status)")
            }
            let invigilator = try await staffToken(client)
            let other = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R02", method: .get, headers: bearer(invigilator))
            #expect(other.status == .forbidden)
            let own = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01", method: .get, headers: bearer(invigilator))
            #expect(own.status == .ok)
        }
    }

    @Test func theHeartbeatFollowsTheStartAndAnExtensionAtOnce() async throws {
        struct Beat: Decodable {
            var clock: ClockView
            var status: String
        }
        try await withVenue { client, _, _ in
            let token = try await candidateToken(client)
            let before = try decode(Beat.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(token)))
            #expect(before.clock.phase == "waiting")
            let invigilator = try await staffToken(client)
            _ = try await client.execute(uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/start", method: .post, headers: bearer(invigilator))
            let running = try decode(Beat.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(token)))
            #expect(running.clock.phase == "running")
            let state = try decode(AttemptState.self, try await client.execute(uri: "/api/attempt", method: .get, headers: bearer(token)))
            let extend = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/extensions", method: .post, headers: bearer(invigilator),
                body: json(ExtendBody(attemptId: state.attemptId, seconds: 600, reason: "停电补时")))
            #expect(extend.status == .noContent)
            let extended = try decode(Beat.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(token)))
            #expect(extended.clock.endsAt == running.clock.endsAt.map { $0 + 600_000 })
        }
    }

    @Test func aMoveToAnotherTerminalWaitsForTheInvigilatorThenLocksTheOldOneOut() async throws {
        struct Beat: Decodable {
            var status: String
        }
        try await withVenue(startsAt: Date().addingTimeInterval(-60)) { client, _, _ in
            let first = try await candidateToken(client, terminal: "pc-1")
            let second = try await candidateToken(client, terminal: "pc-2")
            // Waiting: the new terminal may not answer yet, the old one carries on.
            let pending = try decode(Beat.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(second)))
            #expect(pending.status == "movePending")
            let early = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(second))
            #expect(try decode(ErrorEnvelope.self, early).error.code == "move_pending")
            #expect(try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(first)).status == .ok)

            let invigilator = try await staffToken(client)
            let room = try decode(RoomView.self, try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01", method: .get, headers: bearer(invigilator)))
            let move = try #require(room.pendingMoves.first)
            #expect(move.fromTerminal == "pc-1" && move.toTerminal == "pc-2")
            let approve = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/moves/\(move.id)/approve", method: .post, headers: bearer(invigilator))
            #expect(approve.status == .noContent)

            let old = try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(first))
            #expect(old.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, old).error.code == "terminal_moved")
            #expect(try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(second)).status == .ok)
        }
    }

    @Test func anAdminImportsAPackageAndARefusedOneListsEveryProblem() async throws {
        try await withVenue { client, _, _ in
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            var contents = Fixtures.demoContents(candidates: 8)
            contents.packageID = UUID().uuidString
            let good = try Data(contentsOf: try Fixtures.writePackage(contents))
            let imported = try await client.execute(
                uri: "/api/admin/packages", method: .post, headers: [.authorization: "Bearer \(admin)"], body: ByteBuffer(bytes: good))
            #expect(imported.status == .ok)
            #expect(try decode(ImportSummary.self, imported).candidates == 8)

            contents.packageID = UUID().uuidString
            contents.seats[1].seat = contents.seats[0].seat
            contents.questions.removeAll { $0.id == "Q-SC-01" }
            let bad = try Data(contentsOf: try Fixtures.writePackage(contents))
            let refused = try await client.execute(
                uri: "/api/admin/packages", method: .post, headers: [.authorization: "Bearer \(admin)"], body: ByteBuffer(bytes: bad))
            #expect(refused.status == .unprocessableContent)
            let text = String(buffer: refused.body)
            #expect(text.contains("seat_taken_twice"))
            #expect(text.contains("paper_missing_question"))
        }
    }

    @Test func pagesAreServedWithAStrictContentSecurityPolicy() async throws {
        try await withVenue { client, _, _ in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            let typed = try await client.execute(uri: "/terminal", method: .get)
            #expect(typed.status == .movedPermanently)
            #expect(typed.headers[.location] == "/terminal/")
            let terminal = try await client.execute(uri: "/terminal/", method: .get)
            #expect(String(buffer: terminal.body).contains("<script type=\"module\""))
        }
    }
}

struct ExtendBody: Encodable {
    var attemptId: String?
    var seconds: Int
    var reason: String
}

@Suite("Staff sign-in over HTTP")
struct StaffAccessTests {
    struct RetryEnvelope: Decodable {
        struct Detail: Decodable {
            var code: String
            var retryAfterSeconds: Int?
        }
        var error: Detail
    }

    @Test func repeatedWrongPasswordsAreSlowedDown() async throws {
        try await withVenue { client, _, _ in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                let response = try await client.execute(
                    uri: "/api/staff/login", method: .post, headers: [.contentType: "application/json"],
                    body: json(["username": "invigilator1", "password": "guess"]))
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    let body = try decode(RetryEnvelope.self, response)
                    #expect(body.error.code == "login_rate_limited")
                    #expect((body.error.retryAfterSeconds ?? 0) > 0)
                    #expect(response.headers[.retryAfter] != nil)
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            // Even the right password waits out the lock.
            let right = try await client.execute(
                uri: "/api/staff/login", method: .post, headers: [.contentType: "application/json"],
                body: json(["username": "invigilator1", "password": "kaodian-demo"]))
            #expect(right.status == .tooManyRequests)
        }
    }

    @Test func aOneTimePasswordOpensNothingButThePasswordChange() async throws {
        try await withVenue { client, _, _ in
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let created = try await client.execute(
                uri: "/api/admin/staff", method: .post, headers: bearer(admin),
                body: json(NewAccount(username: "newcomer", name: "新监考员", role: "invigilator", rooms: ["R01"], password: "given-pass-123")))
            #expect(created.status == .created)
            let token = try await staffToken(client, username: "newcomer", password: "given-pass-123")
            let blocked = try await client.execute(uri: "/api/console/sittings", method: .get, headers: bearer(token))
            #expect(blocked.status == .forbidden)
            #expect(try decode(ErrorEnvelope.self, blocked).error.code == "password_change_required")
            let weak = try await client.execute(
                uri: "/api/staff/password", method: .post, headers: bearer(token),
                body: json(["currentPassword": "given-pass-123", "newPassword": "newcomer"]))
            #expect(try decode(ErrorEnvelope.self, weak).error.code == "password_too_weak")
            let changed = try await client.execute(
                uri: "/api/staff/password", method: .post, headers: bearer(token),
                body: json(["currentPassword": "given-pass-123", "newPassword": "my-own-pass-456"]))
            #expect(changed.status == .noContent)
            #expect(try await client.execute(uri: "/api/console/sittings", method: .get, headers: bearer(token)).status == .ok)
        }
    }

    @Test func theLiveRoomStreamSendsTheRoomView() async throws {
        try await withVenue { client, _, _ in
            let invigilator = try await staffToken(client)
            let response = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/live?max=1", method: .get, headers: bearer(invigilator))
            #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix("event: room\ndata: {"))
            let json = text.split(separator: "\n")[1].dropFirst("data: ".count)
            let view = try JSONDecoder().decode(RoomView.self, from: Data(json.utf8))
            #expect(view.roster.count == 6)  // the test venue seats six candidates in R01
        }
    }
}
