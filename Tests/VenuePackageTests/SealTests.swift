import DemoContent
import ExamCore
import Foundation
import TestSupport
import Testing

@testable import VenuePackage

/// Archives files and reads them back with the test issuer trusted.
private func readBack(_ files: [(path: String, data: Data)]) throws(PackageError) -> VerifiedPackage {
    let url = Fixtures.temporaryFolder("seal").appendingPathComponent("p.kdpkg")
    do { try PackageWriter.archive(files, to: url) } catch { Issue.record("could not write: \(error)") }
    return try PackageReader.read(url, trusting: [try! Fixtures.issuerKey.publicKey()])
}

private let sitting = DemoPackage.sittingID

@Suite("Venue package: sealed papers")
struct SealTests {
    @Test func aSealedPaperTravelsEncryptedAndOpensWithItsCode() throws {
        // Given the demo exam sealed for its sitting
        let contents = Fixtures.demoContents()
        let code = SealCode.generate()
        let files = try PackageWriter.files(for: contents, sealing: [sitting: code], signedWith: Fixtures.issuerKey)

        // Then the package is version 2, with no plain paper and one sealed part listed and signed like the others
        let paths = files.map(\.path)
        #expect(!paths.contains { $0.hasPrefix("papers/") })
        #expect(paths.contains("sealed/\(sitting.rawValue).bin"))
        let package = try readBack(files)
        #expect(package.manifest.formatVersion == 2)
        #expect(package.manifest.sealed == [.init(sitting: sitting, paper: contents.papers[0].id, part: "sealed/\(sitting.rawValue).bin")])
        #expect(package.manifest.parts.contains { $0.path == "sealed/\(sitting.rawValue).bin" })
        #expect(package.contents.papers.isEmpty && package.papers.isEmpty)
        // No question of the paper can be read in plain form, nor the paper's title anywhere.
        #expect(package.contents.questions.isEmpty)
        let everything = files.map(\.data).reduce(Data(), +)
        #expect(everything.range(of: Data(contents.papers[0].title.utf8)) == nil)
        #expect(everything.range(of: Data(contents.questions[0].stem.utf8)) == nil)

        // When it is opened with its code
        let sealed = try #require(package.sealed.first)
        let (paper, questions) = try sealed.open(code: code)

        // Then it is the paper as issued, with its questions
        #expect(paper == contents.papers[0])
        #expect(Set(questions.map(\.id)) == Set(contents.questions.map(\.id)))
        let assembled = try AssembledPaper(paper: paper, questions: Dictionary(uniqueKeysWithValues: questions.map { ($0.id, $0) }))
        #expect(assembled.answerableOrder.count > 0)
    }

