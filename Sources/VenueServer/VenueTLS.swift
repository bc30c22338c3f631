import Crypto
import Foundation
import HummingbirdTLS
import SwiftASN1
import X509

/// The venue's own HTTPS: browsers open the camera (face check-in at the desk, self check-in and re-checks at the
/// terminal, staff sign-in) only on a secure page, and on the LAN that means HTTPS.
///
/// At first start the venue makes its own certificate authority (`DATA/tls/venue-ca.crt`, key beside it, ten years)
/// and a server certificate signed by it for every name and address the venue answers on. Devices trust the
/// authority once (it is offered at `/venue-ca.crt`); the server certificate is made again, by the same authority,
/// when the venue's addresses change or it is within 30 days of its end, so the devices need not trust anything new.
public struct VenueTLS: Sendable {
    public let folder: URL
    /// PEM of the certificate authority devices install.
    public let authorityPEM: String
    /// PEM of the server certificate followed by the authority's.
    public let chainPEM: String
    public let keyPEM: String
    /// The names and addresses the server certificate covers.
    public let names: [String]

    public static let authorityFile = "venue-ca.crt"

    /// Loads the venue's certificates from `folder`, making what is missing or out of date.
    public static func loadOrCreate(folder: URL, venueName: String, names: [String], now: Date = Date()) throws -> VenueTLS {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let authorityURL = folder.appendingPathComponent(authorityFile)
        let authorityKeyURL = folder.appendingPathComponent("venue-ca.key")
        let serverURL = folder.appendingPathComponent("server.crt")
        let serverKeyURL = folder.appendingPathComponent("server.key")
        let names = Array(Set(names + ["localhost", "127.0.0.1"])).sorted()

        let authorityKey: P256.Signing.PrivateKey
        let authority: Certificate
        if let keyPEM = try? String(contentsOf: authorityKeyURL, encoding: .utf8),
            let certificatePEM = try? String(contentsOf: authorityURL, encoding: .utf8)
        {
            authorityKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            authority = try Certificate(pemEncoded: certificatePEM)
            guard authority.publicKey == Certificate.PublicKey(authorityKey.publicKey) else {
                throw VenueTLSError("\(authorityURL.path) does not belong to the key beside it; move both away to make new ones")
            }
        } else {
            authorityKey = P256.Signing.PrivateKey()
            authority = try makeAuthority(key: authorityKey, venueName: venueName, now: now)
            try write(authorityKey.pemRepresentation, to: authorityKeyURL, secret: true)
            try write(try authority.serializeAsPEM().pemString, to: authorityURL, secret: false)
        }

        var server: Certificate?
        var serverKeyPEM = try? String(contentsOf: serverKeyURL, encoding: .utf8)
        if let pem = try? String(contentsOf: serverURL, encoding: .utf8), let existing = try? Certificate(pemEncoded: pem),
            existing.issuer == authority.subject, existing.notValidAfter > now.addingTimeInterval(30 * 86400),
            Set(coveredNames(existing)) == Set(names), serverKeyPEM != nil
        {
            server = existing
        }
        if server == nil {
            let key = P256.Signing.PrivateKey()
            server = try makeServerCertificate(
                key: key, names: names, authority: authority, authorityKey: authorityKey, venueName: venueName, now: now)
            serverKeyPEM = key.pemRepresentation
            try write(key.pemRepresentation, to: serverKeyURL, secret: true)
            try write(try server!.serializeAsPEM().pemString, to: serverURL, secret: false)
        }
        let authorityPEM = try authority.serializeAsPEM().pemString
        return VenueTLS(
            folder: folder, authorityPEM: authorityPEM, chainPEM: try server!.serializeAsPEM().pemString + "\n" + authorityPEM,
            keyPEM: serverKeyPEM!, names: names)
    }

    /// The TLS set-up for Hummingbird: the server certificate with the authority, and the server key.
    public func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    static func makeAuthority(key: P256.Signing.PrivateKey, venueName: String, now: Date) throws -> Certificate {
        let name = try DistinguishedName {
            OrganizationName("Kaodian")
            CommonName(String("\(venueName) 考点证书颁发 Venue CA".prefix(64)))
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    static func makeServerCertificate(
        key: P256.Signing.PrivateKey, names: [String], authority: Certificate, authorityKey: P256.Signing.PrivateKey,
        venueName: String, now: Date
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("Kaodian")
            CommonName(String(venueName.prefix(64)))
        }
        let alternativeNames = SubjectAlternativeNames(
            names.map { name in
                if let bytes = ipv4Bytes(name) { return GeneralName.ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
                return GeneralName.dnsName(name)
            })
        let authorityKeyID = try authority.extensions.subjectKeyIdentifier?.keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(825 * 86400),
            issuer: authority.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                alternativeNames
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
            },
            issuerPrivateKey: Certificate.PrivateKey(authorityKey))
    }

    /// The DNS names and IPv4 addresses a certificate covers.
    static func coveredNames(_ certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            switch name {
            case .dnsName(let value): value
            case .ipAddress(let octets) where octets.bytes.count == 4: octets.bytes.map(String.init).joined(separator: ".")
            default: nil
            }
        }
    }

    static func ipv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    private static func write(_ text: String, to url: URL, secret: Bool) throws {
        let data = Data(text.utf8)
        let temporary = url.appendingPathExtension("new")
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: data, attributes: [.posixPermissions: secret ? 0o600 : 0o644])
        else { throw VenueTLSError("cannot write \(temporary.path)") }
        guard rename(temporary.path, url.path) == 0 else { throw VenueTLSError("cannot write \(url.path)") }
    }
}

public struct VenueTLSError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
