import ExamCore
import Foundation

/// A question bank (题库) for one occupation (职业/工种) and level (等级): theory questions or skill-operation tasks.
public struct Bank: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Bank>
    public var id: ID
    public var name: String
    public var occupation: String
    /// The national occupation code, e.g. 4-01-02-01; optional.
    public var occupationCode: String?
    /// The level as the standard names it: 五级/初级工 … 一级/高级技师.
    public var level: String
    public var subject: Subject

    public init(id: ID, name: String, occupation: String, occupationCode: String? = nil, level: String, subject: Subject) {
        self.id = id
        self.name = name
        self.occupation = occupation
        self.occupationCode = occupationCode
        self.level = level
        self.subject = subject
    }
}

/// A knowledge point (知识点) of the occupational standard. Codes are the tree: a point's parent is named by `parent`.
public struct KnowledgePoint: Codable, Sendable, Hashable {
    /// The standard's own code, e.g. "2.1.3"; unique within a bank.
    public var code: String
    public var name: String
    public var parent: String?
    /// The share of the paper's points the standard's weight table (比重表) gives this point, in percent; optional.
    public var weight: Double?

    public init(code: String, name: String, parent: String? = nil, weight: Double? = nil) {
        self.code = code
        self.name = name
        self.parent = parent
        self.weight = weight
    }
}

/// The knowledge points of a bank as a tree, for "is this question under that point" and coverage questions.
public struct KnowledgeTree: Sendable {
    public let points: [String: KnowledgePoint]
    public let children: [String: [String]]
    public let roots: [String]

    public init(_ list: [KnowledgePoint]) {
        var points: [String: KnowledgePoint] = [:]
        for point in list { points[point.code] = point }
        var children: [String: [String]] = [:]
        var roots: [String] = []
        for point in list {
            if let parent = point.parent, points[parent] != nil {
                children[parent, default: []].append(point.code)
            } else {
                roots.append(point.code)
            }
        }
        self.points = points
        self.children = children
        self.roots = roots
    }

    /// The point and all its ancestors, nearest first; unknown codes give just themselves.
    public func lineage(of code: String) -> [String] {
        var result = [code]
        var seen: Set<String> = [code]
        var current = points[code]?.parent
        while let parent = current, points[parent] != nil, seen.insert(parent).inserted {
            result.append(parent)
            current = points[parent]?.parent
        }
        return result
    }

    /// Whether `code` is `ancestor` or lies below it.
    public func isUnder(_ code: String, _ ancestor: String) -> Bool { lineage(of: code).contains(ancestor) }

    /// Problems of the tree itself: unknown parents, cycles, duplicate codes.
    public static func problems(_ list: [KnowledgePoint]) -> [Message] {
        var found: [Message] = []
        var codes = Set<String>()
        for point in list {
            let code = point.code.trimmingCharacters(in: .whitespaces)
            if code.isEmpty || code.count > 64 {
                found.append(Message(zh: "知识点编码不能为空且不超过 64 个字符", en: "a knowledge point code must be 1 to 64 characters"))
            }
            if !codes.insert(point.code).inserted {
                found.append(Message(zh: "知识点编码 \(point.code) 重复", en: "knowledge point code \(point.code) appears twice"))
            }
            if point.name.trimmingCharacters(in: .whitespaces).isEmpty {
                found.append(Message(zh: "知识点 \(point.code) 没有名称", en: "knowledge point \(point.code) has no name"))
            }
            if let weight = point.weight, !(weight.isFinite && weight >= 0 && weight <= 100) {
                found.append(Message(zh: "知识点 \(point.code) 的比重须在 0–100 之间", en: "the weight of knowledge point \(point.code) must be 0 to 100"))
            }
        }
        let tree = KnowledgeTree(list)
        for point in list {
            if let parent = point.parent, tree.points[parent] == nil {
                found.append(Message(zh: "知识点 \(point.code) 的上级 \(parent) 不存在", en: "the parent \(parent) of knowledge point \(point.code) does not exist"))
            }
            var seen: Set<String> = [point.code]
            var current = point.parent
            while let parent = current, let next = tree.points[parent] {
                if !seen.insert(parent).inserted {
                    found.append(Message(zh: "知识点 \(point.code) 的上级关系成环", en: "the parents of knowledge point \(point.code) form a loop"))
                    break
                }
                current = next.parent
            }
        }
        return found
    }
}

/// Whether a question may still be put into new papers. A question used in an issued paper is retired, never deleted.
public enum QuestionStatus: String, Codable, Sendable {
    case active, retired
}

/// A question as the bank keeps it: the question itself (ExamCore's, as it travels in a venue package) and its bookkeeping.
public struct BankQuestion: Codable, Sendable, Hashable, Identifiable {
    public var question: Question
    public var status: QuestionStatus
    /// How many issued papers have used it (使用次数).
    public var usageCount: Int

    public var id: Question.ID { question.id }

    public init(question: Question, status: QuestionStatus = .active, usageCount: Int = 0) {
        self.question = question
        self.status = status
        self.usageCount = usageCount
    }
}

/// Per-type default points (题型管理): what a new question of the type is worth unless the editor says otherwise.
public struct TypeDefaults: Codable, Sendable, Hashable {
    public var points: [QuestionType: Double]

    public static let standard = TypeDefaults(points: [
        .singleChoice: 1, .multipleChoice: 2, .trueFalse: 1, .fillBlank: 2, .shortAnswer: 5, .essay: 10,
        .calculation: 5, .flowchart: 5, .caseAnalysis: 20, .thesis: 30,
    ])

    public init(points: [QuestionType: Double]) { self.points = points }

    public func points(for type: QuestionType) -> Double { points[type] ?? Self.standard.points[type] ?? 1 }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: Double].self)
        var points: [QuestionType: Double] = [:]
        for (key, value) in raw {
            guard let type = QuestionType(rawValue: key) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown question type \(key)"))
            }
            points[type] = value
        }
        self.points = points
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: points.map { ($0.key.rawValue, $0.value) }))
    }
}

