import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VenuePackage
import VenueStore

@testable import VenueServer

@Suite("Opening sealed papers through the API")
struct UnsealAPITests {
    @Test func theAdminOpensASealedPaperWithItsCodeAndCandidatesThenGetIt() async throws {
        try await withVenue(startsAt: Date().addingTimeInterval(-60)) { client, database, _ in
            // Given the demo sitting re-issued with its paper sealed
            let code = SealCode.generate()
            let file = Fixtures.temporaryFolder("sealed").appendingPathComponent("sealed.kdpkg")
            try PackageWriter.write(
                Fixtures.demoContents(startsAt: Date().addingTimeInterval(-60)), sealing: ["S-DEMO-THEORY": code],
                signedWith: Fixtures.issuerKey, to: file)
            _ = try await database.importPackage(try PackageReader.read(file, trusting: [try Fixtures.issuerKey.publicKey()]))

            // The candidate's paper is withheld, and the room cannot start
            let candidate = try await candidateToken(client)
            let withheld = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(candidate))
            #expect(withheld.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, withheld).error.code == "paper_sealed")
            let invigilator = try await staffToken(client)
            let start = try await client.execute(
                uri: "/api/console/sittings/S-DEMO-THEORY/rooms/R01/start", method: .post, headers: bearer(invigilator))
            #expect(start.status == .conflict)
            #expect(try decode(ErrorEnvelope.self, start).error.messageZh.contains("试卷尚未启封"))
            let sittings = try await client.execute(uri: "/api/console/sittings", method: .get, headers: bearer(invigilator))
            #expect(try decode([SittingOverview].self, sittings).first?.paperSealed == true)

            // An invigilator may not open it; a wrong code is 422 with the reason
            let unseal = "/api/admin/sittings/S-DEMO-THEORY/unseal"
            let refused = try await client.execute(uri: unseal, method: .post, headers: bearer(invigilator), body: json(["code": code]))
            #expect(refused.status == .forbidden)
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            let wrong = try await client.execute(
                uri: unseal, method: .post, headers: bearer(admin), body: json(["code": SealCode.generate()]))
            #expect(wrong.status == .unprocessableContent)
            let error = try decode(ErrorEnvelope.self, wrong).error
            #expect(error.code == "paper_seal_wrong_code")
            #expect(error.messageZh.contains("启封码不正确"))
            let malformed = try await client.execute(uri: unseal, method: .post, headers: bearer(admin), body: json(["code": "123"]))
            #expect(try decode(ErrorEnvelope.self, malformed).error.code == "paper_seal_code_malformed")

            // When the admin enters the right code
            let opened = try await client.execute(uri: unseal, method: .post, headers: bearer(admin), body: json(["code": code.lowercased()]))
            #expect(opened.status == .ok)
            let overview = try decode(SittingOverview.self, opened)
            #expect(overview.id == "S-DEMO-THEORY")
            #expect(!overview.paperSealed)
            #expect(overview.unsealedAt != nil)

            // Then the candidate gets the paper, and the opening is in the audit log
            let paper = try await client.execute(uri: "/api/attempt/paper", method: .get, headers: bearer(candidate))
            #expect(paper.status == .ok)
            let audit = try await client.execute(uri: "/api/admin/audit?action=paper.unsealed", method: .get, headers: bearer(admin))
            let entries = try decode([AuditEntry].self, audit)
            #expect(entries.count == 1)
            #expect(entries.first?.actor == "admin")
            // Again: still 200, nothing new
            let again = try await client.execute(uri: unseal, method: .post, headers: bearer(admin), body: json(["code": code]))
            #expect(again.status == .ok)
            #expect(try await database.auditLog(AuditFilter(action: "paper.unsealed")).count == 1)
        }
    }
}
