import Foundation

/// How partially right answers score on a paper.
public struct GradingRules: Codable, Sendable, Hashable {
    public enum MultipleChoice: String, Codable, Sendable {
        /// Full points only for exactly the right set of options.
        case allOrNothing
        /// Any wrong option scores nothing; otherwise points × (right options chosen ÷ right options).
        case partialCredit
    }
    public enum Flowchart: String, Codable, Sendable {
        /// Full points only for exactly the right order.
        case allOrNothing
        /// Points × (steps in their right place ÷ steps).
        case positions
    }

    public var multipleChoice: MultipleChoice
    public var flowchart: Flowchart

    public init(multipleChoice: MultipleChoice = .allOrNothing, flowchart: Flowchart = .allOrNothing) {
        self.multipleChoice = multipleChoice
        self.flowchart = flowchart
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        multipleChoice = try c.decodeIfPresent(MultipleChoice.self, forKey: .multipleChoice) ?? .allOrNothing
        flowchart = try c.decodeIfPresent(Flowchart.self, forKey: .flowchart) ?? .allOrNothing
    }
}

/// One question slot of a paper section; `points` overrides the bank's points for this paper.
public struct PaperItem: Codable, Sendable, Hashable {
    public var question: Question.ID
    public var points: Double?
    public init(question: Question.ID, points: Double? = nil) {
        self.question = question
        self.points = points
    }
}

/// A section of a paper (一、单项选择题 …).
public struct PaperSection: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<PaperSection>
    public var id: ID
    public var title: String
    public var note: String?
    public var items: [PaperItem]
    public init(id: ID, title: String, note: String? = nil, items: [PaperItem]) {
        self.id = id
        self.title = title
        self.note = note
        self.items = items
    }
}

/// A theory paper as issued by the central office: sections of questions drawn from the package's questions.
public struct Paper: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Paper>
    public var id: ID
    public var title: String
    public var sections: [PaperSection]
    public var grading: GradingRules
    /// Shuffle question order within each section, per candidate.
    public var shuffleQuestions: Bool
    /// Shuffle choice options, per candidate.
    public var shuffleOptions: Bool

    public init(
        id: ID, title: String, sections: [PaperSection], grading: GradingRules = .init(),
        shuffleQuestions: Bool = true, shuffleOptions: Bool = true
    ) {
        self.id = id
        self.title = title
        self.sections = sections
        self.grading = grading
        self.shuffleQuestions = shuffleQuestions
        self.shuffleOptions = shuffleOptions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(ID.self, forKey: .id)
        title = try c.decode(String.self, forKey: .title)
        sections = try c.decode([PaperSection].self, forKey: .sections)
        grading = try c.decodeIfPresent(GradingRules.self, forKey: .grading) ?? .init()
        shuffleQuestions = try c.decodeIfPresent(Bool.self, forKey: .shuffleQuestions) ?? true
        shuffleOptions = try c.decodeIfPresent(Bool.self, forKey: .shuffleOptions) ?? true
    }
}

/// A question that takes an answer, where it sits in the paper, and what it is worth there.
public struct AnswerableQuestion: Sendable, Hashable {
    public var question: Question
    public var sectionID: PaperSection.ID
    /// The case analysis this sub-question belongs to.
    public var caseID: Question.ID?
}

/// A paper with its questions resolved and checked; the form grading and layout work on.
public struct AssembledPaper: Sendable {
    public struct Section: Sendable, Hashable {
        public var section: PaperSection
        /// Questions with the points they carry in this paper.
        public var questions: [Question]
        public var maxPoints: Double { questions.reduce(0) { $0 + $1.points } }
    }

    public let paper: Paper
    public let sections: [Section]
    public let answerable: [Question.ID: AnswerableQuestion]
    /// Answerable question ids in paper order (before any shuffle).
    public let answerableOrder: [Question.ID]

    public var maxPoints: Double { sections.reduce(0) { $0 + $1.maxPoints } }

