import ExamCore
import Foundation

/// A paper the assembler proposes (or an editor changed by hand): sections of question ids, and how it fares against
/// every constraint of its rule.
public struct PaperDraft: Codable, Sendable, Hashable {
    /// One section of the draft. For case analysis `pointsEach` is not applied: a case's points are its sub-questions'.
    public struct Section: Codable, Sendable, Hashable {
        public var title: String
        public var type: QuestionType
        public var pointsEach: Double
        public var questions: [Question.ID]
        /// Points an editor gave single questions by hand, by question id; the others have `pointsEach`.
        public var questionPoints: [String: Double]?

        public init(
            title: String, type: QuestionType, pointsEach: Double, questions: [Question.ID], questionPoints: [String: Double]? = nil
        ) {
            self.title = title
            self.type = type
            self.pointsEach = pointsEach
            self.questions = questions
            self.questionPoints = questionPoints
        }

        /// The points a question of this section counts for (not used for case analysis).
        public func points(of question: Question.ID) -> Double { questionPoints?[question.rawValue] ?? pointsEach }
    }

    public var sections: [Section]
    /// Every constraint with its target and what this paper achieves.
    public var report: [ConstraintReport]
    /// The seed the paper was drawn with: the rule's, or the one drawn when the rule had none. The same rule with this
    /// seed and the same bank gives the same paper again.
    public var seed: UInt64

    public init(sections: [Section], report: [ConstraintReport], seed: UInt64) {
        self.sections = sections
        self.report = report
        self.seed = seed
    }

    /// Whether every constraint of the report is met.
    public var meetsAllConstraints: Bool { report.allSatisfy(\.met) }

    /// The paper as ExamCore carries it: each item with its points in the section as its override, none for case analysis.
    /// Sections are numbered s1, s2 …
    public func paper(id: Paper.ID, title: String) -> Paper {
        let sections = sections.enumerated().map { index, section in
            PaperSection(
                id: PaperSection.ID("s\(index + 1)"), title: section.title,
                items: section.questions.map {
                    PaperItem(question: $0, points: section.type == .caseAnalysis ? nil : section.points(of: $0))
                })
        }
        return Paper(id: id, title: title, sections: sections)
    }
}

/// One constraint of a rule: what it asks (`target`, e.g. "15%–25%") and what the paper gives (`achieved`, "18.5%").
public struct ConstraintReport: Codable, Sendable, Hashable {
    public var constraint: Message
    public var target: String
    public var achieved: String
    public var met: Bool

    public init(constraint: Message, target: String, achieved: String, met: Bool) {
        self.constraint = constraint
        self.target = target
        self.achieved = achieved
        self.met = met
    }
}

/// Why no paper could be assembled: each problem names the constraint and by how much it cannot be met.
public struct AssemblyFailure: Error, Codable, Sendable, Hashable {
    public var problems: [Message]
    public init(problems: [Message]) { self.problems = problems }
}

extension AssemblyFailure: CodedError {
    public var code: String { "assembly_impossible" }
    public var message: Message {
        Message(
            zh: "无法按规则组卷：" + problems.map(\.zh).joined(separator: "；"),
            en: "no paper meets the rule: " + problems.map(\.en).joined(separator: "; "))
    }
}
