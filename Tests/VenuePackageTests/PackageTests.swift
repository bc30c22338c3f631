import ExamCore
import Foundation
import TestSupport
import Testing

@testable import VenuePackage

/// Writes files as a package and reads it back with the test issuer trusted.
private func read(_ files: [(path: String, data: Data)]) throws(PackageError) -> VerifiedPackage {
    let url = Fixtures.temporaryFolder("pkg").appendingPathComponent("p.kdpkg")
    do { try PackageWriter.archive(files, to: url) } catch { Issue.record("could not write: \(error)") }
    return try PackageReader.read(url, trusting: [try! Fixtures.issuerKey.publicKey()])
}

private func files(_ contents: PackageContents = Fixtures.demoContents()) throws -> [(path: String, data: Data)] {
    try PackageWriter.files(for: contents, signedWith: Fixtures.issuerKey)
}

/// Replaces a file, keeping the manifest and its signature as they were.
private func replacing(_ path: String, with data: Data, in files: [(path: String, data: Data)]) -> [(path: String, data: Data)] {
    files.map { $0.path == path ? (path, data) : $0 }
}

/// Expects the package to be refused with `code`, and the message to name `mention`.
private func expectRefused(_ files: [(path: String, data: Data)], code: String, mention: String) {
    do {
        _ = try read(files)
        Issue.record("the package was accepted; expected \(code)")
    } catch {
        #expect(error.contains(code), "codes: \(error.problems.map(\.code))")
        #expect(error.message.en.contains(mention), "message: \(error.message.en)")
        #expect(!error.message.zh.isEmpty)
    }
}

@Suite("Venue package: reading and checking")
struct PackageTests {
    @Test func aPackageReadsBackExactlyAsWritten() throws {
        let contents = Fixtures.demoContents(candidates: 12)
        let package = try read(try files(contents))
        #expect(package.contents.candidates == contents.candidates)
        #expect(package.contents.seats == contents.seats)
        #expect(package.contents.questions == contents.questions)
        #expect(package.contents.papers == contents.papers)
        #expect(package.contents.photos == contents.photos)
        #expect(package.contents.sittings.map(\.id) == contents.sittings.map(\.id))
        #expect(package.manifest.parts.count == 5 + contents.papers.count + contents.photos.count)
        #expect(package.papers[contents.papers[0].id]?.answerableOrder.count == 18)
    }

    @Test func aPartWhoseDigestDoesNotMatchIsRefused() throws {
        var candidates = try JSONSerialization.jsonObject(with: files().first { $0.path == PartName.candidates }!.data) as! [[String: Any]]
        candidates[0]["name"] = "Somebody Else"
        let tampered = try JSONSerialization.data(withJSONObject: candidates)
        expectRefused(replacing(PartName.candidates, with: tampered, in: try files()), code: "package_digest_mismatch", mention: "candidates.json")
    }

    @Test func aManifestSignedByAnotherKeyIsRefused() throws {
        var forged = try files()
        let manifest = forged.first { $0.path == PartName.manifest }!.data
        let impostor = IssuerPrivateKey.generate(issuer: Fixtures.issuerKey.issuer)
        forged.removeAll { $0.path == PartName.manifest || $0.path == PartName.signature }
        forged += try PackageWriter.signedManifest(manifest, key: impostor)
        expectRefused(forged, code: "package_bad_signature", mention: "signature is not valid")
    }

