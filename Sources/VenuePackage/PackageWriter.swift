import Crypto
import ExamCore
import Foundation
import ZIPFoundation

/// Writes venue packages: JSON parts, photos, a manifest with every part's SHA-256, and its Ed25519 signature.
/// It writes what it is given; checking content is the reader's job (and the issuer's, before it signs) — except
/// when it seals papers: then it checks the plain contents whole first, since nobody can check a sealed paper before
/// the venue opens it.
public enum PackageWriter {
    /// The package's files in archive order: parts first, then `manifest.json` and `manifest.sig`.
    /// `codes` seals the papers of those sittings (version 2, see `SealCode`); with none it writes version 1.
    public static func files(
        for contents: PackageContents, sealing codes: [Sitting.ID: String] = [:], signedWith key: IssuerPrivateKey
    ) throws -> [(path: String, data: Data)] {
        var contents = contents
        var sealedParts: [(entry: Manifest.Sealed, data: Data)] = []
        if !codes.isEmpty {
            sealedParts = try seal(&contents, codes: codes)
        }
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
        for paper in contents.skillPapers {
            parts.append((PartName.skillPaper(paper.id), try encoder.encode(paper)))
        }
        for path in contents.photos.keys.sorted() {
            parts.append((path, contents.photos[path]!))
        }
        for sealed in sealedParts {
            parts.append((sealed.entry.part, sealed.data))
        }
        let manifest = Manifest(
            packageID: contents.packageID, issuedAt: contents.issuedAt, issuer: contents.issuer, venue: contents.venue,
            sittings: contents.sittings,
            parts: parts.map { Manifest.Part(path: $0.path, sha256: sha256Hex($0.data), bytes: $0.data.count) },
            sealed: sealedParts.map(\.entry), skillPapers: !contents.skillPapers.isEmpty)
        let manifestData = try encoder.encode(manifest)
        return parts + (try signedManifest(manifestData, key: key))
    }

    /// Checks the plain contents whole, then takes each sealed sitting's paper, and the questions no unsealed paper
    /// uses, out of `contents` into one encrypted part per sitting. Questions no paper uses stay plain.
    static func seal(
        _ contents: inout PackageContents, codes: [Sitting.ID: String]
    ) throws -> [(entry: Manifest.Sealed, data: Data)] {
        _ = try ContentCheck.check(contents)
        var problems: [PackageProblem] = []
        for (sitting, code) in codes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if !contents.sittings.contains(where: { $0.id == sitting }) {
                problems.append(PackageProblem(
                    "paper_seal_unknown_sitting", zh: "要密封的场次 \(sitting) 不在数据包中",
                    en: "the sitting \(sitting) to seal is not in the package"))
            }
            if SealCode.normalise(code) == nil {
                problems.append(PackageProblem(
                    "paper_seal_code_malformed", zh: "场次 \(sitting) 的启封码格式不正确（应为 25 位字母和数字）",
                    en: "the code for the sitting \(sitting) is not in the right form (25 letters and digits)"))
            }
        }
        let sealedSittings = contents.sittings.filter { codes[$0.id] != nil }
        let sealedPapers = Set(sealedSittings.map(\.paper))
        let plainPapers = Set(contents.sittings.filter { codes[$0.id] == nil }.map(\.paper))
        for paper in sealedPapers.intersection(plainPapers).sorted(by: { $0.rawValue < $1.rawValue }) {
            problems.append(PackageProblem(
                "paper_seal_shared_paper", zh: "试卷 \(paper) 同时用于密封和未密封的场次，无法密封",
                en: "the paper \(paper) is used by both sealed and unsealed sittings, so it cannot be sealed"))
        }
        if !problems.isEmpty { throw PackageError(problems) }

        func questionIDs(_ paper: Paper) -> Set<Question.ID> { Set(paper.sections.flatMap(\.items).map(\.question)) }
        let stayingPapers = contents.papers.filter { !sealedPapers.contains($0.id) }
        let plainUse = stayingPapers.reduce(into: Set<Question.ID>()) { $0.formUnion(questionIDs($1)) }
        let papersByID = Dictionary(contents.papers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var moved = Set<Question.ID>()
        var result: [(entry: Manifest.Sealed, data: Data)] = []
        for sitting in sealedSittings {
            guard let paper = papersByID[sitting.paper], let code = codes[sitting.id] else { continue }
            let own = questionIDs(paper).subtracting(plainUse)
            moved.formUnion(own)
            let content = SealedContent(paper: paper, questions: contents.questions.filter { own.contains($0.id) })
            let entry = Manifest.Sealed(sitting: sitting.id, paper: paper.id, part: PartName.sealed(sitting.id))
            result.append((entry, try SealedPaper.seal(content, sitting: sitting.id, code: code)))
        }
        contents.papers = stayingPapers
        contents.questions.removeAll { moved.contains($0.id) }
        return result
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

    /// Writes a package; `codes` seals the papers of those sittings (see `files(for:sealing:signedWith:)`).
    public static func write(
        _ contents: PackageContents, sealing codes: [Sitting.ID: String] = [:], signedWith key: IssuerPrivateKey, to url: URL
    ) throws {
        try archive(files(for: contents, sealing: codes, signedWith: key), to: url)
    }
}
