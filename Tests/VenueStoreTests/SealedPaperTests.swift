import DemoContent
import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing
import VenuePackage

@testable import VenueStore

/// A venue with the demo exam imported with its paper sealed under `code`.
private func sealedVenue(
    code: String = SealCode.generate(), startsAt: Date = Date().addingTimeInterval(3600)
) async throws -> (database: VenueDatabase, file: URL, code: String, contents: PackageContents) {
    let venue = try Fixtures.venue()
    let contents = Fixtures.demoContents(startsAt: startsAt)
    let file = Fixtures.temporaryFolder("sealed").appendingPathComponent("sealed.kdpkg")
    try PackageWriter.write(contents, sealing: [DemoSittingID: code], signedWith: Fixtures.issuerKey, to: file)
    let summary = try await VenueImporter(venue.database, trusted: venue.trusted).importPackage(at: file)
    #expect(summary.sealedPapers == 1)
    return (venue.database, file, code, contents)
}

private func importAgain(_ database: VenueDatabase, _ file: URL) async throws -> ImportSummary {
    try await database.importPackage(try PackageReader.read(file, trusting: [try Fixtures.issuerKey.publicKey()]))
}

@Suite("Sealed papers at the venue")
struct SealedPaperTests {
    @Test func aSealedPaperIsStoredButNeverServed() async throws {
        let (database, _, _, contents) = try await sealedVenue()
        let tables = try snapshot(database.path)
        #expect(tables["sealed_paper"]?.count == 1)
        // The sitting is there, with a placeholder paper row that holds nothing of the paper.
        #expect(tables["sitting"]?.count == 1)
        #expect(tables["paper"]?.count == 1)
        #expect(tables["paper"]?.first?.contains(contents.papers[0].title) == false)
        #expect(tables["question"]?.isEmpty == true)

        await #expect(throws: StoreError.paperSealed(DemoSittingID)) { _ = try await database.assembledPaper(for: DemoSittingID) }
        let sittings = try await database.sittings()
        #expect(sittings.first?.paperSealed == true)
        #expect(try await database.stillSealedSittings() == [DemoSittingID])
    }

