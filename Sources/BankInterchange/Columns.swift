import ExamCore
import Foundation

/// The columns of the question sheet. Headers are matched by name, Chinese or English, in any order.
enum Column: Hashable, Sendable {
    case id, type, stem, option(Int), answer, points, difficulty, knowledgePoints, explanation, scheme
    case tolerance, unit, caseID, attachment, asksDescription

    static let optionLetters: [Character] = ["A", "B", "C", "D", "E", "F", "G", "H"]

    /// Every column, in the order export and the template write them.
    static let all: [Column] =
        [.id, .type, .stem] + optionLetters.indices.map { .option($0) }
        + [.answer, .points, .difficulty, .knowledgePoints, .explanation, .scheme, .tolerance, .unit, .caseID,
           .attachment, .asksDescription]

    /// The header as the template writes it, and the name problems give.
    var zh: String {
        switch self {
        case .id: "编号"
        case .type: "题型"
        case .stem: "题干"
        case .option(let index): "选项\(Self.optionLetters[index])"
        case .answer: "答案"
        case .points: "分值"
        case .difficulty: "难度"
        case .knowledgePoints: "知识点"
        case .explanation: "解析"
        case .scheme: "评分标准"
        case .tolerance: "容差"
        case .unit: "单位"
        case .caseID: "所属案例"
        case .attachment: "附件要求"
        case .asksDescription: "需文字说明"
        }
    }

    var en: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .stem: "stem"
        case .option(let index): "option \(Self.optionLetters[index])"
        case .answer: "answer"
        case .points: "points"
        case .difficulty: "difficulty"
        case .knowledgePoints: "knowledge points"
        case .explanation: "explanation"
        case .scheme: "marking scheme"
        case .tolerance: "tolerance"
        case .unit: "unit"
        case .caseID: "case"
        case .attachment: "attachment"
        case .asksDescription: "asks description"
        }
    }

    private var aliases: [String] {
        switch self {
        case .id: ["试题编号", "题目编号", "questionid", "code"]
        case .type: ["试题类型", "题目类型", "questiontype"]
        case .stem: ["题目", "试题内容", "question", "text"]
        case .option(let index): [String(Self.optionLetters[index]), "option" + String(Self.optionLetters[index])]
        case .answer: ["正确答案", "参考答案", "标准答案", "correctanswer"]
        case .points: ["分数", "score", "marks"]
        case .difficulty: ["难度系数", "难度等级", "level"]
        case .knowledgePoints: ["知识点编码", "knowledgepoint", "kp", "kps"]
        case .explanation: ["答案解析", "试题解析", "feedback"]
        case .scheme: ["评分要点", "markingscheme", "rubric"]
        case .tolerance: ["允许误差", "误差"]
        case .unit: ["计量单位"]
        case .caseID: ["案例编号", "所属案例编号", "parent", "caseid"]
        case .attachment: ["附件", "attachments"]
        case .asksDescription: ["需说明", "文字说明", "describe", "asksdescription"]
        }
    }

    /// The column a header cell names, if any. "编号/id", "题干*" and "分值（必填）" are understood.
    static func named(_ header: String) -> Column? {
        let candidates = [header] + header.split(whereSeparator: { "/／|".contains($0) }).map(String.init)
        for candidate in candidates {
            let key = normalise(candidate)
            if key.isEmpty { continue }
            if let column = byName[key] { return column }
        }
        return nil
    }

    static func normalise(_ header: String) -> String {
        var text = header
        for (open, close) in [("(", ")"), ("（", "）"), ("[", "]"), ("【", "】")] {
            while let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) {
                text.removeSubrange(start.lowerBound..<end.upperBound)
            }
        }
        return text.lowercased().filter { !$0.isWhitespace && !"*＊:：_-".contains($0) }
    }

    private static let byName: [String: Column] = {
        var map: [String: Column] = [:]
        for column in all {
            for name in [column.zh, column.en] + column.aliases { map[normalise(name)] = column }
        }
        return map
    }()
}

extension QuestionType {
    /// The type a 题型 cell names: 单选题 or 单选, or the English raw value.
    static func named(_ text: String) -> QuestionType? {
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().filter { !$0.isWhitespace && $0 != "_" && $0 != "-" }
        return typeNames[key]
    }

    private static let typeNames: [String: QuestionType] = {
        var map: [String: QuestionType] = [:]
        for type in allCases {
            map[type.nameZH] = type
            map[type.rawValue.lowercased()] = type
        }
        let short: [String: QuestionType] = [
            "单选": .singleChoice, "单项选择": .singleChoice, "单项选择题": .singleChoice, "单选择题": .singleChoice,
            "多选": .multipleChoice, "多项选择": .multipleChoice, "多项选择题": .multipleChoice,
            "判断": .trueFalse, "是非题": .trueFalse, "填空": .fillBlank, "简答": .shortAnswer, "问答题": .shortAnswer,
            "论述": .essay, "计算": .calculation, "流程图": .flowchart, "排序题": .flowchart, "案例分析": .caseAnalysis,
            "案例题": .caseAnalysis, "论文题": .thesis, "single": .singleChoice, "multiple": .multipleChoice,
            "truefalse": .trueFalse, "true/false": .trueFalse, "fillintheblank": .fillBlank, "blank": .fillBlank,
            "short": .shortAnswer, "case": .caseAnalysis,
        ]
        map.merge(short) { current, _ in current }
        return map
    }()
}
