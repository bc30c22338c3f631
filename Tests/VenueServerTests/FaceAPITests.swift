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
func withFaceVenue<T: Sendable>(
    _ body: @Sendable (any TestClientProtocol, VenueDatabase, FaceService, URL) async throws -> T
) async throws -> T {
    let (database, folder, _) = try await Fixtures.venueWithDemo(candidates: 4, facePhotos: Fixtures.sharedFace)
    let configuration = VenueConfiguration(
        dataDirectory: folder, host: "127.0.0.1", port: 0, faceModels: Fixtures.faceModels)
    let face = FaceService(database: database, modelsFolder: Fixtures.faceModels, logger: Logger(label: "test"))
    let engine = try #require(face.engine, "face models missing: run scripts/install-face-models.sh")
    await face.enrolPending(engine)
    let router = VenueApp.buildRouter(database: database, configuration: configuration, face: face, logger: Logger(label: "test"))
    return try await Application(router: router).test(.router) { client in try await body(client, database, face, folder) }
}

/// Another photo of the person whose first photo is demo candidate `index`'s registered photo.
func secondPhoto(ofCandidate index: Int) throws -> Data {
    let first = try #require(DemoPackage.facePhotoFiles(in: Fixtures.sharedFace, count: index + 1).last)
    let folder = first.deletingLastPathComponent()
    let others = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jpg") }.sorted()
        .filter { $0 != first.lastPathComponent }
    let name = try #require(others.first)
    return try Data(contentsOf: folder.appendingPathComponent(name))
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
        try await client.execute(
            uri: "\(room)/candidates/\(admission)/face-check", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "image/jpeg"], body: ByteBuffer(bytes: picture))
    }

    @Test func theRightCandidateIsCheckedInAndTheWrongOneNeedsAnOverrideWithAReason() async throws {
        try await withFaceVenue { client, database, face, _ in
            let enrolment = try await database.enrolmentStatus(model: try #require(face.engine).modelName)
            #expect(enrolment.enrolled == 4 && enrolment.problems.isEmpty && enrolment.pending == 0)
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
            let raw = try await database.faceTemplate(admissionNumber: Fixtures.candidate(0).admissionNumber, model: body.verification.model).get()
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
            let other = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R02/candidates/\(admission)/face-check", method: .post,
                headers: [.authorization: "Bearer \(invigilator)", .contentType: "image/jpeg"],
                body: ByteBuffer(bytes: try secondPhoto(ofCandidate: 0)))
            #expect(other.status == .forbidden)
        }
    }
}
