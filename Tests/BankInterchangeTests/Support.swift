import BankInterchange
import ExamCore
import Foundation
import QuestionBank

/// A committed fixture (made by make_fixtures.py or written after the formats' specifications).
func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(".fixtures/\(name)"))
}

func readBank(
    _ data: Data, _ format: BankFormat, prefix: String = "imp", known: Set<String>? = nil
) throws(BankFileError) -> ImportResult {
    try BankImport.read(data, format: format, defaults: .standard, idPrefix: prefix, knownKnowledgePoints: known)
}

extension ImportResult {
    func question(_ id: String) -> Question? { questions.first { $0.question.id.rawValue == id }?.question }
    /// Where problems were found: (row, column) pairs.
    var places: Set<Place> { Set(problems.map { Place(row: $0.row, column: $0.column) }) }
}

struct Place: Hashable, CustomStringConvertible {
    var row: Int
    var column: String?
    var description: String { "\(row):\(column ?? "-")" }
}

func options(_ texts: [String]) -> [ChoiceOption] {
    texts.enumerated().map { ChoiceOption(id: String(UnicodeScalar(UInt8(97 + $0.offset))), text: $0.element) }
}

/// One question of every type, knowledge points and difficulty included, as a bank would hold them.
enum SampleBank {
    static let knowledgePoints = [
        KnowledgePoint(code: "1", name: "基础知识", weight: 30), KnowledgePoint(code: "1.1", name: "电工基础", parent: "1"),
        KnowledgePoint(code: "1.2", name: "安全用电", parent: "1", weight: 12.5), KnowledgePoint(code: "2", name: "相关知识", weight: 70),
    ]

    static let single = Question(
        id: "S-SC-1", stem: "我国工频交流电的频率是多少？", points: 2,
        content: .singleChoice(options: options(["50 Hz", "60 Hz", "100 Hz", "220 Hz"]), correct: "a"),
        explanation: "我国电网标准频率为 50 Hz。", knowledgePoints: ["1.1"], difficulty: 1)
    static let multiple = Question(
        id: "S-MC-1", stem: "停电检修时，保证安全的技术措施包括：\n（多选）", points: 3,
        content: .multipleChoice(options: options(["停电", "验电", "装设接地线", "口头通知 <即可> 送电", "悬挂标示牌"]), correct: ["a", "b", "c", "e"]),
        knowledgePoints: ["1.2", "2"], difficulty: 3)
    static let trueFalse = Question(
        id: "S-TF-1", stem: "熔断器不能用于短路保护。", points: 1, content: .trueFalse(correct: false), difficulty: 2)
    static let blankOne = Question(
        id: "S-FB-1", stem: "我国规定的安全电压额定值的最高一级是 ____ V。", points: 2,
        content: .fillBlank(blanks: [Blank(accepted: ["42", "四十二"])]), knowledgePoints: ["1.2"])
    static let blankTwo = Question(
        id: "S-FB-2", stem: "欧姆定律的表达式为 I = ____，电阻的单位是 ____。", points: 4,
        content: .fillBlank(blanks: [Blank(accepted: ["U/R", "U÷R"]), Blank(accepted: ["欧姆", "Ω"])]), knowledgePoints: ["1.1"])
    static let short = Question(
        id: "S-SA-1", stem: "简述发现有人触电时的正确处理方法。", points: 10,
        content: .shortAnswer(
            reference: "迅速切断电源；\n判断伤情；必要时进行心肺复苏 & 呼叫急救。",
            scheme: [ScoringPoint(description: "使触电者脱离电源", points: 4), ScoringPoint(description: "判断伤情", points: 2.5)]),
        explanation: "先断电，后施救。", difficulty: 2)
    static let essay = Question(
        id: "S-ES-1", stem: "论述保护接地与保护接零的区别及各自的适用场合。", points: 18,
        content: .essay(reference: "从系统形式（TT、TN）、原理、适用场合论述。", scheme: [ScoringPoint(description: "原理", points: 8)]),
        knowledgePoints: ["2"], difficulty: 4)
    static let calculation = Question(
        id: "S-CA-1", stem: "额定电压 220 V、额定功率 1100 W 的电热器接在 220 V 电源上，求电流。", points: 5.5,
        content: .calculation(correct: 5, tolerance: 0.05, unit: "A"), difficulty: 2)
    static let flowchart = Question(
        id: "S-FL-1", stem: "将安装步骤按正确顺序排列。", points: 8,
        content: .flowchart(
            steps: [FlowStep(id: "a", text: "固定元件并布线"), FlowStep(id: "b", text: "识读电气原理图"), FlowStep(id: "c", text: "通电试车"),
                    FlowStep(id: "d", text: "用万用表检查线路")],
            correct: ["b", "a", "d", "c"], asksDescription: true),
        knowledgePoints: ["2"], difficulty: 3)
    static let caseAnalysis = Question(
        id: "S-CS-1", stem: "阅读案例，回答下列问题。", points: 0,
        content: .caseAnalysis(
            material: "某车间一台电动机运行中突然停转。\n检查发现一相熔体已熔断。",
            subQuestions: [
                Question(
                    id: "S-CS-1-1", stem: "停转最可能的直接原因是：", points: 3,
                    content: .singleChoice(options: options(["电压过高", "缺相运行导致过载", "负载过轻"]), correct: "b")),
                Question(id: "S-CS-1-2", stem: "热继电器起到了过载保护作用。", points: 2, content: .trueFalse(correct: true)),
                Question(
                    id: "S-CS-1-3", stem: "写出排除故障的步骤。", points: 5,
                    content: .shortAnswer(reference: "停电验电、更换熔体、试车。", scheme: []), knowledgePoints: ["1.2"]),
            ]),
        explanation: "缺相运行是常见故障。", knowledgePoints: ["2"], difficulty: 4)
    static let thesis = Question(
        id: "S-TH-1", stem: "撰写一篇关于车间用电安全管理的论文。", points: 30,
        content: .thesis(requirements: "不少于 3000 字。", attachment: AttachmentRule(types: ["pdf", "docx"], maxBytes: 10 * 1024 * 1024)),
        knowledgePoints: ["1"], difficulty: 5)

    static let all = [single, multiple, trueFalse, blankOne, blankTwo, short, essay, calculation, flowchart, caseAnalysis, thesis]
}
