import Foundation

/// A reference from a thesis answer to a file the candidate uploaded.
public struct AttachmentReference: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var bytes: Int
    public var sha256: String
    public init(id: String, name: String, bytes: Int, sha256: String) {
        self.id = id
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// What a candidate answered to one question. Its JSON shape depends on the question type:
/// `{"choice":"B"}`, `{"choices":["A","C"]}`, `{"value":true}`, `{"blanks":["…"]}`, `{"text":"…"}`,
/// `{"value":"12.5","working":"…"}`, `{"order":["s2","s1"],"description":"…"}`, `{"text":"…","attachment":{…}}`.
public enum Response: Sendable, Hashable {
    case choice(String)
    case choices([String])
    case truth(Bool)
    case blanks([String])
    case text(String)
    case calculation(value: String, working: String)
    case order(steps: [String], description: String)
    case thesis(text: String, attachment: AttachmentReference?)

    /// Longest text a candidate may send for one question.
    public static let maxTextCharacters = 100_000

    /// Reads and checks a candidate's answer against the question it answers.
    public static func decode(_ json: Data, for question: Question) throws(ResponseError) -> Response {
        let decoder = JSONDecoder()
        func read<T: Decodable>(_ type: T.Type) throws(ResponseError) -> T {
            do { return try decoder.decode(T.self, from: json) } catch {
                throw ResponseError.wrongShape(question.id, question.type)
            }
        }
        let response: Response
        switch question.content {
        case .singleChoice(let options, _):
            let value = try read(ChoiceBody.self)
            guard options.contains(where: { $0.id == value.choice }) else {
                throw .unknownOption(question.id, value.choice)
            }
            response = .choice(value.choice)
        case .multipleChoice(let options, _):
            let value = try read(ChoicesBody.self)
            guard Set(value.choices).count == value.choices.count else { throw .wrongShape(question.id, question.type) }
            for choice in value.choices where !options.contains(where: { $0.id == choice }) {
                throw .unknownOption(question.id, choice)
            }
            response = .choices(value.choices)
        case .trueFalse:
            response = .truth(try read(TruthBody.self).value)
        case .fillBlank(let blanks):
            let value = try read(BlanksBody.self)
            guard value.blanks.count == blanks.count else { throw .wrongBlankCount(question.id, expected: blanks.count) }
            response = .blanks(value.blanks)
        case .shortAnswer, .essay:
            response = .text(try read(TextBody.self).text)
        case .calculation:
            let value = try read(CalculationBody.self)
            response = .calculation(value: value.value, working: value.working ?? "")
        case .flowchart(let steps, _, _):
            let value = try read(OrderBody.self)
            guard Set(value.order).count == value.order.count else { throw .wrongShape(question.id, question.type) }
            for step in value.order where !steps.contains(where: { $0.id == step }) {
                throw .unknownOption(question.id, step)
            }
            response = .order(steps: value.order, description: value.description ?? "")
        case .thesis(_, let rule):
            let value = try read(ThesisBody.self)
            if value.attachment != nil && rule == nil { throw .attachmentNotAllowed(question.id) }
            response = .thesis(text: value.text ?? "", attachment: value.attachment)
        case .caseAnalysis:
            throw .notAnswerable(question.id)
        }
        if response.characterCount > maxTextCharacters { throw .tooLong(question.id, limit: maxTextCharacters) }
        return response
    }

    /// The canonical JSON of this answer: sorted keys, no escaped slashes. These bytes are stored and logged.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, booleans and arrays of them cannot fail.
        switch self {
        case .choice(let value): return try! encoder.encode(ChoiceBody(choice: value))
        case .choices(let value): return try! encoder.encode(ChoicesBody(choices: value))
        case .truth(let value): return try! encoder.encode(TruthBody(value: value))
        case .blanks(let value): return try! encoder.encode(BlanksBody(blanks: value))
        case .text(let value): return try! encoder.encode(TextBody(text: value))
        case .calculation(let value, let working): return try! encoder.encode(CalculationBody(value: value, working: working))
        case .order(let steps, let description): return try! encoder.encode(OrderBody(order: steps, description: description))
        case .thesis(let text, let attachment): return try! encoder.encode(ThesisBody(text: text, attachment: attachment))
        }
    }

    /// True when the candidate has put something into the answer (a cleared text counts as unanswered).
    public var isAnswered: Bool {
        switch self {
        case .choice(let value): !value.isEmpty
        case .choices(let values): !values.isEmpty
        case .truth: true
        case .blanks(let values): values.contains { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        case .text(let text): !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case .calculation(let value, let working):
            !value.trimmingCharacters(in: .whitespaces).isEmpty || !working.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case .order(let steps, _): !steps.isEmpty
        case .thesis(let text, let attachment): attachment != nil || !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }

    var characterCount: Int {
        switch self {
        case .choice, .choices, .truth, .order: 0
        case .blanks(let values): values.reduce(0) { $0 + $1.count }
        case .text(let text): text.count
        case .calculation(let value, let working): value.count + working.count
        case .thesis(let text, let attachment): text.count + (attachment?.name.count ?? 0)
        }
    }

    private struct ChoiceBody: Codable { var choice: String }
    private struct ChoicesBody: Codable { var choices: [String] }
    private struct TruthBody: Codable { var value: Bool }
    private struct BlanksBody: Codable { var blanks: [String] }
    private struct TextBody: Codable { var text: String }
    private struct CalculationBody: Codable {
        var value: String
        var working: String?
    }
    private struct OrderBody: Codable {
        var order: [String]
        var description: String?
    }
    private struct ThesisBody: Codable {
        var text: String?
        var attachment: AttachmentReference?
    }
}

/// Why an answer was refused.
public enum ResponseError: CodedError, Equatable {
    case wrongShape(Question.ID, QuestionType)
    case unknownOption(Question.ID, String)
    case wrongBlankCount(Question.ID, expected: Int)
    case tooLong(Question.ID, limit: Int)
    case attachmentNotAllowed(Question.ID)
    case notAnswerable(Question.ID)

    public var code: String {
        switch self {
        case .wrongShape: "answer_wrong_shape"
        case .unknownOption: "answer_unknown_option"
        case .wrongBlankCount: "answer_wrong_blank_count"
        case .tooLong: "answer_too_long"
        case .attachmentNotAllowed: "answer_attachment_not_allowed"
        case .notAnswerable: "answer_not_answerable"
        }
    }

    public var message: Message {
        switch self {
        case .wrongShape(let id, let type):
            Message(zh: "试题 \(id) 的答案格式不符合\(type.nameZH)的要求", en: "the answer to question \(id) does not have the shape a \(type.rawValue) answer needs")
        case .unknownOption(let id, let option):
            Message(zh: "试题 \(id) 没有选项或步骤 \(option)", en: "question \(id) has no option or step \(option)")
        case .wrongBlankCount(let id, let expected):
            Message(zh: "试题 \(id) 有 \(expected) 个空", en: "question \(id) has \(expected) blanks")
        case .tooLong(let id, let limit):
            Message(zh: "试题 \(id) 的答案超过 \(limit) 个字符", en: "the answer to question \(id) is longer than \(limit) characters")
        case .attachmentNotAllowed(let id):
            Message(zh: "试题 \(id) 不接受附件", en: "question \(id) does not take an attachment")
        case .notAnswerable(let id):
            Message(zh: "试题 \(id) 是案例材料，请回答其小题", en: "question \(id) is case material; answer its sub-questions")
        }
    }
}
