import Crypto
import ExamCore
import Foundation

/// The code (启封码) that opens a sealed paper: 25 characters of Crockford's base32 (125 random bits), shown as five
/// groups of five, e.g. `7KQ2M-XW4T9-…`. The key of one sitting's sealed part is derived from the code and the
/// sitting's id, so a code opens only the sitting it was made for.
public enum SealCode {
    /// Crockford's base32: digits and letters without I, L, O and U.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    public static let length = 25
    static let salt = Data("kaodian-seal-v1".utf8)

    /// A new random code, in groups of five joined by "-".
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] }
        return stride(from: 0, to: length, by: 5).map { String(characters[$0..<$0 + 5]) }.joined(separator: "-")
    }

    /// The code as typed, in canonical form: upper case, without spaces and hyphens, O read as 0 and I, L as 1.
    /// Nil unless exactly 25 characters of the alphabet remain.
    public static func normalise(_ typed: String) -> String? {
        var result: [Character] = []
        for character in typed.uppercased() {
            switch character {
            case " ", "-", "\t", "\u{3000}": continue
            case "O": result.append("0")
            case "I", "L": result.append("1")
            default:
                guard alphabet.contains(character) else { return nil }
                result.append(character)
            }
        }
        return result.count == length ? String(result) : nil
    }

    /// The AES-256 key of a sitting's sealed part: HKDF-SHA256 over the normalised code, salt `kaodian-seal-v1`,
    /// info the sitting id. Nil when the code does not normalise.
    public static func key(code: String, sitting: Sitting.ID) -> SymmetricKey? {
        guard let normalised = normalise(code) else { return nil }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(normalised.utf8)), salt: salt, info: Data(sitting.rawValue.utf8),
            outputByteCount: 32)
    }
}

/// What a sealed part holds once opened: the paper and the questions only it uses.
struct SealedContent: Codable {
    var paper: Paper
    var questions: [Question]
}

/// One sitting's sealed paper as the package carries it: the ciphertext (AES-GCM, combined: nonce, ciphertext, tag)
/// of `{"paper": Paper, "questions": [Question]}`.
public struct SealedPaper: Sendable, Hashable {
    public var sitting: Sitting.ID
    public var paper: Paper.ID
    /// The part's path in the package (`sealed/<sittingId>.bin`).
    public var part: String
    public var ciphertext: Data
    /// The package's plain questions, which a sealed paper may also use (questions shared with an unsealed paper
    /// travel in plain form, once).
    public var plainQuestions: [Question]

    public init(sitting: Sitting.ID, paper: Paper.ID, part: String, ciphertext: Data, plainQuestions: [Question] = []) {
        self.sitting = sitting
        self.paper = paper
        self.part = part
        self.ciphertext = ciphertext
        self.plainQuestions = plainQuestions
    }

    /// Decrypts the part with a code and checks what it holds: the paper (the one the manifest names), its sealed
    /// questions (each valid, no id twice, none clashing with a plain question of the package), and the assembled
    /// paper against the sealed questions plus the package's plain ones (a sealed paper may use questions it shares
    /// with an unsealed paper; those travel once, in plain form). Returns the paper and the sealed questions.
    public func open(code: String) throws(PackageError) -> (Paper, [Question]) {
        let plain = Dictionary(plainQuestions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return try open(code: code, plainQuestion: { plain[$0] }, refuseClashes: true)
    }

    /// As `open(code:)`, with the plain questions looked up one by one (the venue reads them from its database, which
    /// may hold questions of the same ids from earlier packages: the sealed ones are the newer, so they win there).
    public func open(code: String, plainQuestion: (Question.ID) -> Question?) throws(PackageError) -> (Paper, [Question]) {
        try open(code: code, plainQuestion: plainQuestion, refuseClashes: false)
    }

    private func open(
        code: String, plainQuestion: (Question.ID) -> Question?, refuseClashes: Bool
    ) throws(PackageError) -> (Paper, [Question]) {
        guard let key = SealCode.key(code: code, sitting: sitting) else { throw .sealCodeMalformed }
        let plain: Data
        do {
            plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: ciphertext), using: key)
        } catch {
            throw PackageError(
                "paper_seal_wrong_code",
                zh: "启封码不正确，无法启封场次 \(sitting) 的试卷；请核对中心发给主考的启封码（注意区分场次）",
                en: "the code does not open the paper of the sitting \(sitting); check the code the central office gave the chief invigilator (each sitting has its own)")
        }
        let content: SealedContent
        do {
            content = try PackageJSON.decoder().decode(SealedContent.self, from: plain)
        } catch {
            throw .malformed(part, PackageReader.describe(error))
        }
        var problems: [PackageProblem] = []
        if content.paper.id != paper {
            problems.append(PackageProblem(
                "paper_seal_invalid", zh: "密封部分 \(part) 中的试卷是 \(content.paper.id)，清单写的是 \(paper)",
                en: "the sealed part \(part) holds the paper \(content.paper.id); the manifest names \(paper)"))
        }
        var pool: [Question.ID: Question] = [:]
        var ids = Set<Question.ID>()
        for question in content.questions {
            for id in [question.id] + question.subQuestions.map(\.id) where !ids.insert(id).inserted || (refuseClashes && plainQuestion(id) != nil) {
                problems.append(PackageProblem("question_duplicate", zh: "试题编号 \(id) 出现两次", en: "the question id \(id) is used twice"))
            }
            for problem in question.problems() { problems.append(PackageProblem("question_invalid", problem)) }
            pool[question.id] = question
        }
        for item in content.paper.sections.flatMap(\.items) where pool[item.question] == nil {
            pool[item.question] = plainQuestion(item.question)
        }
        do throws(PaperError) {
            _ = try AssembledPaper(paper: content.paper, questions: pool)
        } catch {
            problems.append(PackageProblem(error.code, error.message))
        }
        if !problems.isEmpty { throw PackageError(problems) }
        return (content.paper, content.questions)
    }

    /// Seals a paper and its questions for one sitting with the key derived from `code`.
    static func seal(_ content: SealedContent, sitting: Sitting.ID, code: String) throws -> Data {
        guard let key = SealCode.key(code: code, sitting: sitting) else { throw PackageError.sealCodeMalformed }
        guard let combined = try AES.GCM.seal(try PackageJSON.encoder().encode(content), using: key).combined else {
            throw PackageError("paper_seal_failed", zh: "试卷加密失败", en: "the paper could not be sealed")
        }
        return combined
    }
}

extension PackageError {
    static var sealCodeMalformed: PackageError {
        PackageError(
            "paper_seal_code_malformed",
            zh: "启封码格式不正确：应为 25 位字母和数字（可分 5 组，用“-”隔开）",
            en: "the code is not in the right form: 25 letters and digits (may be written as 5 groups joined by \"-\")")
    }
}
