import Foundation
import Testing

@testable import ExamCore

/// A paper with one question per objective type plus subjective ones, for grading rules.
private func paper(multipleChoice: GradingRules.MultipleChoice = .allOrNothing, flowchart: GradingRules.Flowchart = .allOrNothing)
    throws -> AssembledPaper
{
    let questions: [Question] = [
        Question(id: "sc", stem: "s", points: 2, content: .singleChoice(options: [.init(id: "a", text: "A"), .init(id: "b", text: "B")], correct: "b")),
        Question(
            id: "mc", stem: "m", points: 4,
            content: .multipleChoice(
                options: [.init(id: "a", text: "A"), .init(id: "b", text: "B"), .init(id: "c", text: "C"), .init(id: "d", text: "D")],
                correct: ["a", "b", "c", "d"])),
        Question(id: "tf", stem: "t", points: 1, content: .trueFalse(correct: false)),
        Question(id: "fb", stem: "f", points: 4, content: .fillBlank(blanks: [.init(accepted: ["U/R"]), .init(accepted: ["欧姆", "Ω"])])),
        Question(id: "ca", stem: "c", points: 10, content: .calculation(correct: 5, tolerance: 0.05, unit: "A")),
        Question(
            id: "fl", stem: "o", points: 6,
            content: .flowchart(
                steps: [.init(id: "s1", text: "1"), .init(id: "s2", text: "2"), .init(id: "s3", text: "3")],
                correct: ["s1", "s2", "s3"], asksDescription: false)),
        Question(id: "sa", stem: "why", points: 10, content: .shortAnswer(reference: nil, scheme: [])),
        Question(
            id: "case", stem: "read", points: 0,
            content: .caseAnalysis(
                material: "m",
                subQuestions: [
                    Question(id: "case-1", stem: "a", points: 3, content: .trueFalse(correct: true)),
                    Question(id: "case-2", stem: "b", points: 5, content: .essay(reference: nil, scheme: [])),
                ])),
    ]
    let sections = [
        PaperSection(id: "objective", title: "Objective", items: ["sc", "mc", "tf", "fb", "ca", "fl"].map { PaperItem(question: $0) }),
        PaperSection(id: "subjective", title: "Subjective", items: ["sa", "case"].map { PaperItem(question: $0) }),
    ]
    let paper = Paper(
        id: "p", title: "P", sections: sections, grading: GradingRules(multipleChoice: multipleChoice, flowchart: flowchart))
    return try AssembledPaper(paper: paper, questions: Dictionary(uniqueKeysWithValues: questions.map { ($0.id, $0) }))
}

private func score(_ paper: AssembledPaper, _ id: Question.ID, _ response: Response) -> QuestionScore {
    paper.grade([id: response]).questions.first { $0.questionID == id }!
}

@Suite("Grading on submission")
struct GradingTests {
    @Test func singleChoiceAndTrueFalseScoreOnlyTheRightAnswer() throws {
        let paper = try paper()
        #expect(score(paper, "sc", .choice("b")).score == 2)
        #expect(score(paper, "sc", .choice("a")).score == 0)
        #expect(score(paper, "tf", .truth(false)).status == .correct)
        #expect(score(paper, "tf", .truth(true)).score == 0)
    }

    @Test func multipleChoiceIsAllOrNothingByDefault() throws {
        let paper = try paper()
        #expect(score(paper, "mc", .choices(["d", "c", "b", "a"])).score == 4)
        #expect(score(paper, "mc", .choices(["a", "b"])).score == 0)
    }

    @Test func multipleChoicePartialCreditScoresRightSubsetsAndNothingForAWrongOption() throws {
        let paper = try paper(multipleChoice: .partialCredit)
        #expect(score(paper, "mc", .choices(["a", "b", "c"])).score == 3)
        #expect(score(paper, "mc", .choices(["a", "b", "c"])).status == .partial)
        #expect(score(paper, "mc", .choices(["a"])).score == 1)
    }

    @Test func fillBlankMatchesAcceptedAlternativesAfterNormalising() throws {
        let paper = try paper()
        // Full-width letters and slash, spaces and case do not matter; each blank is worth half.
        #expect(score(paper, "fb", .blanks(["ｕ / ｒ", "Ω"])).score == 4)
        #expect(score(paper, "fb", .blanks(["u/r", "欧 姆"])).score == 4)
        #expect(score(paper, "fb", .blanks(["U/R", "伏特"])).score == 2)
        #expect(score(paper, "fb", .blanks(["", ""])).status == .unanswered)
    }

    @Test func calculationAcceptsAnswersWithinTheTolerance() throws {
        let paper = try paper()
        #expect(score(paper, "ca", .calculation(value: "5.0", working: "I = P/U")).score == 10)
        #expect(score(paper, "ca", .calculation(value: "5.04", working: "")).score == 10)
        #expect(score(paper, "ca", .calculation(value: "５ A", working: "")).score == 10)
        #expect(score(paper, "ca", .calculation(value: "5.1", working: "")).score == 0)
        #expect(score(paper, "ca", .calculation(value: "five", working: "")).score == 0)
    }

    @Test func flowchartNeedsTheExactOrderUnlessPositionsScore() throws {
        #expect(score(try paper(), "fl", .order(steps: ["s1", "s2", "s3"], description: "")).score == 6)
        #expect(score(try paper(), "fl", .order(steps: ["s1", "s3", "s2"], description: "")).score == 0)
        #expect(score(try paper(flowchart: .positions), "fl", .order(steps: ["s1", "s3", "s2"], description: "")).score == 2)
    }

    @Test func subjectiveAnswersWaitForMarkingAndCountAsPending() throws {
        let paper = try paper()
        let result = paper.grade([
            "sc": .choice("b"), "sa": .text("because"), "case-1": .truth(true), "case-2": .text("long text"),
        ])
        #expect(result.questions.first { $0.questionID == "sa" }?.status == .pendingMarking)
        #expect(result.questions.first { $0.questionID == "sa" }?.score == nil)
        #expect(result.score == 5)  // sc 2 + case-1 3
        #expect(result.pendingPoints == 15)  // sa 10 + case-2 5
        #expect(result.maxPoints == 45)
        #expect(result.sections.map(\.score) == [2, 3])
        #expect(result.sections.map(\.pendingPoints) == [0, 15])
    }

    @Test func unansweredQuestionsScoreZero() throws {
        let result = try paper().grade([:])
        #expect(result.score == 0)
        #expect(result.pendingPoints == 0)
        #expect(result.questions.allSatisfy { $0.status == .unanswered })
        #expect(result.questions.count == 9)
    }

    @Test func aPaperReferencingAMissingQuestionIsRefusedByName() {
        let paper = Paper(id: "p", title: "P", sections: [PaperSection(id: "s", title: "S", items: [PaperItem(question: "nope")])])
        #expect(throws: PaperError.missingQuestion("p", "nope")) {
            try AssembledPaper(paper: paper, questions: [:])
        }
    }
}
