import DemoContent
import ExamCore
import FaceEngine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import GRDB
import TestSupport
import Testing

@testable import VenueServer
@testable import VenueStore

extension VenueDatabase {
    /// The template column as stored, to check it is sealed.
    func rawTemplateBlob(admissionNumber: String) async throws -> Data? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed FROM face_template WHERE personId = ?", arguments: [admissionNumber])
        }
    }
}

/// A demo venue whose candidates carry real LFW photos, enrolled by the real face engine.
/// Four candidates (photos of the first four people), then the admin, invigilator1 and invigilator2 (the next three).
func withFaceVenue<T: Sendable>(
    startsAt: Date = Date().addingTimeInterval(3600), faceChecks: FaceChecks? = nil,
    _ body: @Sendable (any TestClientProtocol, VenueDatabase, FaceService, URL) async throws -> T
) async throws -> T {
    let (database, folder, _) = try await Fixtures.venueWithDemo(
        startsAt: startsAt, candidates: 4, facePhotos: Fixtures.sharedFace, faceChecks: faceChecks)
    let configuration = VenueConfiguration(
        dataDirectory: folder, host: "127.0.0.1", port: 0, faceModels: Fixtures.faceModels)
    let face = FaceService(database: database, modelsFolder: Fixtures.faceModels, logger: Logger(label: "test"))
    let engine = try #require(face.engine, "face models missing: run scripts/install-face-models.sh")
    await face.enrolPending(engine)
    let router = VenueApp.buildRouter(database: database, configuration: configuration, face: face, logger: Logger(label: "test"))
    return try await Application(router: router).test(.router) { client in try await body(client, database, face, folder) }
}

/// Another photo of the person whose first photo is demo candidate `index`'s registered photo (with four
/// candidates, index 4 is the admin's and 5 invigilator1's).
func secondPhoto(ofCandidate index: Int) throws -> Data {
    let first = try #require(DemoPackage.facePhotoFiles(in: Fixtures.sharedFace, count: index + 1).last)
    let folder = first.deletingLastPathComponent()
    let others = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jpg") }.sorted()
        .filter { $0 != first.lastPathComponent }
    let name = try #require(others.first)
    return try Data(contentsOf: folder.appendingPathComponent(name))
}

/// Sends a camera picture as the browser does: the JPEG bytes as the body.
func postPicture(_ client: some TestClientProtocol, _ uri: String, token: String, _ picture: Data) async throws -> TestResponse {
    try await client.execute(
        uri: uri, method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "image/jpeg"],
        body: ByteBuffer(bytes: picture))
}

struct FaceCheckBody: Decodable {
    var verification: FaceVerificationView
    var checkedIn: Bool
}

@Suite("Face check-in through the API")
struct FaceAPITests {
    let room = "/api/console/sittings/S-DEMO-THEORY/rooms/R01"

    func faceCheck(_ client: some TestClientProtocol, _ token: String, _ admission: String, _ picture: Data) async throws
        -> TestResponse
    {
        try await postPicture(client, "\(room)/candidates/\(admission)/face-check", token: token, picture)
    }

