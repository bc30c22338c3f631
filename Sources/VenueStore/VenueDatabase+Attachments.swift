import ExamCore
import Foundation
import GRDB
import VenuePackage

#if canImport(Glibc)
import Glibc
#endif

extension VenueDatabase {
    /// Stores a thesis attachment: checked for size and kind (by content), written and synced to disk under its
    /// SHA-256, then recorded. The answer that refers to it is saved like any other answer.
    public func storeAttachment(
        _ session: CandidateSession, questionID: String, fileName: String, data: Data, now: Date = Date()
    ) async throws -> AttachmentReference {
        let paper = try await assembledPaper(for: session.sittingID)
        guard let question = paper.answerable[Question.ID(questionID)]?.question else {
            throw StoreError.unknownQuestion(String(questionID.prefix(80)))
        }
        guard case .thesis(_, let rule?) = question.content else {
            throw StoreError.response(.attachmentNotAllowed(question.id))
        }
        let name = Self.cleanFileName(fileName)
        guard !data.isEmpty, data.count <= rule.maxBytes else { throw StoreError.attachmentTooLarge(limit: rule.maxBytes) }
        guard let kind = AttachmentKind.recognise(fileName: name, content: data), rule.types.contains(kind.rawValue) else {
            throw StoreError.attachmentTypeNotAllowed(allowed: rule.types)
        }
        let digest = sha256Hex(data)
        try writeDurably(data, to: attachmentsFolder.appendingPathComponent(digest))
        let id = UUID().uuidString.lowercased()
        try await groupCommit.write { db in
            let (attempt, sitting) = try Self.lockedAttempt(db, session: session)
            let phase = try db.clock(for: attempt, in: sitting).phase(attemptExtension: TimeInterval(attempt.extensionSeconds), now: now)
            do throws(AttemptRuleError) {
                try AttemptRuleError.checkAcceptsChange(status: AttemptStatus(rawValue: attempt.status) ?? .waiting, phase: phase)
            } catch {
                throw StoreError.rule(error)
            }
            try AttachmentRecord(
                id: id, attemptId: attempt.id, questionId: questionID, name: name, kind: kind.rawValue,
                bytes: Int64(data.count), sha256: digest, storedAt: now.millis
            ).insert(db)
        }
        return AttachmentReference(id: id, name: name, bytes: data.count, sha256: digest)
    }

    /// An attachment's record and file, for the candidate who uploaded it and for reviewers.
    public func attachment(id: String) async throws -> (name: String, kind: AttachmentKind, attemptID: String, file: URL) {
        let record = try await pool.read { db in try AttachmentRecord.fetchOne(db, key: id) }
        guard let record, let kind = AttachmentKind(rawValue: record.kind) else { throw StoreError.attachmentUnknown(id) }
        return (record.name, kind, record.attemptId, attachmentsFolder.appendingPathComponent(record.sha256))
    }

    /// Keeps the last path component, without control characters, at most 120 characters.
    static func cleanFileName(_ name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? "attachment"
        let cleaned = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\\" }.map(Character.init))
        return cleaned.isEmpty ? "attachment" : String(cleaned.suffix(120))
    }

    /// Writes `NAME.part`, syncs it, renames it into place and syncs the folder. An existing file with the
    /// same content-addressed name is left as it is.
    func writeDurably(_ data: Data, to url: URL) throws {
        if FileManager.default.fileExists(atPath: url.path) { return }
        let temporary = url.appendingPathExtension("part")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw StoreError.invalidRequest("the attachment could not be written to disk")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(at: temporary, to: url)
        let folder = Glibc.open(url.deletingLastPathComponent().path, O_RDONLY)
        if folder >= 0 {
            _ = fsync(folder)
            _ = Glibc.close(folder)
        }
    }
}
