import Crypto
import ExamCore
import Foundation
import ZIPFoundation

/// A package whose signature, digests and content have all been checked; ready to import.
public struct VerifiedPackage: Sendable {
    public let manifest: Manifest
    /// SHA-256 of `manifest.json`; it pins every part, so it identifies the whole package.
    public let manifestSHA256: String
    public let contents: PackageContents
    public let papers: [Paper.ID: AssembledPaper]
    /// Sittings whose paper is sealed (version 2): each opens with its code (`SealedPaper.open(code:)`).
    public let sealed: [SealedPaper]

    public init(
        manifest: Manifest, manifestSHA256: String, contents: PackageContents, papers: [Paper.ID: AssembledPaper],
        sealed: [SealedPaper] = []
    ) {
        self.manifest = manifest
        self.manifestSHA256 = manifestSHA256
        self.contents = contents
        self.papers = papers
        self.sealed = sealed
    }
}

/// Reads a venue package and checks everything before anything is imported:
/// archive structure, format version, issuer signature, every part's presence and SHA-256, then the content.
public enum PackageReader {
    /// Refuse archives that would unpack to more than this.
    public static let maxUnpackedBytes: UInt64 = 2 * 1024 * 1024 * 1024
    public static let maxEntries = 200_000

    public static func read(_ url: URL, trusting keys: [IssuerPublicKey]) throws(PackageError) -> VerifiedPackage {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw .unreadable("not a ZIP archive")
        }
        return try read(archive, trusting: keys)
    }

    static func read(_ archive: Archive, trusting keys: [IssuerPublicKey]) throws(PackageError) -> VerifiedPackage {
        let entries = try listEntries(archive)
        guard let manifestEntry = entries[PartName.manifest] else { throw .missingPart(PartName.manifest) }
        guard let signatureEntry = entries[PartName.signature] else { throw .missingPart(PartName.signature) }
        let manifestData = try extract(archive, manifestEntry, path: PartName.manifest, limit: 64 * 1024 * 1024)
        let signatureData = try extract(archive, signatureEntry, path: PartName.signature, limit: 1024)

        // Version first: an unknown version may sign or lay out parts differently.
        struct Header: Decodable {
            var format: String
            var formatVersion: Int
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: manifestData)
        } catch {
            throw .malformed(PartName.manifest, "no format and formatVersion")
        }
        guard header.format == Manifest.formatName else {
            throw .malformed(PartName.manifest, "format is \(header.format), expected \(Manifest.formatName)")
        }
        guard Manifest.supportedVersions.contains(header.formatVersion) else {
            throw PackageError(
                "package_unknown_version",
                zh: "数据包格式版本 \(header.formatVersion) 不受支持（本考点支持 \(Manifest.supportedVersions.lowerBound)–\(Manifest.supportedVersions.upperBound)），请升级考点软件",
                en: "package format version \(header.formatVersion) is not supported (this venue reads \(Manifest.supportedVersions.lowerBound) to \(Manifest.supportedVersions.upperBound)); update the venue software")
        }

        try checkSignature(manifestData, signature: signatureData, keys: keys)

        let manifest: Manifest
        do {
            manifest = try PackageJSON.decoder().decode(Manifest.self, from: manifestData)
        } catch {
            throw .malformed(PartName.manifest, describe(error))
        }

        var parts: [String: Data] = [:]
        var listed = Set<String>()
        for part in manifest.parts {
            guard listed.insert(part.path).inserted else {
                throw PackageError("package_duplicate_part", zh: "清单中组成部分 \(part.path) 出现两次", en: "the manifest lists \(part.path) twice")
            }
            guard let entry = entries[part.path] else { throw .missingPart(part.path) }
            let data = try extract(archive, entry, path: part.path, limit: UInt64(max(part.bytes, 0)) + 1)
            let digest = sha256Hex(data)
            guard digest == part.sha256.lowercased(), data.count == part.bytes else {
                throw PackageError(
                    "package_digest_mismatch",
                    zh: "组成部分 \(part.path) 的 SHA-256 与清单不符（清单 \(part.sha256.prefix(12))…，文件 \(digest.prefix(12))…），数据包可能已损坏或被篡改",
                    en: "the SHA-256 of \(part.path) does not match the manifest (manifest \(part.sha256.prefix(12))…, file \(digest.prefix(12))…); the package is damaged or was altered")
            }
            parts[part.path] = data
        }
        for path in entries.keys.sorted() where !listed.contains(path) && path != PartName.manifest && path != PartName.signature {
            throw PackageError(
                "package_unlisted_part", zh: "文件 \(path) 不在签名清单中", en: "the file \(path) is not listed in the signed manifest")
        }

        let sealedEntries = manifest.sealed ?? []
        if manifest.formatVersion < Manifest.sealedVersion && !sealedEntries.isEmpty {
            throw .malformed(PartName.manifest, "sealed papers need format version \(Manifest.sealedVersion)")
        }
        for entry in sealedEntries where parts[entry.part] == nil {
            throw .missingPart(entry.part)
        }
        let contents = try decodeParts(parts, manifest: manifest)
        let papers = try ContentCheck.check(contents, sealed: sealedEntries)
        let sealed = sealedEntries.map {
            SealedPaper(
                sitting: $0.sitting, paper: $0.paper, part: $0.part, ciphertext: parts[$0.part] ?? Data(),
                plainQuestions: contents.questions)
        }
        return VerifiedPackage(
            manifest: manifest, manifestSHA256: sha256Hex(manifestData), contents: contents, papers: papers, sealed: sealed)
    }

    private static func listEntries(_ archive: Archive) throws(PackageError) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        var total: UInt64 = 0
        for entry in archive {
            if entry.type == .directory { continue }
            let path = entry.path
            guard entry.type == .file, isSafePath(path) else {
                throw PackageError("package_unsafe_path", zh: "数据包中有不安全的路径 \(path)", en: "the package holds an unsafe path \(path)")
            }
            guard entries[path] == nil else {
                throw PackageError("package_duplicate_part", zh: "数据包中文件 \(path) 出现两次", en: "the package holds \(path) twice")
            }
            entries[path] = entry
            total += entry.uncompressedSize
            guard entries.count <= maxEntries, total <= maxUnpackedBytes else {
                throw PackageError("package_too_large", zh: "数据包解压后过大", en: "the package unpacks to more than this venue accepts")
            }
        }
        guard !entries.isEmpty else { throw .unreadable("the archive is empty") }
        return entries
    }

    static func isSafePath(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 255, !path.hasPrefix("/"), !path.contains("\\") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component != "." && component != ".."
        }
    }

    private static func extract(_ archive: Archive, _ entry: Entry, path: String, limit: UInt64) throws(PackageError) -> Data {
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                data.append(chunk)
                if UInt64(data.count) > limit { throw PackageError.unreadable("\(path) is larger than declared") }
            }
        } catch let error as PackageError {
            throw error
        } catch {
            throw .unreadable("\(path) cannot be unpacked: \(error)")
        }
        return data
    }

    private static func checkSignature(_ manifest: Data, signature: Data, keys: [IssuerPublicKey]) throws(PackageError) {
        struct IssuerOnly: Decodable {
            struct Issuer: Decodable { var id: String }
            var issuer: Issuer
        }
        guard let issuer = try? JSONDecoder().decode(IssuerOnly.self, from: manifest).issuer.id else {
            throw .malformed(PartName.manifest, "no issuer")
        }
        let candidates = keys.filter { $0.issuer == issuer }
        guard !candidates.isEmpty else {
            throw PackageError(
                "package_unknown_issuer",
                zh: "签发方 \(issuer) 不在本考点信任的签发方列表中",
                en: "the issuer \(issuer) is not among the issuers this venue trusts")
        }
        let text = String(decoding: signature, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let valid = Data(base64Encoded: text).map { raw in
            candidates.contains { key in (try? key.signingKey().isValidSignature(raw, for: manifest)) ?? false }
        } ?? false
        guard valid else {
            throw PackageError(
                "package_bad_signature",
                zh: "清单签名无效：数据包不是由 \(issuer) 签发的，或签发后被修改",
                en: "the manifest signature is not valid: the package was not issued by \(issuer), or was changed after signing")
        }
    }

    private static func decodeParts(_ parts: [String: Data], manifest: Manifest) throws(PackageError) -> PackageContents {
        func decode<T: Decodable>(_ type: T.Type, _ path: String) throws(PackageError) -> T {
            guard let data = parts[path] else { throw .missingPart(path) }
            do {
                return try PackageJSON.decoder().decode(T.self, from: data)
            } catch {
                throw .malformed(path, describe(error))
            }
        }
        var papers: [Paper] = []
        for path in parts.keys.sorted() where path.hasPrefix("papers/") && path.hasSuffix(".json") {
            papers.append(try decode(Paper.self, path))
        }
        var skillPapers: [SkillPaper] = []
        for path in parts.keys.sorted() where path.hasPrefix("skill-papers/") && path.hasSuffix(".json") {
            guard manifest.formatVersion >= Manifest.skillVersion else {
                throw .malformed(PartName.manifest, "skill papers need format version \(Manifest.skillVersion)")
            }
            skillPapers.append(try decode(SkillPaper.self, path))
        }
        var photos: [String: Data] = [:]
        for (path, data) in parts where path.hasPrefix("photos/") { photos[path] = data }
        return PackageContents(
            packageID: manifest.packageID, issuedAt: manifest.issuedAt, issuer: manifest.issuer, venue: manifest.venue,
            sittings: manifest.sittings, rooms: try decode([Room].self, PartName.rooms),
            candidates: try decode([Candidate].self, PartName.candidates),
            seats: try decode([SeatAssignment].self, PartName.seats), staff: try decode([StaffMember].self, PartName.staff),
            questions: try decode([Question].self, PartName.questions), papers: papers, skillPapers: skillPapers, photos: photos)
    }

    /// A decoding error in words: which field, and what was wrong with it.
    public static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(path(context.codingPath))"
        default:
            return "\(error)"
        }
    }
}
