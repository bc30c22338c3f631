import CentralServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SyncProtocol
import TestSupport
import Testing

@testable import CentralStore

/// A manifest as the venue makes it (see VenueStore's SittingManifest).
func manifest(seq: Int64, attempts: Int, submitted: Int, log: [String], checkIns: Int, segments: [[String: Any]], end: Date) -> SyncItem {
    let digest = SyncDigest.hex(Data(log.map { $0 + "\n" }.joined().utf8))
    return item("manifest", seq: seq, [
        "sittingId": "S1", "scheduledStart": Int64(end.addingTimeInterval(-5400).timeIntervalSince1970 * 1000),
        "scheduledEnd": Int64(end.timeIntervalSince1970 * 1000), "candidates": 30, "attempts": attempts, "submitted": submitted,
        "answerLogEntries": log.count, "answerLogSHA256": digest, "checkIns": checkIns, "incidents": 0, "faceVerifications": 0,
        "segments": segments, "generatedAt": Int64(end.timeIntervalSince1970 * 1000),
    ])
}

@Suite("Central: completeness per sitting, overdue alerts by e-mail and SMS, the office pages' API", .serialized, .timeLimit(.minutes(3)))
struct CompletenessTests {
    @Test func centralSaysWhatIsMissingRaisesOverdueAlertsSendsThemAndClearsThem() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            let items = sittingItems()
            let end = Date().addingTimeInterval(-3 * 3600)
            let segment = ["cameraId": "cam1", "session": "s-1", "sequence": 0, "bytes": 1234, "sha256": String(repeating: "ab", count: 32)] as [String: Any]
            // The venue holds one more attempt and one more answer-log entry than central has received so far.
            let claims = manifest(
                seq: 50, attempts: 2, submitted: 1, log: ["A1:1:c1", "A1:2:c2", "A2:1:c3"], checkIns: 1, segments: [segment], end: end)
            let batch = try signedBatch(items + [claims], key: key)
            _ = try await database.receive(body: batch.body, signature: batch.signature)

            let policy = CompletenessPolicy(resultsDueAfter: 3600, recordingsDueAfter: 24 * 3600)
            let sitting = try #require(try await database.completeness(policy: policy).first)
            #expect(sitting.sittingId == "S1" && sitting.venueName == "同步考点")
            #expect(!sitting.resultsComplete && sitting.resultsOverdue, "results are 2 hours past due")
            #expect(!sitting.recordingsComplete && !sitting.recordingsOverdue, "recordings are due a day after the end")
            #expect(sitting.held.attempts == 1 && sitting.expected.attempts == 2 && sitting.held.answerLogEntries == 2)
            #expect(sitting.missing.contains("attempts 1") && sitting.missing.contains("answer log 1") && sitting.missing.contains("videos 1"))
            #expect(abs(sitting.since.timeIntervalSince(end)) < 1)

