import Crypto
import ExamCore
import Foundation
import ZIPFoundation

/// Writes venue packages: JSON parts, photos, a manifest with every part's SHA-256, and its Ed25519 signature.
/// It writes what it is given; checking content is the reader's job (and the issuer's, before it signs).
public enum PackageWriter {
    /// The package's files in archive order: parts first, then `manifest.json` and `manifest.sig`.
    public static func files(for contents: PackageContents, signedWith key: IssuerPrivateKey) throws -> [(path: String, data: Data)] {
        let encoder = PackageJSON.encoder()
        var parts: [(path: String, data: Data)] = [
            (PartName.rooms, try encoder.encode(contents.rooms)),
            (PartName.candidates, try encoder.encode(contents.candidates)),
            (PartName.seats, try encoder.encode(contents.seats)),
            (PartName.staff, try encoder.encode(contents.staff)),
            (PartName.questions, try encoder.encode(contents.questions)),
        ]
        for paper in contents.papers {
            parts.append((PartName.paper(paper.id), try encoder.encode(paper)))
        }
        for path in contents.photos.keys.sorted() {
            parts.append((path, contents.photos[path]!))
        }
        let manifest = Manifest(
            packageID: contents.packageID, issuedAt: contents.issuedAt, issuer: contents.issuer, venue: contents.venue,
            sittings: contents.sittings,
            parts: parts.map { Manifest.Part(path: $0.path, sha256: sha256Hex($0.data), bytes: $0.data.count) })
        let manifestData = try encoder.encode(manifest)
        return parts + (try signedManifest(manifestData, key: key))
    }

    /// `manifest.json` and its detached signature `manifest.sig` (base64 of the Ed25519 signature over the exact bytes).
    public static func signedManifest(_ manifest: Data, key: IssuerPrivateKey) throws -> [(path: String, data: Data)] {
        let signature = try key.signingKey().signature(for: manifest)
        return [(PartName.manifest, manifest), (PartName.signature, Data(signature.base64EncodedString().utf8))]
    }

    /// Zips files into a package. Photos are stored as they are; JSON is deflated.
    public static func archive(_ files: [(path: String, data: Data)], to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        for file in files {
            let compress = file.path.hasSuffix(".json") || file.path.hasSuffix(".svg")
            try archive.addEntry(
                with: file.path, type: .file, uncompressedSize: Int64(file.data.count),
                modificationDate: Date(timeIntervalSince1970: 1_700_000_000),
                compressionMethod: compress ? .deflate : .none
            ) { position, size in
                file.data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    public static func write(_ contents: PackageContents, signedWith key: IssuerPrivateKey, to url: URL) throws {
        try archive(files(for: contents, signedWith: key), to: url)
    }
}
