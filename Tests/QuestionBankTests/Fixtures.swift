import ExamCore
import QuestionBank

/// Small hand-made questions for the tests.
enum Fixtures {
    static func question(
        _ id: String, _ type: QuestionType = .singleChoice, points: [String] = [], difficulty: Int? = 3,
        status: QuestionStatus = .active, usage: Int = 0, stem: String? = nil
    ) -> BankQuestion {
        let content: QuestionContent
        switch type {
        case .singleChoice:
            content = .singleChoice(options: [.init(id: "A", text: "甲\(id)"), .init(id: "B", text: "乙\(id)")], correct: "A")
        case .multipleChoice:
            content = .multipleChoice(options: [.init(id: "A", text: "甲"), .init(id: "B", text: "乙")], correct: ["A", "B"])
        case .trueFalse:
            content = .trueFalse(correct: true)
        case .caseAnalysis:
            content = .caseAnalysis(
                material: "材料\(id)",
                subQuestions: [
                    Question(id: Question.ID("\(id).1"), stem: "小题一", points: 5, content: .shortAnswer(reference: nil, scheme: [])),
                    Question(id: Question.ID("\(id).2"), stem: "小题二", points: 5, content: .shortAnswer(reference: nil, scheme: [])),
                ])
        default:
            content = .shortAnswer(reference: nil, scheme: [])
        }
        return BankQuestion(
            question: Question(
                id: Question.ID(id), stem: stem ?? "试题 \(id) 的题干", points: 1, content: content, knowledgePoints: points,
                difficulty: difficulty),
            status: status, usageCount: usage)
    }

    /// A bank of `count` single-choice questions; `under(i)` says which knowledge points question i carries.
    static func singles(_ count: Int, prefix: String = "S", difficulty: (Int) -> Int? = { _ in 3 }, under: (Int) -> [String])
        -> [BankQuestion]
    {
        (0..<count).map { question("\(prefix)\($0)", points: under($0), difficulty: difficulty($0)) }
    }

    static let smallTree = KnowledgeTree([
        KnowledgePoint(code: "1", name: "基础知识", weight: 40), KnowledgePoint(code: "1.1", name: "安全", parent: "1"),
        KnowledgePoint(code: "2", name: "操作技能", weight: 60), KnowledgePoint(code: "2.1", name: "设备", parent: "2"),
        KnowledgePoint(code: "2.2", name: "维护", parent: "2"),
    ])
}
