import Foundation

/// How a single answer came out.
public enum ScoreStatus: String, Codable, Sendable {
    case correct, partial, wrong, unanswered
    /// A subjective answer that waits for a marker.
    case pendingMarking
}

/// The score of one answerable question.
public struct QuestionScore: Codable, Sendable, Hashable {
    public var questionID: Question.ID
    public var sectionID: PaperSection.ID
    public var maxPoints: Double
    /// Nil while the answer waits for manual marking.
    public var score: Double?
    public var status: ScoreStatus
}

/// The score of one section: what the venue graded, and what waits for a marker.
public struct SectionScore: Codable, Sendable, Hashable {
    public var sectionID: PaperSection.ID
    public var title: String
    public var maxPoints: Double
    public var score: Double
    public var pendingPoints: Double
}

/// The venue's grading of a whole attempt.
public struct PaperScore: Codable, Sendable, Hashable {
    public var questions: [QuestionScore]
    public var sections: [SectionScore]
    public var maxPoints: Double
    /// Points awarded automatically; subjective answers are added by markers later.
    public var score: Double
    public var pendingPoints: Double
}

/// Normalisation for fill-in-the-blank matching: full-width to half-width (NFKC), case folded, whitespace removed.
public enum FillBlankNormaliser {
    public static func normalise(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        return String(String.UnicodeScalarView(folded.unicodeScalars.filter { !$0.properties.isWhitespace }))
    }
}

/// Rounds a score to hundredths, the precision scores are published in.
public func roundedScore(_ value: Double) -> Double { (value * 100).rounded() / 100 }

extension AssembledPaper {
    /// Grades every answerable question; objective answers get a score, subjective ones wait for marking.
    public func grade(_ responses: [Question.ID: Response]) -> PaperScore {
        var questionScores: [QuestionScore] = []
        var sectionScores: [SectionScore] = []
        for section in sections {
            var sectionScore = 0.0
            var pending = 0.0
            var maxPoints = 0.0
            for question in section.questions {
                let targets = question.type == .caseAnalysis ? question.subQuestions : [question]
                for target in targets {
                    let result = Self.grade(target, response: responses[target.id], rules: paper.grading)
                    questionScores.append(
                        QuestionScore(
                            questionID: target.id, sectionID: section.section.id, maxPoints: target.points,
                            score: result.score, status: result.status))
                    maxPoints += target.points
                    if let score = result.score { sectionScore += score } else { pending += target.points }
                }
            }
            sectionScores.append(
                SectionScore(
                    sectionID: section.section.id, title: section.section.title, maxPoints: roundedScore(maxPoints),
                    score: roundedScore(sectionScore), pendingPoints: roundedScore(pending)))
        }
        return PaperScore(
            questions: questionScores, sections: sectionScores,
            maxPoints: roundedScore(sectionScores.reduce(0) { $0 + $1.maxPoints }),
            score: roundedScore(sectionScores.reduce(0) { $0 + $1.score }),
            pendingPoints: roundedScore(sectionScores.reduce(0) { $0 + $1.pendingPoints }))
    }

    static func grade(_ question: Question, response: Response?, rules: GradingRules) -> (score: Double?, status: ScoreStatus) {
        guard let response, response.isAnswered else { return (0, .unanswered) }
        let points = question.points
        func fraction(_ value: Double) -> (Double?, ScoreStatus) {
            let score = roundedScore(points * value)
            return (score, value >= 1 ? .correct : value <= 0 ? .wrong : .partial)
        }
        switch (question.content, response) {
        case (.singleChoice(_, let correct), .choice(let chosen)):
            return fraction(chosen == correct ? 1 : 0)
        case (.trueFalse(let correct), .truth(let chosen)):
            return fraction(chosen == correct ? 1 : 0)
        case (.multipleChoice(_, let correct), .choices(let chosen)):
            let right = Set(correct)
            let picked = Set(chosen)
            if picked == right { return fraction(1) }
            guard rules.multipleChoice == .partialCredit, picked.isSubset(of: right) else { return fraction(0) }
            return fraction(Double(picked.count) / Double(right.count))
        case (.fillBlank(let blanks), .blanks(let answers)):
            let matched = zip(blanks, answers).filter { blank, answer in
                let given = FillBlankNormaliser.normalise(answer)
                return !given.isEmpty && blank.accepted.contains { FillBlankNormaliser.normalise($0) == given }
            }.count
            return fraction(Double(matched) / Double(blanks.count))
        case (.calculation(let correct, let tolerance, _), .calculation(let value, _)):
            guard let number = Self.parseNumber(value) else { return fraction(0) }
            return fraction(abs(number - correct) <= tolerance + 1e-9 * max(1, abs(correct)) ? 1 : 0)
        case (.flowchart(_, let correct, _), .order(let steps, _)):
            if steps == correct { return fraction(1) }
            guard rules.flowchart == .positions else { return fraction(0) }
            let inPlace = zip(steps, correct).filter { $0 == $1 }.count
            return fraction(Double(inPlace) / Double(correct.count))
        case (.shortAnswer, _), (.essay, _), (.thesis, _):
            return (nil, .pendingMarking)
        default:
            return (0, .wrong)
        }
    }

    /// Reads a number as a candidate types it: full-width digits, a Chinese comma or a trailing unit are tolerated.
    static func parseNumber(_ text: String) -> Double? {
        var cleaned = text.precomposedStringWithCompatibilityMapping
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "−", with: "-")
        while let last = cleaned.last, !(last.isNumber || last == ".") { cleaned.removeLast() }
        guard !cleaned.isEmpty, let value = Double(cleaned), value.isFinite else { return nil }
        return value
    }
}
