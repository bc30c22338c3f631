import Crypto
import SwiftASN1
import Foundation
import TestSupport
import Testing
import X509

@testable import VenueServer

@Suite("The venue's own HTTPS certificates")
struct VenueTLSTests {
    func certificate(_ folder: URL, _ name: String) throws -> Certificate {
        try Certificate(pemEncoded: try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
    }

    @Test func theServerCertificateIsSignedByTheVenueAuthorityForItsAddresses() throws {
        let folder = Fixtures.temporaryFolder("tls")
        let tls = try VenueTLS.loadOrCreate(folder: folder, venueName: "城东考点", names: ["192.168.1.20", "venue-box"])
        #expect(tls.names == ["127.0.0.1", "192.168.1.20", "localhost", "venue-box"])
        let authority = try certificate(folder, "venue-ca.crt")
        let server = try certificate(folder, "server.crt")
        #expect(try authority.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try server.extensions.basicConstraints == .notCertificateAuthority)
        #expect(server.issuer == authority.subject)
        #expect(authority.publicKey.isValidSignature(server.signature, for: server))
        #expect(Set(VenueTLS.coveredNames(server)) == Set(tls.names))
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(server.notValidAfter.timeIntervalSinceNow > 800 * 86400)
        // The keys are readable by the venue's user only.
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("venue-ca.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // NIOSSL accepts what was made.
        _ = try tls.serverConfiguration()
    }

    @Test func aRestartKeepsTheAuthorityAndANewAddressGetsANewServerCertificate() throws {
        let folder = Fixtures.temporaryFolder("tls")
        let first = try VenueTLS.loadOrCreate(folder: folder, venueName: "考点", names: ["10.0.0.5"])
        let again = try VenueTLS.loadOrCreate(folder: folder, venueName: "考点", names: ["10.0.0.5"])
        #expect(again.authorityPEM == first.authorityPEM && again.chainPEM == first.chainPEM && again.keyPEM == first.keyPEM)
        let moved = try VenueTLS.loadOrCreate(folder: folder, venueName: "考点", names: ["10.0.0.6"])
        #expect(moved.authorityPEM == first.authorityPEM && moved.chainPEM != first.chainPEM && moved.keyPEM != first.keyPEM)
        #expect(VenueTLS.coveredNames(try certificate(folder, "server.crt")).contains("10.0.0.6"))
        // A server certificate about to run out is made again.
        let later = try VenueTLS.loadOrCreate(
            folder: folder, venueName: "考点", names: ["10.0.0.6"], now: Date().addingTimeInterval(810 * 86400))
        #expect(later.authorityPEM == first.authorityPEM && later.chainPEM != moved.chainPEM)
    }

    @Test func anAuthorityThatDoesNotMatchItsKeyIsRefused() throws {
        let folder = Fixtures.temporaryFolder("tls")
        _ = try VenueTLS.loadOrCreate(folder: folder, venueName: "考点", names: [])
        try P256.Signing.PrivateKey().pemRepresentation.write(
            to: folder.appendingPathComponent("venue-ca.key"), atomically: true, encoding: .utf8)
        #expect(throws: VenueTLSError.self) { try VenueTLS.loadOrCreate(folder: folder, venueName: "考点", names: []) }
    }
}