    /// Resolves the paper's items against a pool of questions, refusing anything that could not be delivered.
    public init(paper: Paper, questions: [Question.ID: Question]) throws(PaperError) {
        guard isWellFormedIdentifier(paper.id.rawValue) else { throw .malformedID(paper.id) }
        guard !paper.sections.isEmpty else { throw .noSections(paper.id) }
        var seen = Set<Question.ID>()
        var sections: [Section] = []
        var answerable: [Question.ID: AnswerableQuestion] = [:]
        var order: [Question.ID] = []
        var sectionIDs = Set<PaperSection.ID>()
        for section in paper.sections {
            guard sectionIDs.insert(section.id).inserted else { throw .duplicateSection(paper.id, section.id) }
            guard !section.items.isEmpty else { throw .emptySection(paper.id, section.id) }
            var resolved: [Question] = []
            for item in section.items {
                guard var question = questions[item.question] else { throw .missingQuestion(paper.id, item.question) }
                let ids = [question.id] + question.subQuestions.map(\.id)
                for id in ids where !seen.insert(id).inserted { throw .duplicateQuestion(paper.id, id) }
                if let points = item.points {
                    guard question.type != .caseAnalysis else { throw .pointsOnCaseAnalysis(paper.id, question.id) }
                    guard points.isFinite, points > 0, points <= 1000 else { throw .invalidPoints(paper.id, question.id) }
                    question.points = points
                }
                if question.type == .caseAnalysis {
                    for sub in question.subQuestions {
                        answerable[sub.id] = AnswerableQuestion(question: sub, sectionID: section.id, caseID: question.id)
                        order.append(sub.id)
                    }
                } else {
                    answerable[question.id] = AnswerableQuestion(question: question, sectionID: section.id, caseID: nil)
                    order.append(question.id)
                }
                resolved.append(question)
            }
            sections.append(Section(section: section, questions: resolved))
        }
        self.paper = paper
        self.sections = sections
        self.answerable = answerable
        self.answerableOrder = order
    }
}

/// Why a paper cannot be used.
public enum PaperError: CodedError, Equatable {
    case malformedID(Paper.ID)
    case noSections(Paper.ID)
    case emptySection(Paper.ID, PaperSection.ID)
    case duplicateSection(Paper.ID, PaperSection.ID)
    case missingQuestion(Paper.ID, Question.ID)
    case duplicateQuestion(Paper.ID, Question.ID)
    case pointsOnCaseAnalysis(Paper.ID, Question.ID)
    case invalidPoints(Paper.ID, Question.ID)

    public var code: String {
        switch self {
        case .missingQuestion: "paper_missing_question"
        case .duplicateQuestion: "paper_duplicate_question"
        default: "paper_invalid"
        }
    }

    public var message: Message {
        switch self {
        case .malformedID(let paper):
            Message(zh: "试卷编号 \(paper) 格式不正确", en: "paper id \(paper) is not well formed")
        case .noSections(let paper):
            Message(zh: "试卷 \(paper) 没有任何大题", en: "paper \(paper) has no sections")
        case .emptySection(let paper, let section):
            Message(zh: "试卷 \(paper) 的大题 \(section) 没有试题", en: "section \(section) of paper \(paper) holds no questions")
        case .duplicateSection(let paper, let section):
            Message(zh: "试卷 \(paper) 的大题编号 \(section) 重复", en: "paper \(paper) has two sections with id \(section)")
        case .missingQuestion(let paper, let question):
            Message(zh: "试卷 \(paper) 引用了不存在的试题 \(question)", en: "paper \(paper) references question \(question), which is not in the package")
        case .duplicateQuestion(let paper, let question):
            Message(zh: "试题 \(question) 在试卷 \(paper) 中出现了两次", en: "question \(question) appears twice in paper \(paper)")
        case .pointsOnCaseAnalysis(let paper, let question):
            Message(zh: "试卷 \(paper) 不能改动案例分析题 \(question) 的总分（分值在小题上）", en: "paper \(paper) cannot set points on case analysis \(question); its points are on the sub-questions")
        case .invalidPoints(let paper, let question):
            Message(zh: "试卷 \(paper) 给试题 \(question) 的分值无效", en: "paper \(paper) gives question \(question) invalid points")
        }
    }
}