    @Test func aSealedSittingCannotStartAndItsCandidatesSeeNoPaper() async throws {
        let (database, _, _, _) = try await sealedVenue(startsAt: Date().addingTimeInterval(-60))
        let invigilator = try await staffSession(database, "invigilator1")
        let admin = try await staffSession(database, "admin")
        await #expect(throws: StoreError.paperSealed(DemoSittingID)) {
            _ = try await database.startRoom(DemoSittingID, "R01", by: invigilator, reason: nil)
        }
        await #expect(throws: StoreError.paperSealed(DemoSittingID)) { _ = try await database.startSitting(DemoSittingID, by: admin) }
        // A candidate may log in and wait; the paper stays closed.
        let session = try await login(database, 0)
        await #expect(throws: StoreError.paperSealed(DemoSittingID)) { _ = try await database.attemptPaper(session) }
        // The console's room view still works, and says why.
        let view = try await database.roomView(sittingID: DemoSittingID, roomID: "R01")
        #expect(view.paperSealed)
        #expect(StoreError.paperSealed(DemoSittingID).message.zh.hasPrefix("试卷尚未启封"))
        // Time-up submission leaves the sealed sitting's attempts alone instead of failing.
        _ = try await database.submitOverdue(now: Date().addingTimeInterval(24 * 3600))
    }

    @Test func aWrongCodeChangesNothing() async throws {
        let (database, _, _, _) = try await sealedVenue()
        let before = try snapshot(database.path)
        do {
            try await database.unseal(sitting: DemoSittingID, code: SealCode.generate(), actor: "admin", role: "admin")
            Issue.record("a wrong code opened the paper")
        } catch let error as PackageError {
            #expect(error.code == "paper_seal_wrong_code")
        }
        do {
            try await database.unseal(sitting: DemoSittingID, code: "12345", actor: "admin", role: "admin")
            Issue.record("a malformed code was taken")
        } catch let error as PackageError {
            #expect(error.code == "paper_seal_code_malformed")
        }
        #expect(try snapshot(database.path) == before)
    }

    @Test func theRightCodeOpensThePaperOnceAndCandidatesCanAnswer() async throws {
        let (database, _, code, contents) = try await sealedVenue(startsAt: Date().addingTimeInterval(-60))
        let session = try await login(database, 0)
        await #expect(throws: StoreError.paperSealed(DemoSittingID)) { _ = try await database.attemptPaper(session) }

        // When the admin types the code loosely
        let opened = try await database.unseal(
            sitting: DemoSittingID, code: code.lowercased().replacingOccurrences(of: "-", with: " "), actor: "admin", role: "admin")
        #expect(opened)

        // Then the paper is served, the questions are stored, and the opening is audited once
        let paper = try await database.assembledPaper(for: DemoSittingID)
        #expect(paper.paper == contents.papers[0])
        let attempt = try await database.attemptPaper(session)
        #expect(attempt.paper.sections.count == contents.papers[0].sections.count)
        #expect(try snapshot(database.path)["question"]?.count == contents.questions.count)
        #expect(try await auditCount(database, .paperUnsealed) == 1)
        #expect(try await database.sittings().first?.paperSealed == false)
        #expect(try await database.sittings().first?.unsealedAt != nil)
        #expect(try await database.stillSealedSittings().isEmpty)

        // And opening it again changes nothing
        let before = try snapshot(database.path)
        #expect(try await database.unseal(sitting: DemoSittingID, code: code, actor: "central office", role: "system") == false)
        #expect(try snapshot(database.path) == before)
        // The room is no longer held back by the seal (here it has started by the schedule already).
        let invigilator = try await staffSession(database, "invigilator1")
        await #expect(throws: StoreError.sittingAlreadyStarted) {
            _ = try await database.startRoom(DemoSittingID, "R01", by: invigilator, reason: nil)
        }
    }

    @Test func reimportingAfterOpeningDoesNotSealAgain() async throws {
        let (database, file, code, contents) = try await sealedVenue(startsAt: Date().addingTimeInterval(-60))
        try await database.unseal(sitting: DemoSittingID, code: code, actor: "admin", role: "admin")
        let session = try await login(database, 0)
        _ = try await database.attemptPaper(session)

        // The same package again: nothing changes.
        let before = try snapshot(database.path)
        #expect(try await importAgain(database, file).newlyImported == false)
        #expect(try snapshot(database.path) == before)

        // The same content in a new package, sealed again with the same code (a fresh nonce, so other bytes): the
        // venue opens it with the code it kept, and the started sitting is not changed.
        var reissued = contents
        reissued.packageID = UUID().uuidString.lowercased()
        let second = Fixtures.temporaryFolder("sealed").appendingPathComponent("again.kdpkg")
        try PackageWriter.write(reissued, sealing: [DemoSittingID: code], signedWith: Fixtures.issuerKey, to: second)
        #expect(try await importAgain(database, second).newlyImported)
        #expect(try await database.stillSealedSittings().isEmpty)
        #expect(try await database.assembledPaper(for: DemoSittingID).paper == contents.papers[0])

        // A package with another code for the started sitting cannot be opened here, so it counts as a change.
        var other = contents
        other.packageID = UUID().uuidString.lowercased()
        let third = Fixtures.temporaryFolder("sealed").appendingPathComponent("other.kdpkg")
        try PackageWriter.write(other, sealing: [DemoSittingID: SealCode.generate()], signedWith: Fixtures.issuerKey, to: third)
        let beforeThird = try snapshot(database.path)
        await #expect(throws: StoreError.self) { _ = try await importAgain(database, third) }
        #expect(try snapshot(database.path) == beforeThird)
    }

    @Test func aSealedPackageArrivingAgainBeforeOpeningStaysSealed() async throws {
        let (database, file, code, _) = try await sealedVenue()
        // Candidates waiting, the same package again: accepted as unchanged, still sealed.
        _ = try await login(database, 0)
        #expect(try await importAgain(database, file).newlyImported == false)
        #expect(try await database.stillSealedSittings() == [DemoSittingID])
        try await database.unseal(sitting: DemoSittingID, code: code, actor: "admin", role: "admin")
        #expect(try await database.stillSealedSittings().isEmpty)
    }
}