            try await withTestMailServer { mail in
                let (webhookCalls, webhookSink) = AsyncStream.makeStream(of: String.self)
                let hook = Router()
                hook.post("sms") { request, _ -> HTTPResponse.Status in
                    let body = try await request.body.collect(upTo: 1 << 20)
                    webhookSink.yield(String(buffer: body))
                    return .ok
                }
                let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
                let webhook = Application(
                    router: hook, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) })
                let server = Task { try await webhook.runService() }
                defer { server.cancel() }
                var portIterator = ports.makeAsyncIterator()
                let hookPort = try #require(await portIterator.next())

                var settings = AlertSettings()
                settings.policy = policy
                settings.smtp = SMTPSettings(host: "127.0.0.1", port: mail.port, from: "central@kaodian.test", to: ["office@kaodian.test"])
                settings.smsWebhook = "http://127.0.0.1:\(hookPort)/sms"
                settings.smsTo = ["13800000000"]
                let monitor = CompletenessMonitor(database: database, settings: settings, logger: Logger(label: "test"))
                await monitor.check()
                var alerts = try await database.completenessAlerts()
                #expect(alerts.count == 1 && alerts.first?.kind == "results" && alerts.first?.clearedAt == nil)
                #expect(alerts.first?.emailedAt != nil && alerts.first?.textedAt != nil && alerts.first?.notifyError == nil)
                webhookSink.finish()
                var hookIterator = webhookCalls.makeAsyncIterator()
                let text = try #require(await hookIterator.next(), "the SMS webhook was not called")
                #expect(text.contains("13800000000") && text.contains("V-SYNC") && text.contains("S1"))
                let received = mail.received
                #expect(received.contains("office@kaodian.test") && received.contains("central@kaodian.test"), "\(received)")
                let encodedBody = received.components(separatedBy: "\n").filter { $0.range(of: #"^[A-Za-z0-9+/=]{8,}$"#, options: .regularExpression) != nil }
                    .joined()
                let body = String(decoding: Data(base64Encoded: encodedBody) ?? Data(), as: UTF8.self)
                #expect(body.contains("成绩") && body.contains("attempts 1"), "\(received)")

                // Checking again raises nothing new and sends nothing again.
                await monitor.check()
                #expect(try await database.completenessAlerts().count == 1)

                // The rest arrives: the alert clears.
                var second = sittingItems()[0]
                second = item("attempt", seq: 60, ["id": "A2", "sittingId": "S1", "admissionNumber": "2026000002", "status": "waiting",
                                                   "createdAt": 1_790_000_000_000, "logLength": 0, "extensionSeconds": 0])
                let entry = item("answerLog", seq: 61, [
                    "attemptId": "A2", "seq": 1, "changeId": "c3", "questionId": "Q1", "kind": "answer", "response": ["value": true],
                    "clientSeq": 1, "sessionId": "s2", "terminalId": "t2", "serverTime": 1_790_000_100_000,
                ])
                let rest = try signedBatch([second, entry], key: key)
                _ = try await database.receive(body: rest.body, signature: rest.signature)
                await monitor.check()
                alerts = try await database.completenessAlerts()
                #expect(alerts.count == 1 && alerts.first?.clearedAt != nil)
                let now = try #require(try await database.completeness(policy: policy).first)
                #expect(now.resultsComplete && now.answerLogMatches && now.missing == ["videos 1"])
            }
        }
    }

    @Test func theOfficePagesNeedASignedInAccount() async throws {
        try await withCentralDatabase { database, _ in
            let password = try await database.setOfficeAccount(username: "zhang", name: "张老师")
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                #expect(try await client.execute(uri: "/api/office/completeness", method: .get).status == .unauthorized)
                func login(_ password: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/office/login", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: #"{"username":"zhang","password":"\#(password)"}"#))
                }
                let wrong = try await login("not-it")
                #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("login_failed"))
                let right = try await login(password)
                #expect(right.status == .ok)
                let cookie = try #require(right.headers[.setCookie])
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                let token = String(cookie.split(separator: ";")[0])
                let me = try await client.execute(uri: "/api/office/me", method: .get, headers: [.cookie: token])
                #expect(me.status == .ok && String(buffer: me.body).contains("张老师"))
                for path in ["/api/office/completeness", "/api/office/alerts", "/api/office/venues", "/api/office/reports"] {
                    #expect(try await client.execute(uri: path, method: .get, headers: [.cookie: token]).status == .ok, "\(path)")
                }
                let page = try await client.execute(uri: "/office/", method: .get)
                #expect(page.status == .ok && String(buffer: page.body).contains("office.js"))
                #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                _ = try await client.execute(uri: "/api/office/logout", method: .post, headers: [.cookie: token])
                #expect(try await client.execute(uri: "/api/office/me", method: .get, headers: [.cookie: token]).status == .unauthorized)
            }
        }
    }

    @Test func guessingPasswordsIsSlowedDownAndUsersChangeTheirOwn() async throws {
        try await withCentralDatabase { database, _ in
            let password = try await database.setOfficeAccount(username: "li", name: "李老师")
            _ = try await database.setOfficeAccount(username: "wang", name: "王老师")
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                func login(_ name: String, _ password: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/office/login", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: #"{"username":"\#(name)","password":"\#(password)"}"#))
                }
                func change(_ cookie: String, _ current: String, _ new: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/office/password", method: .post, headers: [.contentType: "application/json", .cookie: cookie],
                        body: ByteBuffer(string: #"{"current":"\#(current)","new":"\#(new)"}"#))
                }
                func cookie(_ response: TestResponse) throws -> String {
                    String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
                }
                // Two sessions of li; the password is changed from the first.
                let first = try cookie(try await login("li", password))
                let second = try cookie(try await login("li", password))
                let weak = try await change(first, password, "short1")
                #expect(weak.status == .unprocessableContent && String(buffer: weak.body).contains("password_too_weak"))
                #expect(try await change(first, password, "onlyletters-here").status == .unprocessableContent)
                #expect(try await change(first, password, password).status == .unprocessableContent)
                let wrongCurrent = try await change(first, "not-the-password", "Fresh-password-2026")
                #expect(wrongCurrent.status == .forbidden && String(buffer: wrongCurrent.body).contains("当前密码错误"))
                #expect(try await change(first, password, "Fresh-password-2026").status == .noContent)
                // This session goes on, the other one ended; the old password no longer signs in, the new one does.
                #expect(try await client.execute(uri: "/api/office/me", method: .get, headers: [.cookie: first]).status == .ok)
                #expect(try await client.execute(uri: "/api/office/me", method: .get, headers: [.cookie: second]).status == .unauthorized)
                #expect(try await login("li", password).status == .unauthorized)
                #expect(try await login("li", "Fresh-password-2026").status == .ok)
                #expect(try await change("kd_office=nobody", "Fresh-password-2026", "Another-one-2026").status == .unauthorized)

                // Five wrong passwords for wang: the name waits, even with the right password, and says how long.
                for _ in 0..<5 { #expect(try await login("wang", "guess").status == .unauthorized) }
                let locked = try await login("wang", "guess")
                #expect(locked.status == .tooManyRequests && String(buffer: locked.body).contains("login_rate_limited"))
                let wait = try #require(locked.headers[.retryAfter].flatMap { Int($0) })
                #expect(wait > 0 && wait <= 30)
                #expect(String(buffer: locked.body).contains("秒后再试"))
                // Other names are not held up by it.
                #expect(try await login("li", "Fresh-password-2026").status == .ok)
            }
        }
    }
}

