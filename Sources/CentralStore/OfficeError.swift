import ExamCore
import Foundation

/// Why the office's authoring calls (banks, papers, plans) refuse something: a stable code, a kind that decides the
/// HTTP status, a sentence in Chinese and English, and, for checks that find several things, every one of them.
public struct OfficeError: Error, Sendable, CodedError {
    public enum Kind: Sendable {
        /// The input is wrong (422).
        case invalid
        /// No such thing (404).
        case notFound
        /// The thing is in a state that does not allow it (409).
        case conflict
    }

    public var kind: Kind
    public var code: String
    public var message: Message
    public var problems: [Message]

    public init(_ kind: Kind, _ code: String, zh: String, en: String, problems: [Message] = []) {
        self.kind = kind
        self.code = code
        self.message = Message(zh: zh, en: en)
        self.problems = problems
    }

    static func notFound(_ what: (zh: String, en: String), _ id: String) -> OfficeError {
        OfficeError(.notFound, "not_found", zh: "\(what.zh) \(id) 不存在", en: "there is no \(what.en) \(id)")
    }

    static func invalid(_ code: String, _ problems: [Message], zh: String, en: String) -> OfficeError {
        OfficeError(.invalid, code, zh: zh, en: en, problems: problems)
    }
}

/// JSON as central stores bodies in its tables: sorted keys, ISO-8601 dates.
enum StoredJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func text(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
    static func value<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try decoder.decode(type, from: Data(text.utf8)) }
}

/// Fresh ids for things the office creates without naming them: a prefix and 10 letters and digits.
enum FreshID {
    static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        return prefix + "-" + String((0..<10).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