    @Test func theRightCandidateIsCheckedInAndTheWrongOneNeedsAnOverrideWithAReason() async throws {
        try await withFaceVenue { client, database, face, _ in
            let enrolment = try await database.enrolmentStatus(model: try #require(face.engine).modelName)
            #expect(enrolment.enrolled == 7 && enrolment.problems.isEmpty && enrolment.pending == 0)
            let invigilator = try await staffToken(client)
            let first = Fixtures.candidate(0).admissionNumber
            let second = Fixtures.candidate(1).admissionNumber
            let picture = try secondPhoto(ofCandidate: 0)

            let match = try await faceCheck(client, invigilator, first, picture)
            #expect(match.status == .ok)
            let matched = try decode(FaceCheckBody.self, match)
            #expect(matched.verification.decision == "match" && matched.checkedIn)
            #expect((matched.verification.similarity ?? 0) >= matched.verification.threshold)
            #expect(matched.verification.face != nil && matched.verification.by == "invigilator1")

            let wrong = try decode(FaceCheckBody.self, try await faceCheck(client, invigilator, second, picture))
            #expect(wrong.verification.decision == "mismatch" && !wrong.checkedIn)

            // A plain check-in after the failed check is refused: the override, with a reason, is the way in.
            let plain = try await client.execute(
                uri: "\(room)/candidates/\(second)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["note": "看着像"]))
            #expect(plain.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, plain).error.code == "face_override_required")
            // The override needs a reason, then checks the candidate in; a second override is refused.
            let noReason = try await client.execute(
                uri: "\(room)/candidates/\(second)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["verificationId": wrong.verification.id]))
            #expect(noReason.status == .badRequest)
            let override = try await client.execute(
                uri: "\(room)/candidates/\(second)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["verificationId": wrong.verification.id, "overrideReason": "证件核对无误，照片为多年前所摄"]))
            #expect(override.status == .noContent)
            let again = try await client.execute(
                uri: "\(room)/candidates/\(second)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["verificationId": wrong.verification.id, "overrideReason": "再次"]))
            #expect(again.status == .badRequest)
            // A match cannot be "overridden".
            let overMatch = try await client.execute(
                uri: "\(room)/candidates/\(first)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["verificationId": matched.verification.id, "overrideReason": "无"]))
            #expect(overMatch.status == .badRequest)

            // The roster shows both check-ins and the face results.
            let view = try decode(RoomView.self, try await client.execute(uri: room, method: .get, headers: bearer(invigilator)))
            let rows = Dictionary(uniqueKeysWithValues: view.roster.map { ($0.admissionNumber, $0) })
            #expect(rows[first]?.checkIn?.method == "face" && rows[first]?.face?.decision == "match")
            #expect(rows[second]?.checkIn?.method == "faceOverride" && rows[second]?.face?.overridden == true)

            // The record lists both, with the override; the captured picture comes back as sent.
            let listed = try decode(
                [FaceVerificationView].self,
                try await client.execute(uri: "\(room)/face-verifications", method: .get, headers: bearer(invigilator)))
            #expect(listed.map(\.decision) == ["mismatch", "match"])
            #expect(listed.first?.override?.reason == "证件核对无误，照片为多年前所摄")
            let image = try await client.execute(
                uri: "/api/face-verifications/\(matched.verification.id)/image", method: .get, headers: bearer(invigilator))
            #expect(image.status == .ok && Data(image.body.readableBytesView) == picture)
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let csv = try await client.execute(uri: "/api/admin/face/verifications.csv", method: .get, headers: bearer(admin))
            let text = String(decoding: csv.body.readableBytesView, as: UTF8.self)
            #expect(text.contains("证件核对无误") && text.contains("match") && text.contains("mismatch"))
            #expect(try await database.auditLog(AuditFilter(action: AuditAction.faceOverridden.rawValue)).count == 1)
            #expect(try await database.auditLog(AuditFilter(action: AuditAction.candidateCheckedIn.rawValue)).count == 1)
        }
    }

    @Test func picturesAndTemplatesAreSealedAtRest() async throws {
        try await withFaceVenue { client, database, _, folder in
            let invigilator = try await staffToken(client)
            let picture = try secondPhoto(ofCandidate: 0)
            let body = try decode(FaceCheckBody.self, try await faceCheck(client, invigilator, Fixtures.candidate(0).admissionNumber, picture))
            let sealed = try Data(contentsOf: folder.appendingPathComponent("face-captures/\(body.verification.id).sealed"))
            #expect(sealed.range(of: picture.prefix(64)) == nil && sealed.count == picture.count + 28)
            // Templates are stored sealed too: no row holds the raw float bytes of a template.
            let raw = try await database.faceTemplate(personId: Fixtures.candidate(0).admissionNumber, model: body.verification.model).get()
            let blob = try #require(try await database.rawTemplateBlob(admissionNumber: Fixtures.candidate(0).admissionNumber))
            #expect(blob.range(of: raw.prefix(32)) == nil && blob.count == raw.count + 28)
        }
    }

    @Test func badPicturesGetClearErrorsAndLeaveNoRecord() async throws {
        try await withFaceVenue { client, database, _, _ in
            let invigilator = try await staffToken(client)
            let admission = Fixtures.candidate(0).admissionNumber
            let cases: [(Data, HTTPResponse.Status, String)] = [
                (Data(), .badRequest, "image_empty"),
                (Data("GIF89a this is not a photo".utf8), .badRequest, "image_not_decodable"),
                (try secondPhoto(ofCandidate: 0).prefix(3000), .badRequest, "image_truncated"),
            ]
            for (body, status, code) in cases {
                let response = try await faceCheck(client, invigilator, admission, body)
                #expect(response.status == status)
                #expect(try decode(ErrorEnvelope.self, response).error.code == code)
            }
            let tooBig = try await faceCheck(client, invigilator, admission, Data(count: 16 * 1024 * 1024))
            #expect(tooBig.status == .contentTooLarge)
            #expect(try await database.faceVerifications(FaceVerificationFilter()).isEmpty)
            // A candidate of another room is not this invigilator's to check.
            let other = try await postPicture(
                client, "/api/console/sittings/S-DEMO-THEORY/rooms/R02/candidates/\(admission)/face-check", token: invigilator,
                try secondPhoto(ofCandidate: 0))
            #expect(other.status == .forbidden)
        }
    }
}

/// What the candidate's terminal gets back from its own face check.
struct TerminalFaceBody: Decodable {
    var decision: String
    var checkedIn: Bool
    var triesLeft: Int?
}

struct HeartbeatBody: Decodable {
    var status: String
    var faceCheckDue: Bool
}

@Suite("Face checks at the terminal and staff sign-in")
struct TerminalFaceTests {
    let room = "/api/console/sittings/S-DEMO-THEORY/rooms/R01"

    func terminalCheck(_ client: some TestClientProtocol, _ token: String, _ query: String, _ picture: Data) async throws
        -> TestResponse
    {
        try await postPicture(client, "/api/attempt/face-check?\(query)", token: token, picture)
    }

    func errorCode(_ response: TestResponse) throws -> String { try decode(ErrorEnvelope.self, response).error.code }

    @Test func aSelfCheckInThatMatchesOpensThePaperAndFailedTriesEndAtTheDesk() async throws {
        try await withFaceVenue(startsAt: Date().addingTimeInterval(-60), faceChecks: FaceChecks(selfCheckIn: true)) {
            client, database, _, _ in
            let first = try await candidateToken(client, index: 0)
            let state = try decode(AttemptState.self, try await client.execute(uri: "/api/attempt", method: .get, headers: bearer(first)))
            let face = try #require(state.face)
            #expect(face.selfCheckIn && !face.checkedIn && face.triesLeft == 5 && face.rechecks == 0)
            // The paper stays closed until the candidate is checked in.
            let closed = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(first))
            #expect(try closed.status == .conflict && errorCode(closed) == "face_check_in_required")

            // Someone else's face: not checked in, one try fewer, and the terminal never learns the score.
            let wrong = try await terminalCheck(client, first, "purpose=selfCheckIn", try secondPhoto(ofCandidate: 1))
            #expect(wrong.status == .ok)
            #expect(!String(buffer: wrong.body).contains("similarity"))
            let wrongBody = try decode(TerminalFaceBody.self, wrong)
            #expect(wrongBody.decision == "mismatch" && !wrongBody.checkedIn && wrongBody.triesLeft == 4)
            // The failed try shows on the console while the candidate is not checked in.
            let invigilator = try await staffToken(client)
            var view = try decode(RoomView.self, try await client.execute(uri: room, method: .get, headers: bearer(invigilator)))
            #expect(view.faceAlerts.map(\.purpose) == ["selfCheckIn"] && view.faceAlerts.first?.seat == "01")
            // Logged in but not checked in: the console shows the candidate waiting, not answering.
            #expect(view.roster.first { $0.admissionNumber == Fixtures.candidate(0).admissionNumber }?.status == "waiting")

            let right = try decode(
                TerminalFaceBody.self, try await terminalCheck(client, first, "purpose=selfCheckIn", try secondPhoto(ofCandidate: 0)))
            #expect(right.decision == "match" && right.checkedIn)
            #expect(try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(first)).status == .ok)
            let again = try await terminalCheck(client, first, "purpose=selfCheckIn", try secondPhoto(ofCandidate: 0))
            #expect(try again.status == .conflict && errorCode(again) == "already_checked_in")
            view = try decode(RoomView.self, try await client.execute(uri: room, method: .get, headers: bearer(invigilator)))
            let row = try #require(view.roster.first { $0.admissionNumber == Fixtures.candidate(0).admissionNumber })
            #expect(row.checkIn?.method == "selfFace" && row.checkIn?.by == "terminal:t1" && row.status == "answering")
            #expect(view.faceAlerts.isEmpty, "an alert of a candidate now checked in is no longer shown")
            let checkIns = try await database.auditLog(AuditFilter(action: AuditAction.candidateCheckedIn.rawValue))
            #expect(checkIns.count == 1 && checkIns.first?.detail?["method"] == "selfFace" && checkIns.first?.actor == Fixtures.candidate(0).admissionNumber)

            // Five failed tries, then the terminal may not try again: the invigilator decides, with a reason.
            let second = try await candidateToken(client, index: 1, terminal: "t2")
            for left in (0..<5).reversed() {
                let body = try decode(
                    TerminalFaceBody.self, try await terminalCheck(client, second, "purpose=selfCheckIn", try secondPhoto(ofCandidate: 0)))
                #expect(body.decision == "mismatch" && body.triesLeft == left)
            }
            let used = try await terminalCheck(client, second, "purpose=selfCheckIn", try secondPhoto(ofCandidate: 1))
            #expect(try used.status == .conflict && errorCode(used) == "face_check_attempts_used")
            #expect(try await database.faceVerifications(FaceVerificationFilter(personId: Fixtures.candidate(1).admissionNumber)).count == 5)
            let plain = try await client.execute(
                uri: "\(room)/candidates/\(Fixtures.candidate(1).admissionNumber)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["note": "看着像"]))
            #expect(try plain.status == .conflict && errorCode(plain) == "face_override_required")
            let failed = try #require(
                try decode(RoomView.self, try await client.execute(uri: room, method: .get, headers: bearer(invigilator))).faceAlerts.first)
            let override = try await client.execute(
                uri: "\(room)/candidates/\(Fixtures.candidate(1).admissionNumber)/check-in", method: .post, headers: bearer(invigilator),
                body: json(["verificationId": failed.id, "overrideReason": "终端摄像头逆光，已核对身份证原件"]))
            #expect(override.status == .noContent)
            #expect(try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(second)).status == .ok)

            // Re-checks are not part of this sitting; a purpose the terminal may not send is refused.
            let heartbeat = try decode(
                HeartbeatBody.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(first)))
            #expect(!heartbeat.faceCheckDue)
            let recheck = try await terminalCheck(client, first, "purpose=recheck", try secondPhoto(ofCandidate: 0))
            #expect(try recheck.status == .conflict && errorCode(recheck) == "face_check_not_due")
            #expect(try await terminalCheck(client, first, "purpose=checkIn", Data()).status == .badRequest)
            #expect(try await terminalCheck(client, first, "purpose=staffSignIn", Data()).status == .badRequest)
        }
    }

    @Test func reChecksAreDueAtTheirMomentsAndFailuresRaiseConsoleAlerts() async throws {
        // Twenty re-checks over 90 minutes: the moments start at 9 minutes, one every 3.6 minutes, so twenty
        // minutes in at least three have passed.
        try await withFaceVenue(startsAt: Date().addingTimeInterval(-20 * 60), faceChecks: FaceChecks(rechecks: 20)) {
            client, database, _, _ in
            let token = try await candidateToken(client, index: 0)
            let state = try decode(AttemptState.self, try await client.execute(uri: "/api/attempt", method: .get, headers: bearer(token)))
            #expect(state.face?.rechecks == 20 && state.face?.selfCheckIn == false)
            #expect(try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(token)).status == .ok)
            func due() async throws -> Bool {
                try decode(HeartbeatBody.self, try await client.execute(uri: "/api/attempt/heartbeat", method: .post, headers: bearer(token)))
                    .faceCheckDue
            }
            #expect(try await due())
            let mismatch = try await terminalCheck(client, token, "purpose=recheck", try secondPhoto(ofCandidate: 1))
            #expect(!String(buffer: mismatch.body).contains("similarity"))
            #expect(try decode(TerminalFaceBody.self, mismatch).decision == "mismatch")
            let camera = try await terminalCheck(client, token, "purpose=recheck&failure=camera_unavailable", Data())
            #expect(try decode(TerminalFaceBody.self, camera).decision == "unusable")
            var taken = 2
            while try await due() {
                let body = try decode(
                    TerminalFaceBody.self, try await terminalCheck(client, token, "purpose=recheck", try secondPhoto(ofCandidate: 0)))
                #expect(body.decision == "match")
                taken += 1
                if taken > 8 { break }
            }
            #expect(taken >= 3 && taken <= 8)
            let early = try await terminalCheck(client, token, "purpose=recheck", try secondPhoto(ofCandidate: 0))
            #expect(try early.status == .conflict && errorCode(early) == "face_check_not_due")
            let badFailure = try await terminalCheck(client, token, "purpose=selfCheckIn&failure=camera_unavailable", Data())
            #expect(badFailure.status == .conflict || badFailure.status == .badRequest)

            // The console sees the mismatch and the camera failure (not the matches), with the seat.
            let invigilator = try await staffToken(client)
            let view = try decode(RoomView.self, try await client.execute(uri: room, method: .get, headers: bearer(invigilator)))
            #expect(view.faceAlerts.map(\.decision) == ["unusable", "mismatch"])
            #expect(view.faceAlerts.first?.problem == "camera_unavailable" && view.faceAlerts.first?.hasPicture == false)
            #expect(view.faceAlerts.allSatisfy { $0.seat == "01" && $0.by == "terminal:t1" })
            let picture = try await client.execute(
                uri: "/api/face-verifications/\(view.faceAlerts[1].id)/image", method: .get, headers: bearer(invigilator))
            #expect(try picture.status == .ok && Data(picture.body.readableBytesView) == secondPhoto(ofCandidate: 1))
            let noPicture = try await client.execute(
                uri: "/api/face-verifications/\(view.faceAlerts[0].id)/image", method: .get, headers: bearer(invigilator))
            #expect(noPicture.status == .notFound)
            let recorded = try await database.faceVerifications(FaceVerificationFilter(purposes: ["recheck"]))
            #expect(recorded.count == taken)
        }
    }

    @Test func staffSignInByFaceIsRecordedAndAudited() async throws {
        try await withFaceVenue { client, database, _, _ in
            let invigilator = try await staffToken(client)
            func signIn(_ picture: Data) async throws -> TestResponse {
                try await postPicture(client, "/api/staff/face-sign-in", token: invigilator, picture)
            }
            // With four candidates, the next photos are the admin's (index 4) and invigilator1's (index 5).
            let own = try decode(FaceCheckBody.self, try await signIn(try secondPhoto(ofCandidate: 5)))
            #expect(own.checkedIn && own.verification.decision == "match")
            #expect(own.verification.personKind == "staff" && own.verification.personId == "invigilator1")
            #expect(own.verification.purpose == "staffSignIn" && own.verification.sittingId == nil)
            let other = try decode(FaceCheckBody.self, try await signIn(try secondPhoto(ofCandidate: 4)))
            #expect(!other.checkedIn && other.verification.decision == "mismatch")
            #expect(try await signIn(Data()).status == .badRequest)

            let history = try decode(
                [FaceVerificationView].self,
                try await client.execute(uri: "/api/staff/face-sign-ins", method: .get, headers: bearer(invigilator)))
            #expect(history.map(\.decision) == ["mismatch", "match"])
            #expect(try await database.auditLog(AuditFilter(action: AuditAction.staffFaceSignIn.rawValue)).count == 2)

            // The admin lists them by purpose and kind and sees the picture; the invigilator does not.
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let listed = try decode(
                [FaceVerificationView].self,
                try await client.execute(
                    uri: "/api/admin/face/verifications?purpose=staffSignIn&personKind=staff", method: .get, headers: bearer(admin)))
            #expect(listed.count == 2 && listed.allSatisfy { $0.name == "第一考场监考员" })
            #expect(
                try await client.execute(uri: "/api/admin/face/verifications?purpose=checkIn,selfCheckIn", method: .get, headers: bearer(admin))
                    .body.readableBytes <= 2)
            #expect(
                try await client.execute(uri: "/api/face-verifications/\(own.verification.id)/image", method: .get, headers: bearer(admin))
                    .status == .ok)
            #expect(
                try await client.execute(uri: "/api/face-verifications/\(own.verification.id)/image", method: .get, headers: bearer(invigilator))
                    .status == .forbidden)
            let csv = try await client.execute(
                uri: "/api/admin/face/verifications.csv?personKind=staff", method: .get, headers: bearer(admin))
            #expect(String(decoding: csv.body.readableBytesView, as: UTF8.self).contains("staffSignIn"))

            // A staff member without a registered photo is told so.
            let created = try await client.execute(
                uri: "/api/admin/staff", method: .post, headers: bearer(admin),
                body: json(NewAccount(username: "examiner1", name: "考评员甲", role: "examiner", rooms: ["R01"], password: "first-pass-123")))
            #expect(created.status == .created)
            let examiner = try await staffToken(client, username: "examiner1", password: "first-pass-123")
            _ = try await client.execute(
                uri: "/api/staff/password", method: .post, headers: bearer(examiner),
                body: json(["currentPassword": "first-pass-123", "newPassword": "second-pass-456"]))
            let examinerToken = try await staffToken(client, username: "examiner1", password: "second-pass-456")
            let noPhoto = try await postPicture(client, "/api/staff/face-sign-in", token: examinerToken, try secondPhoto(ofCandidate: 5))
            #expect(try noPhoto.status == .unprocessableContent && decode(ErrorEnvelope.self, noPhoto).error.code == "face_not_enrolled")
        }
    }
}
