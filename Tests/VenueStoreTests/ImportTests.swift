import DemoContent
import ExamCore
import Foundation
import GRDB
import TestSupport
import Testing
import VenuePackage

@testable import VenueStore

/// Every table's rows, as text: two equal snapshots mean the database did not change.
func snapshot(_ path: String) throws -> [String: [String]] {
    let queue = try DatabaseQueue(path: path)
    return try queue.read { db in
        var result: [String: [String]] = [:]
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
        for table in tables {
            result[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { $0.description }.sorted()
        }
        return result
    }
}

@Suite("Importing venue packages into the venue database")
struct ImportTests {
    @Test func aPackageArrivesWhole() async throws {
        let venue = try Fixtures.venue()
        let contents = Fixtures.demoContents(candidates: 40)
        let summary = try await VenueImporter(venue.database, trusted: venue.trusted).importPackage(at: try Fixtures.writePackage(contents))
        #expect(summary.newlyImported)
        #expect(summary.candidates == 40)
        let tables = try snapshot(venue.database.path)
        #expect(tables["candidate"]?.count == 40)
        #expect(tables["seat_assignment"]?.count == 40)
        #expect(tables["room"]?.count == 2)
        #expect(tables["question"]?.count == contents.questions.count)
        #expect(tables["paper"]?.count == 1)
        #expect(tables["sitting"]?.count == 1)
        #expect(tables["staff"]?.count == 3)
        #expect(tables["package_import"]?.count == 1)
        let photo = try await venue.database.photo(admissionNumber: contents.candidates[0].admissionNumber)
        #expect(photo.data == contents.photos[contents.candidates[0].photo])
    }

    @Test func importingTheSamePackageTwiceChangesNothing() async throws {
        let venue = try Fixtures.venue()
        let file = try Fixtures.writePackage(Fixtures.demoContents())
        let importer = VenueImporter(venue.database, trusted: venue.trusted)
        _ = try await importer.importPackage(at: file)
        let before = try snapshot(venue.database.path)
        let again = try await importer.importPackage(at: file)
        #expect(!again.newlyImported)
        #expect(try snapshot(venue.database.path) == before)
    }

    @Test func everyRefusedPackageLeavesTheDatabaseUnchanged() async throws {
        let venue = try Fixtures.venue()
        let importer = VenueImporter(venue.database, trusted: venue.trusted)
        _ = try await importer.importPackage(at: try Fixtures.writePackage(Fixtures.demoContents()))
        let before = try snapshot(venue.database.path)

        var twoSeats = Fixtures.demoContents()
        var extra = twoSeats.seats[0]
        extra.seat = "30"
        twoSeats.seats.append(extra)
        var missingQuestion = Fixtures.demoContents()
        missingQuestion.questions.removeAll { $0.id == "Q-SC-01" }
        var otherVenue = Fixtures.demoContents()
        otherVenue.venue = Venue(id: "KD-OTHER", name: "Another venue")
        var files = try PackageWriter.files(for: Fixtures.demoContents(), signedWith: Fixtures.issuerKey)
        files = files.map { $0.path == PartName.staff ? ($0.path, Data("[]".utf8)) : $0 }
        let tamperedURL = Fixtures.temporaryFolder().appendingPathComponent("t.kdpkg")
        try PackageWriter.archive(files, to: tamperedURL)
        let forgedURL = try Fixtures.writePackage(Fixtures.demoContents(), key: IssuerPrivateKey.generate(issuer: Fixtures.issuerKey.issuer))

        let cases: [(URL, String)] = [
            (try Fixtures.writePackage(twoSeats), "candidate_in_two_seats"),
            (try Fixtures.writePackage(missingQuestion), "paper_missing_question"),
            (try Fixtures.writePackage(otherVenue), "package_wrong_venue"),
            (tamperedURL, "package_digest_mismatch"),
            (forgedURL, "package_bad_signature"),
        ]
        for (url, code) in cases {
            await #expect {
                _ = try await importer.importPackage(at: url)
            } throws: { error in
                (error as? any CodedError)?.code == code
            }
            #expect(try snapshot(venue.database.path) == before, "database changed by a package refused with \(code)")
        }
    }

    @Test func aPackageMayNotChangeASittingCandidatesHaveStarted() async throws {
        let (database, folder, contents) = try await Fixtures.venueWithDemo(startsAt: Date().addingTimeInterval(-60))
        let candidate = Fixtures.candidate(0)
        _ = try await database.candidateLogin(
            admissionNumber: candidate.admissionNumber, idNumber: candidate.idNumber, terminal: TerminalInfo(terminalID: "t1"))
        var changed = contents
        changed.packageID = UUID().uuidString
        changed.sittings[0].durationMinutes = 300
        let before = try snapshot(database.path)
        let importer = VenueImporter(database, trusted: folder.appendingPathComponent("trusted-issuers"))
        await #expect(throws: StoreError.self) { _ = try await importer.importPackage(at: try Fixtures.writePackage(changed)) }
        #expect(try snapshot(database.path) == before)
    }
}

/// The importer the server and the command line use, reading trusted keys from a folder.
struct VenueImporter {
    let database: VenueDatabase
    let trusted: URL
    init(_ database: VenueDatabase, trusted: URL) {
        self.database = database
        self.trusted = trusted
    }
    func importPackage(at url: URL) async throws -> ImportSummary {
        try await database.importPackage(try PackageReader.read(url, trusting: try IssuerPublicKey.loadAll(in: trusted)))
    }
}

/// Reads a package with the keys a test venue trusts.
enum PackageReaderShim {
    static func read(_ url: URL, folder: URL) throws -> VerifiedPackage {
        try PackageReader.read(url, trusting: try IssuerPublicKey.loadAll(in: folder.appendingPathComponent("trusted-issuers")))
    }
}
