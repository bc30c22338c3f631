import ExamCore
import QuestionBank

/// What the template shows a bank editor: one example question per type and a word on every column.
enum TemplateExamples {
    static let knowledgePoints = [
        KnowledgePoint(code: "1", name: "基础知识", weight: 30),
        KnowledgePoint(code: "1.1", name: "电工基础", parent: "1"),
        KnowledgePoint(code: "1.2", name: "安全用电", parent: "1"),
        KnowledgePoint(code: "2", name: "相关知识", weight: 70),
        KnowledgePoint(code: "2.1", name: "电动机控制", parent: "2"),
    ]

    static let questions: [Question] = [
        Question(
            id: "EX-SC-1", stem: "我国工频交流电的频率是多少？", points: 1,
            content: .singleChoice(options: options(["50 Hz", "60 Hz", "100 Hz", "220 Hz"]), correct: "a"),
            explanation: "我国电网标准频率为 50 Hz。", knowledgePoints: ["1.1"], difficulty: 1),
        Question(
            id: "EX-MC-1", stem: "停电检修时，保证安全的技术措施包括：", points: 2,
            content: .multipleChoice(options: options(["停电", "验电", "装设接地线", "口头通知即可送电"]), correct: ["a", "b", "c"]),
            knowledgePoints: ["1.2"], difficulty: 3),
        Question(
            id: "EX-TF-1", stem: "电流互感器二次侧在运行中严禁开路。", points: 1, content: .trueFalse(correct: true),
            knowledgePoints: ["1.2"], difficulty: 2),
        Question(
            id: "EX-FB-1", stem: "欧姆定律的表达式为 I = ____，电阻的单位是 ____。", points: 2,
            content: .fillBlank(blanks: [Blank(accepted: ["U/R"]), Blank(accepted: ["欧姆", "Ω"])]), knowledgePoints: ["1.1"],
            difficulty: 1),
        Question(
            id: "EX-SA-1", stem: "简述发现有人触电时的正确处理方法。", points: 5,
            content: .shortAnswer(
                reference: "迅速切断电源或用绝缘物使触电者脱离电源；判断伤情；必要时心肺复苏并呼叫急救。",
                scheme: [ScoringPoint(description: "使触电者脱离电源", points: 2), ScoringPoint(description: "判断伤情并施救", points: 3)]),
            knowledgePoints: ["1.2"], difficulty: 2),
        Question(
            id: "EX-ES-1", stem: "论述保护接地与保护接零的区别及各自的适用场合。", points: 10,
            content: .essay(reference: "从系统形式、原理、适用场合等方面论述。", scheme: []), knowledgePoints: ["1.2"], difficulty: 4),
        Question(
            id: "EX-CA-1", stem: "额定电压 220 V、额定功率 1100 W 的电热器接在 220 V 电源上，求电流。", points: 5,
            content: .calculation(correct: 5, tolerance: 0.05, unit: "A"), knowledgePoints: ["1.1"], difficulty: 2),
        Question(
            id: "EX-FL-1", stem: "将三相异步电动机直接起动控制线路的安装步骤按正确顺序排列。", points: 5,
            content: .flowchart(
                steps: [FlowStep(id: "a", text: "在控制板上固定元件并布线"), FlowStep(id: "b", text: "识读电气原理图"),
                        FlowStep(id: "c", text: "通电试车"), FlowStep(id: "d", text: "用万用表检查线路")],
                correct: ["b", "a", "d", "c"], asksDescription: false),
            knowledgePoints: ["2.1"], difficulty: 3),
        Question(
            id: "EX-CS-1", stem: QuestionSheetReader.defaultCaseStem, points: 0,
            content: .caseAnalysis(
                material: "某车间一台三相异步电动机运行中突然停转，热继电器动作，检查发现一相熔体已熔断。",
                subQuestions: [
                    Question(
                        id: "EX-CS-1-1", stem: "电动机停转最可能的直接原因是：", points: 2,
                        content: .singleChoice(options: options(["电源电压过高", "缺相运行导致过载", "负载过轻"]), correct: "b")),
                    Question(
                        id: "EX-CS-1-2", stem: "写出排除该故障并恢复运行的步骤。", points: 4,
                        content: .shortAnswer(reference: "停电验电、查明原因、更换熔体、复位热继电器、试车。", scheme: [])),
                ]),
            knowledgePoints: ["2.1"], difficulty: 4),
        Question(
            id: "EX-TH-1", stem: "结合本人工作实际，撰写一篇关于提高车间用电安全管理水平的论文。", points: 30,
            content: .thesis(
                requirements: "不少于 3000 字，可上传 PDF 或 Word 文件。",
                attachment: AttachmentRule(types: ["pdf", "docx"], maxBytes: 10 * 1024 * 1024)),
            knowledgePoints: ["1.2"], difficulty: 5),
    ]

    private static func options(_ texts: [String]) -> [ChoiceOption] {
        texts.enumerated().map { ChoiceOption(id: CellText.letter($0.offset).lowercased(), text: $0.element) }
    }

    static func explanation(of column: Column) -> String {
        switch column {
        case .id: "可不填；不填时系统按“前缀-行号”编号。只能包含字母、数字、-、_、.，不超过 64 个字符，文件内不得重复。"
        case .type: "必填：单选题、多选题、判断题、填空题、简答题、论述题、计算题、流程图题、案例分析题、论文（也可写 单选、多选、判断、填空、简答、论述、计算、流程图、案例分析，或英文 singleChoice 等）。"
        case .stem: "必填：题目内容。案例分析题在此填写案例材料。"
        case .option(let index) where index == 0: "选择题的选项；流程图题的各个步骤。从 A 起连续填写，最多 8 个（A–H）。"
        case .option: "同选项A。"
        case .answer: "单选题：一个字母，如 B。多选题：多个字母，如 ABD、A,B,D 或 A、B。判断题：对/错（也可写 正确/错误、√/×、T/F、是/否）。填空题：各空之间用 ；分隔，同一空的多个可接受答案用 | 分隔，如 U/R；欧姆|Ω。计算题：一个数。流程图题：按正确顺序写出步骤字母，如 BADC。简答题、论述题：参考答案。论文：写作要求。案例分析题：可不填（作答要求，默认“阅读下面的案例，回答问题。”）。"
        case .points: "数字，大于 0。不填时按题型的默认分值。案例分析题的分值为各小题之和，此列不填。"
        case .difficulty: "1 到 5 的整数，可不填。"
        case .knowledgePoints: "知识点编码，多个时用 ；、逗号或空格分隔，须在“知识点”工作表或题库的知识点表中。"
        case .explanation: "答案解析，可不填。"
        case .scheme: "简答题、论述题的评分要点：每行一个，写成“要点：分值”。"
        case .tolerance: "计算题允许的误差（绝对值），不填为 0。"
        case .unit: "计算题答案的单位，可不填。"
        case .caseID: "小题填写所属案例分析题的编号；案例分析题本行不填。"
        case .attachment: "论文可上传的附件：文件类型和大小上限，如 pdf、docx；10MB。不填则不要求附件。"
        case .asksDescription: "流程图题是否要求考生另作文字说明：是/否，不填为否。"
        }
    }

    static let generalNotes: [(String, String)] = [
        ("说明", "第一行为列名，可调整列的顺序，也可只保留需要的列；多余的列会被忽略，空行会被跳过。"),
        ("说明", "导入时检查全部行，每个错误都会列出行号、列名和原因；有错误时可修改后重新导入，也可只导入无误的行。"),
        ("知识点", "“知识点”工作表：编码、名称、上级编码、比重（百分比，可不填）。"),
    ]
}
