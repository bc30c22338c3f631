import Foundation

/// The question types a theory paper can hold.
public enum QuestionType: String, Codable, Sendable, CaseIterable {
    case singleChoice, multipleChoice, trueFalse, fillBlank, shortAnswer, essay
    case calculation, flowchart, caseAnalysis, thesis

    /// Objective types are graded by the venue on submission; the others wait for a marker.
    public var isGradedAutomatically: Bool {
        switch self {
        case .singleChoice, .multipleChoice, .trueFalse, .fillBlank, .calculation, .flowchart: true
        case .shortAnswer, .essay, .thesis, .caseAnalysis: false
        }
    }

    public var nameZH: String {
        switch self {
        case .singleChoice: "单选题"
        case .multipleChoice: "多选题"
        case .trueFalse: "判断题"
        case .fillBlank: "填空题"
        case .shortAnswer: "简答题"
        case .essay: "论述题"
        case .calculation: "计算题"
        case .flowchart: "流程图题"
        case .caseAnalysis: "案例分析题"
        case .thesis: "论文"
        }
    }
}

/// One option of a choice question. The id is stable; the letter shown to a candidate depends on the shuffle.
public struct ChoiceOption: Codable, Sendable, Hashable {
    public var id: String
    public var text: String
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// One step of a flowchart question, to be put in order.
public struct FlowStep: Codable, Sendable, Hashable {
    public var id: String
    public var text: String
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// One blank of a fill-in-the-blank question with the answers accepted for it.
public struct Blank: Codable, Sendable, Hashable {
    public var accepted: [String]
    public init(accepted: [String]) { self.accepted = accepted }
}

/// One point of a marking scheme for subjective answers.
public struct ScoringPoint: Codable, Sendable, Hashable {
    public var description: String
    public var points: Double
    public init(description: String, points: Double) {
        self.description = description
        self.points = points
    }
}

/// What a thesis question accepts as an attached file.
public struct AttachmentRule: Codable, Sendable, Hashable {
    /// File kinds by extension, from `AttachmentKind`.
    public var types: [String]
    public var maxBytes: Int
    public init(types: [String], maxBytes: Int) {
        self.types = types
        self.maxBytes = maxBytes
    }
}

/// The type-specific part of a question, answer key included.
public enum QuestionContent: Sendable, Hashable {
    case singleChoice(options: [ChoiceOption], correct: String)
    case multipleChoice(options: [ChoiceOption], correct: [String])
    case trueFalse(correct: Bool)
    case fillBlank(blanks: [Blank])
    case shortAnswer(reference: String?, scheme: [ScoringPoint])
    case essay(reference: String?, scheme: [ScoringPoint])
    case calculation(correct: Double, tolerance: Double, unit: String?)
    case flowchart(steps: [FlowStep], correct: [String], asksDescription: Bool)
    case caseAnalysis(material: String, subQuestions: [Question])
    case thesis(requirements: String?, attachment: AttachmentRule?)

    public var type: QuestionType {
        switch self {
        case .singleChoice: .singleChoice
        case .multipleChoice: .multipleChoice
        case .trueFalse: .trueFalse
        case .fillBlank: .fillBlank
        case .shortAnswer: .shortAnswer
        case .essay: .essay
        case .calculation: .calculation
        case .flowchart: .flowchart
        case .caseAnalysis: .caseAnalysis
        case .thesis: .thesis
        }
    }
}

/// A question of a bank, as it travels in a venue package.
public struct Question: Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Question>

    public var id: ID
    public var stem: String
    /// Points for the question; for case analysis, the sum of its sub-questions.
    public var points: Double
    public var explanation: String?
    public var knowledgePoints: [String]
    public var difficulty: Int?
    public var content: QuestionContent

    public var type: QuestionType { content.type }

    public init(
        id: ID, stem: String, points: Double, content: QuestionContent,
        explanation: String? = nil, knowledgePoints: [String] = [], difficulty: Int? = nil
    ) {
        self.id = id
        self.stem = stem
        self.content = content
        self.explanation = explanation
        self.knowledgePoints = knowledgePoints
        self.difficulty = difficulty
        if case .caseAnalysis(_, let subs) = content {
            self.points = subs.reduce(0) { $0 + $1.points }
        } else {
            self.points = points
        }
    }