    @Test func aPackageWithNothingSealedStaysVersionOne() throws {
        let package = try readBack(try PackageWriter.files(for: Fixtures.demoContents(), sealing: [:], signedWith: Fixtures.issuerKey))
        #expect(package.manifest.formatVersion == 1)
        #expect(package.manifest.sealed == nil)
        #expect(package.sealed.isEmpty)
        let manifest = try #require(
            try PackageWriter.files(for: Fixtures.demoContents(), signedWith: Fixtures.issuerKey).first { $0.path == PartName.manifest })
        #expect(String(decoding: manifest.data, as: UTF8.self).contains("sealed") == false)
    }

    @Test func aWrongCodeOpensNothingAndSaysSo() throws {
        let files = try PackageWriter.files(
            for: Fixtures.demoContents(), sealing: [sitting: SealCode.generate()], signedWith: Fixtures.issuerKey)
        let sealed = try #require(try readBack(files).sealed.first)
        do {
            _ = try sealed.open(code: SealCode.generate())
            Issue.record("a wrong code opened the paper")
        } catch {
            #expect(error.code == "paper_seal_wrong_code")
            #expect(error.message.zh.contains("启封码不正确"))
            #expect(error.message.en.contains("does not open"))
            #expect(!error.message.en.contains("package was refused"))
        }
    }

    @Test func aCodeInTheWrongShapeIsMalformedNotWrong() throws {
        let files = try PackageWriter.files(
            for: Fixtures.demoContents(), sealing: [sitting: SealCode.generate()], signedWith: Fixtures.issuerKey)
        let sealed = try #require(try readBack(files).sealed.first)
        for bad in ["", "12345", "ABCDE-FGHJK-MNPQR-STVWX-YZ01U", "ABCDE-FGHJK-MNPQR-STVWX-YZ0123"] {
            #expect(throws: PackageError.self) { _ = try sealed.open(code: bad) }
            do {
                _ = try sealed.open(code: bad)
            } catch {
                #expect(error.code == "paper_seal_code_malformed", "\(bad)")
            }
        }
    }

    @Test func aTamperedSealedPartIsRefusedByItsDigest() throws {
        var files = try PackageWriter.files(
            for: Fixtures.demoContents(), sealing: [sitting: SealCode.generate()], signedWith: Fixtures.issuerKey)
        let index = try #require(files.firstIndex { $0.path.hasPrefix("sealed/") })
        var data = files[index].data
        data[data.count / 2] ^= 0x01
        files[index].data = data
        do {
            _ = try readBack(files)
            Issue.record("a tampered sealed part was accepted")
        } catch {
            #expect(error.contains("package_digest_mismatch"))
        }
    }

    @Test func aVersionTwoPackageMayCarrySittingsWithoutCodes() throws {
        // Given two sittings on two papers, only the first sealed
        var contents = Fixtures.demoContents()
        var plainPaper = contents.papers[0]
        plainPaper.id = "P-PLAIN"
        contents.papers.append(plainPaper)
        var second = contents.sittings[0]
        second.id = "S-PLAIN"
        second.paper = plainPaper.id
        contents.sittings.append(second)
        let code = SealCode.generate()
        let package = try readBack(try PackageWriter.files(for: contents, sealing: [sitting: code], signedWith: Fixtures.issuerKey))

        // Then the plain sitting's paper and its questions stay plain (shared questions travel once, in plain form)
        #expect(package.manifest.formatVersion == 2)
        #expect(package.contents.papers.map(\.id) == ["P-PLAIN"])
        #expect(package.papers["P-PLAIN"] != nil)
        #expect(package.sealed.map(\.sitting) == [sitting])
        // And the sealed paper opens against those plain questions
        let (paper, sealedQuestions) = try package.sealed[0].open(code: code)
        #expect(paper.id == contents.papers[0].id)
        #expect(sealedQuestions.isEmpty)
    }

    @Test func theWriterRefusesCodesItCannotUse() throws {
        let contents = Fixtures.demoContents()
        #expect(throws: PackageError.self) {
            _ = try PackageWriter.files(for: contents, sealing: [sitting: "not a code"], signedWith: Fixtures.issuerKey)
        }
        #expect(throws: PackageError.self) {
            _ = try PackageWriter.files(for: contents, sealing: ["S-NOT-THERE": SealCode.generate()], signedWith: Fixtures.issuerKey)
        }
        // Content a venue would refuse is refused before anything is sealed.
        var broken = contents
        broken.seats.append(broken.seats[0])
        broken.seats[broken.seats.count - 1].seat = "99"
        do {
            _ = try PackageWriter.files(for: broken, sealing: [sitting: SealCode.generate()], signedWith: Fixtures.issuerKey)
            Issue.record("broken content was sealed")
        } catch let error as PackageError {
            #expect(error.contains("candidate_in_two_seats") || error.contains("seat_unknown"))
        }
    }

    @Test func codesAreReadAsPeopleTypeThem() throws {
        let code = SealCode.generate()
        #expect(code.count == 29)
        #expect(code.split(separator: "-").map(\.count) == [5, 5, 5, 5, 5])
        #expect(code.allSatisfy { $0 == "-" || SealCode.alphabet.contains($0) })
        let canonical = code.replacingOccurrences(of: "-", with: "")
        #expect(SealCode.normalise(code) == canonical)
        #expect(SealCode.normalise(code.lowercased()) == canonical)
        #expect(SealCode.normalise(" " + code.replacingOccurrences(of: "-", with: " ") + " ") == canonical)
        // O reads as 0, I and L as 1, in either case.
        #expect(SealCode.normalise("oOiIl-L0000-00000-00000-00000") == "0011110000000000000000000")
        #expect(SealCode.normalise("U0000-00000-00000-00000-00000") == nil)
        #expect(SealCode.normalise("0000-00000-00000-00000-00000") == nil)

        // A code typed loosely opens the paper; the same code does not open it as another sitting's part.
        let contents = Fixtures.demoContents()
        let files = try PackageWriter.files(for: contents, sealing: [sitting: code], signedWith: Fixtures.issuerKey)
        let sealed = try #require(try readBack(files).sealed.first)
        let loose = " " + code.lowercased().replacingOccurrences(of: "0", with: "o").replacingOccurrences(of: "1", with: "l")
            .replacingOccurrences(of: "-", with: " ")
        #expect(try sealed.open(code: loose).0 == contents.papers[0])
        var elsewhere = sealed
        elsewhere.sitting = "S-OTHER"
        #expect(throws: PackageError.self) { _ = try elsewhere.open(code: code) }
    }

    @Test func codesAreRandom() {
        let codes = Set((0..<200).map { _ in SealCode.generate() })
        #expect(codes.count == 200)
    }
}