    @Test func aManifestChangedAfterSigningIsRefused() throws {
        var all = try files()
        let original = all.first { $0.path == PartName.manifest }!.data
        let changed = Data(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\"durationMinutes\" : 90", with: "\"durationMinutes\" : 900").utf8)
        #expect(changed != original)
        all = replacing(PartName.manifest, with: changed, in: all)
        expectRefused(all, code: "package_bad_signature", mention: "changed after signing")
    }

    @Test func anIssuerThisVenueDoesNotTrustIsRefused() throws {
        var contents = Fixtures.demoContents()
        contents.issuer.id = "some-other-office"
        let other = IssuerPrivateKey.generate(issuer: "some-other-office")
        expectRefused(try PackageWriter.files(for: contents, signedWith: other), code: "package_unknown_issuer", mention: "some-other-office")
    }

    @Test func aMissingPartIsRefusedByName() throws {
        let all = try files().filter { $0.path != PartName.questions }
        expectRefused(all, code: "package_missing_part", mention: "questions.json")
        expectRefused(try files().filter { $0.path != PartName.signature }, code: "package_missing_part", mention: "manifest.sig")
    }

    @Test func anUnknownFormatVersionIsRefusedWithAHint() throws {
        var all = try files()
        let manifest = String(decoding: all.first { $0.path == PartName.manifest }!.data, as: UTF8.self)
            .replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99")
        all.removeAll { $0.path == PartName.manifest || $0.path == PartName.signature }
        all += try PackageWriter.signedManifest(Data(manifest.utf8), key: Fixtures.issuerKey)
        expectRefused(all, code: "package_unknown_version", mention: "version 99")
    }

    @Test func aCandidateInTwoSeatsIsRefusedNamingThem() throws {
        var contents = Fixtures.demoContents()
        var second = contents.seats[0]
        second.seat = "29"
        contents.seats.append(second)
        expectRefused(try files(contents), code: "candidate_in_two_seats", mention: contents.seats[0].admissionNumber)
    }

    @Test func aSeatGivenToTwoCandidatesIsRefused() throws {
        var contents = Fixtures.demoContents()
        contents.seats[1].seat = contents.seats[0].seat
        expectRefused(try files(contents), code: "seat_taken_twice", mention: "\(contents.seats[0].room)/\(contents.seats[0].seat)")
    }

    @Test func aPaperReferencingAMissingQuestionIsRefused() throws {
        var contents = Fixtures.demoContents()
        contents.questions.removeAll { $0.id == "Q-TF-02" }
        expectRefused(try files(contents), code: "paper_missing_question", mention: "Q-TF-02")
    }

    @Test func faceChecksOutOfRangeOrOnAPracticalSittingAreRefused() throws {
        var contents = Fixtures.demoContents()
        contents.sittings[0].faceChecks = FaceChecks(selfCheckIn: true, rechecks: 21)
        expectRefused(try files(contents), code: "sitting_invalid", mention: "0 to 20")
        contents.sittings[0].faceChecks = FaceChecks(selfCheckIn: false, rechecks: -1)
        expectRefused(try files(contents), code: "sitting_invalid", mention: "0 to 20")
        contents.sittings[0].faceChecks = FaceChecks(selfCheckIn: true, rechecks: 3)
        contents.sittings[0].subject = .skill
        expectRefused(try files(contents), code: "sitting_invalid", mention: "not a theory exam")
    }

    @Test func aStaffPhotoMustBeInThePackageAndBeAnImage() throws {
        var contents = Fixtures.demoContents()
        contents.staff[1].photo = "photos/staff-missing.jpg"
        expectRefused(try files(contents), code: "staff_missing_photo", mention: "photos/staff-missing.jpg")
        contents.staff[1].photo = "photos/staff-text.jpg"
        contents.photos["photos/staff-text.jpg"] = Data("not a picture".utf8)
        expectRefused(try files(contents), code: "staff_photo_not_image", mention: contents.staff[1].username)
    }

    @Test func everyContentProblemIsReportedAtOnce() throws {
        var contents = Fixtures.demoContents()
        contents.questions.removeAll { $0.id == "Q-TF-02" }
        contents.candidates[2].idNumber = "110105197501010001"
        contents.photos.removeValue(forKey: contents.candidates[3].photo)
        let all = try files(contents)
        do throws(PackageError) {
            _ = try read(all)
            Issue.record("accepted")
        } catch {
            #expect(Set(error.problems.map(\.code)) == ["paper_missing_question", "candidate_invalid_id_number", "candidate_missing_photo"])
        }
    }

    @Test func aFileOutsideTheSignedManifestIsRefused() throws {
        expectRefused(try files() + [("extra/script.sh", Data("rm -rf /".utf8))], code: "package_unlisted_part", mention: "extra/script.sh")
    }

    @Test func somethingThatIsNotAPackageIsRefused() throws {
        let url = Fixtures.temporaryFolder().appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: url)
        #expect(throws: PackageError.self) { try PackageReader.read(url, trusting: []) }
        do { _ = try PackageReader.read(url, trusting: []) } catch { #expect(error.code == "package_unreadable") }
    }

    @Test func unsafePathsAreRecognised() {
        #expect(!PackageReader.isSafePath("../etc/passwd"))
        #expect(!PackageReader.isSafePath("/etc/passwd"))
        #expect(!PackageReader.isSafePath("photos//a.jpg"))
        #expect(PackageReader.isSafePath("photos/KD1.jpg"))
    }

    @Test func staffPasswordsTravelOnlyAsHashesThatVerify() {
        let hash = PasswordHash.make("s3cret", iterations: 1_000)
        #expect(!hash.contains("s3cret"))
        #expect(PasswordHash.verify("s3cret", against: hash))
        #expect(!PasswordHash.verify("s3cret!", against: hash))
        #expect(!PasswordHash.verify("s3cret", against: "plain"))
    }
}