    /// Sub-questions of a case analysis; empty for every other type.
    public var subQuestions: [Question] {
        if case .caseAnalysis(_, let subs) = content { return subs }
        return []
    }
}

extension Question: Codable {
    enum CodingKeys: String, CodingKey {
        case id, type, stem, points, explanation, knowledgePoints, difficulty
        case options, correct, blanks, reference, scheme, tolerance, unit, steps, asksDescription
        case material, subQuestions, requirements, attachment
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(ID.self, forKey: .id)
        stem = try c.decode(String.self, forKey: .stem)
        explanation = try c.decodeIfPresent(String.self, forKey: .explanation)
        knowledgePoints = try c.decodeIfPresent([String].self, forKey: .knowledgePoints) ?? []
        difficulty = try c.decodeIfPresent(Int.self, forKey: .difficulty)
        let type = try c.decode(QuestionType.self, forKey: .type)
        switch type {
        case .singleChoice:
            content = .singleChoice(
                options: try c.decode([ChoiceOption].self, forKey: .options),
                correct: try c.decode(String.self, forKey: .correct))
        case .multipleChoice:
            content = .multipleChoice(
                options: try c.decode([ChoiceOption].self, forKey: .options),
                correct: try c.decode([String].self, forKey: .correct))
        case .trueFalse:
            content = .trueFalse(correct: try c.decode(Bool.self, forKey: .correct))
        case .fillBlank:
            content = .fillBlank(blanks: try c.decode([Blank].self, forKey: .blanks))
        case .shortAnswer:
            content = .shortAnswer(
                reference: try c.decodeIfPresent(String.self, forKey: .reference),
                scheme: try c.decodeIfPresent([ScoringPoint].self, forKey: .scheme) ?? [])
        case .essay:
            content = .essay(
                reference: try c.decodeIfPresent(String.self, forKey: .reference),
                scheme: try c.decodeIfPresent([ScoringPoint].self, forKey: .scheme) ?? [])
        case .calculation:
            content = .calculation(
                correct: try c.decode(Double.self, forKey: .correct),
                tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 0,
                unit: try c.decodeIfPresent(String.self, forKey: .unit))
        case .flowchart:
            content = .flowchart(
                steps: try c.decode([FlowStep].self, forKey: .steps),
                correct: try c.decode([String].self, forKey: .correct),
                asksDescription: try c.decodeIfPresent(Bool.self, forKey: .asksDescription) ?? false)
        case .caseAnalysis:
            content = .caseAnalysis(
                material: try c.decode(String.self, forKey: .material),
                subQuestions: try c.decode([Question].self, forKey: .subQuestions))
        case .thesis:
            content = .thesis(
                requirements: try c.decodeIfPresent(String.self, forKey: .requirements),
                attachment: try c.decodeIfPresent(AttachmentRule.self, forKey: .attachment))
        }
        if case .caseAnalysis(_, let subs) = content {
            points = subs.reduce(0) { $0 + $1.points }
        } else {
            points = try c.decode(Double.self, forKey: .points)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(type, forKey: .type)
        try c.encode(stem, forKey: .stem)
        try c.encodeIfPresent(explanation, forKey: .explanation)
        if !knowledgePoints.isEmpty { try c.encode(knowledgePoints, forKey: .knowledgePoints) }
        try c.encodeIfPresent(difficulty, forKey: .difficulty)
        switch content {
        case .singleChoice(let options, let correct):
            try c.encode(options, forKey: .options)
            try c.encode(correct, forKey: .correct)
        case .multipleChoice(let options, let correct):
            try c.encode(options, forKey: .options)
            try c.encode(correct, forKey: .correct)
        case .trueFalse(let correct):
            try c.encode(correct, forKey: .correct)
        case .fillBlank(let blanks):
            try c.encode(blanks, forKey: .blanks)
        case .shortAnswer(let reference, let scheme), .essay(let reference, let scheme):
            try c.encodeIfPresent(reference, forKey: .reference)
            if !scheme.isEmpty { try c.encode(scheme, forKey: .scheme) }
        case .calculation(let correct, let tolerance, let unit):
            try c.encode(correct, forKey: .correct)
            try c.encode(tolerance, forKey: .tolerance)
            try c.encodeIfPresent(unit, forKey: .unit)
        case .flowchart(let steps, let correct, let asksDescription):
            try c.encode(steps, forKey: .steps)
            try c.encode(correct, forKey: .correct)
            if asksDescription { try c.encode(true, forKey: .asksDescription) }
        case .caseAnalysis(let material, let subs):
            try c.encode(material, forKey: .material)
            try c.encode(subs, forKey: .subQuestions)
        case .thesis(let requirements, let attachment):
            try c.encodeIfPresent(requirements, forKey: .requirements)
            try c.encodeIfPresent(attachment, forKey: .attachment)
        }
        if type != .caseAnalysis { try c.encode(points, forKey: .points) }
    }
}
