import ExamCore

/// The demo paper: an electrician (电工, level 4) theory paper with one section per question type.
enum DemoQuestions {
    static let paperID: Paper.ID = "P-DEMO-ELEC4"

    static func questions() -> [Question] {
        [
            Question(
                id: "Q-SC-01", stem: "我国工频交流电的频率是多少？", points: 2,
                content: .singleChoice(
                    options: [.init(id: "a", text: "50 Hz"), .init(id: "b", text: "60 Hz"), .init(id: "c", text: "100 Hz"), .init(id: "d", text: "220 Hz")],
                    correct: "a"),
                explanation: "我国电网标准频率为 50 Hz。", knowledgePoints: ["电工基础"], difficulty: 1),
            Question(
                id: "Q-SC-02", stem: "用万用表测量电阻前，首先应当做什么？", points: 2,
                content: .singleChoice(
                    options: [
                        .init(id: "a", text: "选择最大电压档"), .init(id: "b", text: "断开被测电路的电源"),
                        .init(id: "c", text: "把表笔短接后直接读数"), .init(id: "d", text: "将被测电阻串入电路"),
                    ],
                    correct: "b"),
                knowledgePoints: ["电工仪表"], difficulty: 2),
            Question(
                id: "Q-SC-03", stem: "三相四线制供电系统中，线电压与相电压的关系是：", points: 2,
                content: .singleChoice(
                    options: [
                        .init(id: "a", text: "线电压等于相电压"), .init(id: "b", text: "线电压是相电压的 √2 倍"),
                        .init(id: "c", text: "线电压是相电压的 √3 倍"), .init(id: "d", text: "线电压是相电压的 3 倍"),
                    ],
                    correct: "c"),
                knowledgePoints: ["三相电路"], difficulty: 2),
            Question(
                id: "Q-MC-01", stem: "下列属于电气安全用具中的基本绝缘安全用具的有：", points: 3,
                content: .multipleChoice(
                    options: [
                        .init(id: "a", text: "绝缘棒"), .init(id: "b", text: "绝缘夹钳"), .init(id: "c", text: "验电器"),
                        .init(id: "d", text: "安全帽"),
                    ],
                    correct: ["a", "b", "c"]),
                knowledgePoints: ["安全用具"], difficulty: 3),
            Question(
                id: "Q-MC-02", stem: "停电检修时，保证安全的技术措施包括：", points: 3,
                content: .multipleChoice(
                    options: [
                        .init(id: "a", text: "停电"), .init(id: "b", text: "验电"), .init(id: "c", text: "装设接地线"),
                        .init(id: "d", text: "悬挂标示牌和装设遮栏"), .init(id: "e", text: "口头通知即可送电"),
                    ],
                    correct: ["a", "b", "c", "d"]),
                knowledgePoints: ["安全技术措施"], difficulty: 3),
            Question(
                id: "Q-TF-01", stem: "电流互感器二次侧在运行中严禁开路。", points: 2,
                content: .trueFalse(correct: true), knowledgePoints: ["互感器"], difficulty: 2),
            Question(
                id: "Q-TF-02", stem: "熔断器在电路中主要起过载保护作用，不能用于短路保护。", points: 2,
                content: .trueFalse(correct: false), knowledgePoints: ["低压电器"], difficulty: 2),
            Question(
                id: "Q-TF-03", stem: "使用兆欧表测量绝缘电阻时，应在被测设备断电并放电后进行。", points: 2,
                content: .trueFalse(correct: true), knowledgePoints: ["电工仪表"], difficulty: 1),
            Question(
                id: "Q-FB-01", stem: "欧姆定律的表达式为 I = ____ ，其中电阻的单位是 ____ 。", points: 4,
                content: .fillBlank(blanks: [.init(accepted: ["U/R", "U÷R"]), .init(accepted: ["欧姆", "Ω", "欧"])]),
                knowledgePoints: ["电工基础"], difficulty: 1),
            Question(
                id: "Q-FB-02", stem: "我国规定的安全电压额定值的最高一级是 ____ V。", points: 2,
                content: .fillBlank(blanks: [.init(accepted: ["42"])]), knowledgePoints: ["安全用电"], difficulty: 2),
            Question(
                id: "Q-CA-01",
                stem: "一只额定电压 220 V、额定功率 1100 W 的电热器接在 220 V 电源上，求通过电热器的电流（单位 A，保留一位小数），并写出计算过程。",
                points: 10, content: .calculation(correct: 5.0, tolerance: 0.05, unit: "A"),
                knowledgePoints: ["电功率"], difficulty: 2),
            Question(
                id: "Q-FL-01", stem: "请将三相异步电动机直接起动控制线路的安装步骤按正确顺序排列。", points: 8,
                content: .flowchart(
                    steps: [
                        .init(id: "s1", text: "识读电气原理图，列出元件清单"), .init(id: "s2", text: "检查电器元件的质量"),
                        .init(id: "s3", text: "在控制板上固定元件并布线"), .init(id: "s4", text: "用万用表检查线路"),
                        .init(id: "s5", text: "经指导人员同意后通电试车"),
                    ],
                    correct: ["s1", "s2", "s3", "s4", "s5"], asksDescription: true),
                knowledgePoints: ["电动机控制"], difficulty: 3),
            Question(
                id: "Q-SA-01", stem: "简述发现有人触电时的正确处理方法。", points: 10,
                content: .shortAnswer(
                    reference: "迅速切断电源或用绝缘物使触电者脱离电源；判断意识与呼吸；必要时进行心肺复苏并及时呼叫急救。",
                    scheme: [
                        .init(description: "使触电者迅速脱离电源", points: 4), .init(description: "判断伤情", points: 2),
                        .init(description: "正确施救并呼叫急救", points: 4),
                    ]),
                knowledgePoints: ["触电急救"], difficulty: 2),
            Question(
                id: "Q-ES-01", stem: "论述在低压配电系统中实施保护接地与保护接零的区别及各自的适用场合。", points: 18,
                content: .essay(reference: "从系统形式（TT、TN）、原理、适用场合、注意事项等方面论述。", scheme: []),
                knowledgePoints: ["接地与接零"], difficulty: 4),
            Question(
                id: "Q-CS-01", stem: "阅读下面的案例，回答问题。",
                points: 0,
                content: .caseAnalysis(
                    material: "某车间一台 7.5 kW 三相异步电动机运行中突然停转，热继电器动作。电工检查发现电动机外壳温度很高，电源三相电压正常，其中一相熔体已熔断。",
                    subQuestions: [
                        Question(
                            id: "Q-CS-01-1", stem: "电动机停转最可能的直接原因是：", points: 3,
                            content: .singleChoice(
                                options: [
                                    .init(id: "a", text: "电源电压过高"), .init(id: "b", text: "缺相运行导致过载"),
                                    .init(id: "c", text: "负载过轻"), .init(id: "d", text: "绝缘电阻过大"),
                                ],
                                correct: "b")),
                        Question(
                            id: "Q-CS-01-2", stem: "热继电器在该电路中起到了过载保护作用。", points: 2,
                            content: .trueFalse(correct: true)),
                        Question(
                            id: "Q-CS-01-3", stem: "请写出排除该故障并恢复运行的步骤。", points: 5,
                            content: .shortAnswer(reference: "停电验电、查明熔断原因、更换同规格熔体、检查电动机绝缘、复位热继电器、试车。", scheme: [])),
                    ]),
                knowledgePoints: ["故障分析"], difficulty: 4),
            Question(
                id: "Q-TH-01", stem: "结合本人工作实际，撰写一篇关于“提高车间用电安全管理水平”的论文（不少于 800 字）。",
                points: 20,
                content: .thesis(
                    requirements: "可在文本框中撰写，也可上传 PDF 或 Word 文件（不超过 10 MB）。",
                    attachment: AttachmentRule(types: ["pdf", "docx", "doc", "txt"], maxBytes: 10 * 1024 * 1024)),
                knowledgePoints: ["安全管理"], difficulty: 5),
        ]
    }

