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

    /// Reads and checks a candidate's answer (JSON) against the question it answers.
    public static func decode(_ json: Data, for question: Question) throws(ResponseError) -> Response {
        let body: AnswerPayload
        do {
            body = try JSONDecoder().decode(AnswerPayload.self, from: json)
        } catch {
            throw .wrongShape(question.id, question.type)
        }
        return try Response(body, for: question)
    }

    /// Checks an answer as it arrived against the question it answers.
    public init(_ body: AnswerPayload, for question: Question) throws(ResponseError) {
        let wrongShape = ResponseError.wrongShape(question.id, question.type)
        let response: Response
        switch question.content {
        case .singleChoice(let options, _):
            guard let choice = body.choice else { throw wrongShape }
            guard options.contains(where: { $0.id == choice }) else { throw .unknownOption(question.id, choice) }
            response = .choice(choice)
        case .multipleChoice(let options, _):
            guard let choices = body.choices, Set(choices).count == choices.count else { throw wrongShape }
            for choice in choices where !options.contains(where: { $0.id == choice }) {
                throw .unknownOption(question.id, choice)
            }
            response = .choices(choices)
        case .trueFalse:
            guard case .bool(let value)? = body.value else { throw wrongShape }
            response = .truth(value)
        case .fillBlank(let blanks):
            guard let given = body.blanks else { throw wrongShape }
            guard given.count == blanks.count else { throw .wrongBlankCount(question.id, expected: blanks.count) }
            response = .blanks(given)
        case .shortAnswer, .essay:
            guard let text = body.text else { throw wrongShape }
            response = .text(text)
        case .calculation:
            guard case .string(let value)? = body.value else { throw wrongShape }
            response = .calculation(value: value, working: body.working ?? "")
        case .flowchart(let steps, _, _):
            guard let order = body.order, Set(order).count == order.count else { throw wrongShape }
            for step in order where !steps.contains(where: { $0.id == step }) {
                throw .unknownOption(question.id, step)
            }
            response = .order(steps: order, description: body.description ?? "")
        case .thesis(_, let rule):
            guard body.text != nil || body.attachment != nil else { throw wrongShape }
            if body.attachment != nil && rule == nil { throw .attachmentNotAllowed(question.id) }
            response = .thesis(text: body.text ?? "", attachment: body.attachment)
        case .caseAnalysis:
            throw .notAnswerable(question.id)
        }
        if response.characterCount > Self.maxTextCharacters { throw .tooLong(question.id, limit: Self.maxTextCharacters) }
        self = response
    }

    /// The canonical JSON of this answer: keys sorted, no spaces, slashes and non-ASCII text unescaped (the form
    /// `JSONEncoder` with `.sortedKeys, .withoutEscapingSlashes` writes). These bytes are stored and logged.
    public func canonicalJSON() -> Data {
        var json = CanonicalJSONWriter()
        switch self {
        case .choice(let value):
            json.object { $0.field("choice") { $0.string(value) } }
        case .choices(let values):
            json.object { $0.field("choices") { $0.strings(values) } }
        case .truth(let value):
            json.object { $0.field("value") { $0.bool(value) } }
        case .blanks(let values):
            json.object { $0.field("blanks") { $0.strings(values) } }
        case .text(let value):
            json.object { $0.field("text") { $0.string(value) } }
        case .calculation(let value, let working):
            json.object {
                $0.field("value") { $0.string(value) }
                $0.field("working") { $0.string(working) }
            }
        case .order(let steps, let description):
            json.object {
                $0.field("description") { $0.string(description) }
                $0.field("order") { $0.strings(steps) }
            }
        case .thesis(let text, let attachment):
            json.object {
                if let attachment {
                    $0.field("attachment") {
                        $0.object {
                            $0.field("bytes") { $0.integer(attachment.bytes) }
                            $0.field("id") { $0.string(attachment.id) }
                            $0.field("name") { $0.string(attachment.name) }
                            $0.field("sha256") { $0.string(attachment.sha256) }
                        }
                    }
                }
                $0.field("text") { $0.string(text) }
            }
        }
        return Data(json.bytes)
    }

    /// The answer in its wire form.
    public var body: AnswerPayload {
        switch self {
        case .choice(let value): AnswerPayload(choice: value)
        case .choices(let values): AnswerPayload(choices: values)
        case .truth(let value): AnswerPayload(value: .bool(value))
        case .blanks(let values): AnswerPayload(blanks: values)
        case .text(let value): AnswerPayload(text: value)
        case .calculation(let value, let working): AnswerPayload(value: .string(value), working: working)
        case .order(let steps, let description): AnswerPayload(order: steps, description: description)
        case .thesis(let text, let attachment): AnswerPayload(text: text, attachment: attachment)
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

}

/// An answer as it travels: every field any question type uses, each optional. Decoding it never needs to guess
/// among shapes; `Response.init(_:for:)` then checks that the fields the question needs are there.
public struct AnswerPayload: Codable, Sendable, Hashable {
    /// `value` is a boolean for true/false questions and a string for calculations.
    public enum Scalar: Codable, Sendable, Hashable {
        case bool(Bool)
        case string(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .bool(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            }
        }
    }

    public var choice: String?
    public var choices: [String]?
    public var value: Scalar?
    public var blanks: [String]?
    public var text: String?
    public var working: String?
    public var order: [String]?
    public var description: String?
    public var attachment: AttachmentReference?

    public init(
        choice: String? = nil, choices: [String]? = nil, value: Scalar? = nil, blanks: [String]? = nil, text: String? = nil,
        working: String? = nil, order: [String]? = nil, description: String? = nil, attachment: AttachmentReference? = nil
    ) {
        self.choice = choice
        self.choices = choices
        self.value = value
        self.blanks = blanks
        self.text = text
        self.working = working
        self.order = order
        self.description = description
        self.attachment = attachment
    }
}

/// Writes JSON byte for byte as Foundation's `JSONEncoder` does with `.sortedKeys` and `.withoutEscapingSlashes`
/// (callers write keys in sorted order), without its cost on the autosave path.
struct CanonicalJSONWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    mutating func object(_ fields: (inout CanonicalJSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        let outer = needsComma
        needsComma = false
        fields(&self)
        needsComma = outer
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func field(_ key: String, _ value: (inout CanonicalJSONWriter) -> Void) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        value(&self)
        needsComma = true
    }

    mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func bool(_ value: Bool) { bytes.append(contentsOf: Array((value ? "true" : "false").utf8)) }

    mutating func integer(_ value: Int) { bytes.append(contentsOf: Array(String(value).utf8)) }

    mutating func string(_ value: String) {
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
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
