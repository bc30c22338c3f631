import DemoContent
import ExamCore
import Foundation
import VenuePackage
import VenueStore

/// Shared set-up for the Swift tests: a test issuer key, demo content, temporary folders and venues.
public enum Fixtures {
    /// One signing key per test process, issued as the demo central office.
    public static let issuerKey = IssuerPrivateKey.generate(issuer: DemoPackage.issuer.id)

    /// A fresh, empty folder under the system's temporary folder.
    public static func temporaryFolder(_ name: String = "kaodian-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The demo exam with `candidates` candidates, starting at `startsAt`; passwords hashed cheaply for speed.
    public static func demoContents(
        startsAt: Date = Date().addingTimeInterval(3600), candidates: Int = 6, facePhotos: URL? = nil,
        faceChecks: FaceChecks? = nil
    ) -> PackageContents {
        var demo = DemoPackage(startsAt: startsAt, candidateCount: candidates, facePhotos: facePhotos)
        demo.passwordIterations = 1_000
        demo.faceChecks = faceChecks
        return demo.contents()
    }

    public static func writePackage(_ contents: PackageContents, key: IssuerPrivateKey = issuerKey) throws -> URL {
        let url = temporaryFolder("package").appendingPathComponent("venue.kdpkg")
        try PackageWriter.write(contents, signedWith: key, to: url)
        return url
    }

    /// A venue data folder that trusts `issuerKey`, with its database open.
    public static func venue() throws -> (database: VenueDatabase, folder: URL, trusted: URL) {
        let folder = temporaryFolder("venue")
        let trusted = folder.appendingPathComponent("trusted-issuers")
        try FileManager.default.createDirectory(at: trusted, withIntermediateDirectories: true)
        let data = try JSONEncoder().encode(try issuerKey.publicKey())
        try data.write(to: trusted.appendingPathComponent("issuer.json"))
        return (try VenueDatabase.open(folder: folder), folder, trusted)
    }

    /// A venue with the demo exam imported.
    public static func venueWithDemo(
        startsAt: Date = Date().addingTimeInterval(3600), candidates: Int = 6, facePhotos: URL? = nil,
        faceChecks: FaceChecks? = nil
    ) async throws -> (database: VenueDatabase, folder: URL, contents: PackageContents) {
        let venue = try venue()
        let contents = demoContents(startsAt: startsAt, candidates: candidates, facePhotos: facePhotos, faceChecks: faceChecks)
        let package = try PackageReader.read(try writePackage(contents), trusting: [try issuerKey.publicKey()])
        _ = try await venue.database.importPackage(package)
        return (venue.database, venue.folder, contents)
    }

    /// The repository root, its installed face models, and the shared face photos beside the repository.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let faceModels = repositoryRoot.appendingPathComponent("models")
    public static let sharedFace = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/face")

    public static func candidate(_ index: Int) -> (admissionNumber: String, idNumber: String) {
        let credentials = DemoPackage.candidateCredentials(index)
        return (credentials.admissionNumber, credentials.idNumber)
    }
}