@Suite("Central: alert e-mail over TLS with sign-in, to a real SMTP server", .serialized, .timeLimit(.minutes(2)))
struct AlertMailTests {
    static func settings(_ port: Int, security: SMTPSettings.Security = .startTLSWhenOffered, user: String? = nil, password: String? = nil,
                         ca: String?) -> SMTPSettings {
        SMTPSettings(
            host: "127.0.0.1", port: port, from: "central@kaodian.test", to: ["office@kaodian.test", "chief@kaodian.test"],
            security: security, username: user, password: password, trustedCAFile: ca)
    }

    @Test func startTLSWithSignInDeliversAndRefusalsSayWhy() async throws {
        try await withSecureTestMailServer(security: .startTLS, user: "alerts", password: "s3cret-Pa55") { server, certificate in
            try await SMTPMail.send(
                subject: "上报逾期：城东考点", body: "场次 S1 的成绩逾期未到。",
                settings: Self.settings(server.port, user: "alerts", password: "s3cret-Pa55", ca: certificate))
            let received = server.received
            #expect(received.contains("MESSAGE tls=yes user=alerts from=central@kaodian.test to=office@kaodian.test,chief@kaodian.test"))
            #expect(received.contains("Subject: =?UTF-8?B?\(Data("上报逾期：城东考点".utf8).base64EncodedString())?="))
            // A wrong password, and a certificate nobody vouches for, are refused in words.
            await #expect {
                try await SMTPMail.send(subject: "x", body: "x", settings: Self.settings(server.port, user: "alerts", password: "wrong", ca: certificate))
            } throws: { error in
                (error as? SMTPError)?.description.contains("AUTH PLAIN (the password)") == true && !"\(error)".contains("wrong")
            }
            await #expect(throws: (any Error).self) {
                try await SMTPMail.send(subject: "x", body: "x", settings: Self.settings(server.port, user: "alerts", password: "s3cret-Pa55", ca: nil))
            }
            #expect(server.received.components(separatedBy: "MESSAGE ").count == 2)
        }
    }

    @Test func tlsFromTheStartAndNoPasswordInTheClear() async throws {
        try await withSecureTestMailServer(security: .implicitTLS, user: "alerts", password: "s3cret-Pa55") { server, certificate in
            try await SMTPMail.send(
                subject: "告警", body: "正文",
                settings: Self.settings(server.port, security: .implicitTLS, user: "alerts", password: "s3cret-Pa55", ca: certificate))
            #expect(server.received.contains("MESSAGE tls=yes user=alerts"))
        }
        // A server without STARTTLS gets no password; without a user name the message goes as plain SMTP.
        try await withSecureTestMailServer(security: .plain) { server, certificate in
            await #expect {
                try await SMTPMail.send(subject: "x", body: "x", settings: Self.settings(server.port, user: "alerts", password: "s3cret-Pa55", ca: certificate))
            } throws: { error in
                (error as? SMTPError)?.description.contains("not sent in the clear") == true
            }
            try await SMTPMail.send(subject: "告警", body: "正文", settings: Self.settings(server.port, ca: certificate))
            #expect(server.received.contains("MESSAGE tls=no user=- from=central@kaodian.test"))
        }
        // URLs: smtps:// is TLS on 465; a user name needs a password and the other way round; no password in the URL.
        let url = try #require(SMTPSettings(url: "smtps://alerts%40office@mail.example.cn", from: "a@b", to: ["c@d"], password: "p"))
        #expect(url.security == .implicitTLS && url.port == 465 && url.username == "alerts@office")
        #expect(SMTPSettings(url: "smtp://mail.example.cn", from: "a@b", to: ["c@d"])?.security == .startTLSWhenOffered)
        #expect(SMTPSettings(url: "smtp://alerts@mail.example.cn", from: "a@b", to: ["c@d"]) == nil)
        #expect(SMTPSettings(url: "smtp://alerts:pw@mail.example.cn", from: "a@b", to: ["c@d"], password: "pw") == nil)
        #expect(SMTPSettings(url: "http://mail.example.cn", from: "a@b", to: ["c@d"]) == nil)
    }
}