    static func paper() -> Paper {
        func section(_ id: String, _ title: String, _ note: String, _ questions: [Question.ID]) -> PaperSection {
            PaperSection(id: PaperSection.ID(id), title: title, note: note.isEmpty ? nil : note, items: questions.map { PaperItem(question: $0) })
        }
        return Paper(
            id: paperID, title: "电工（四级/中级工）理论知识考试 演示试卷",
            sections: [
                section("S1", "一、单项选择题", "每题 2 分，只有一个正确答案。", ["Q-SC-01", "Q-SC-02", "Q-SC-03"]),
                section("S2", "二、多项选择题", "每题 3 分，多选、少选、错选均不得分。", ["Q-MC-01", "Q-MC-02"]),
                section("S3", "三、判断题", "每题 2 分。", ["Q-TF-01", "Q-TF-02", "Q-TF-03"]),
                section("S4", "四、填空题", "每空 2 分。", ["Q-FB-01", "Q-FB-02"]),
                section("S5", "五、计算题", "写出计算过程。", ["Q-CA-01"]),
                section("S6", "六、流程图题", "将步骤排成正确顺序。", ["Q-FL-01"]),
                section("S7", "七、简答题", "", ["Q-SA-01"]),
                section("S8", "八、论述题", "", ["Q-ES-01"]),
                section("S9", "九、案例分析题", "", ["Q-CS-01"]),
                section("S10", "十、论文", "", ["Q-TH-01"]),
            ])
    }
}
