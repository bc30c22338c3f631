import ExamCore
import Foundation

/// A made-up bank for benchmarks, tests and demonstrations: a knowledge tree with the standard's weights and any
/// number of questions of every type over it, the same for the same seed.
public enum SampleBank {
    /// `tops` top-level points ("1" … with weights that add up to 100) with `children` points each ("1.1" …).
    public static func tree(tops: Int = 5, children: Int = 4) -> [KnowledgePoint] {
        let names = ["职业道德", "安全生产", "基础知识", "设备操作", "维护保养", "故障诊断", "质量管理", "工艺规程", "相关法规", "环境保护"]
        let weights = Self.weights(tops)
        var points: [KnowledgePoint] = []
        for top in 0..<tops {
            let code = "\(top + 1)"
            points.append(KnowledgePoint(code: code, name: names[top % names.count], weight: weights[top]))
            for child in 0..<children {
                points.append(KnowledgePoint(code: "\(code).\(child + 1)", name: "\(names[top % names.count])（\(child + 1)）", parent: code))
            }
        }
        return points
    }

    /// Weights falling from the first point to the last, whole percents adding up to 100 (5 points: 30, 25, 20, 15, 10).
    static func weights(_ count: Int) -> [Double] {
        guard count > 0 else { return [] }
        let raw = (0..<count).map { Double(count - $0 + 1) }
        let sum = raw.reduce(0, +)
        var weights = raw.map { ($0 / sum * 100).rounded() }
        weights[0] += 100 - weights.reduce(0, +)
        return weights
    }

    /// The share of each type in a generated bank.
    public static let typeMix: [(QuestionType, Double)] = [
        (.singleChoice, 0.30), (.multipleChoice, 0.18), (.trueFalse, 0.15), (.fillBlank, 0.10), (.shortAnswer, 0.08),
        (.essay, 0.04), (.calculation, 0.05), (.flowchart, 0.03), (.caseAnalysis, 0.05), (.thesis, 0.02),
    ]

    /// `count` questions over the leaves of `tree` (a leaf drawn by its top point's weight; one in ten tagged with a
    /// second leaf), difficulty 1–5 (10/25/35/20/10 %, one in fifty without), usage 0–5, one in twenty retired.
    /// `nearDuplicates` of them (the last ones) are copies of earlier questions with one character changed and other
    /// punctuation; their ids end in "-dup".
    public static func questions(count: Int, tree points: [KnowledgePoint], seed: UInt64, nearDuplicates: Int = 0)
        -> [BankQuestion]
    {
        var generator = SeededGenerator(seed: seed)
        let tree = KnowledgeTree(points)
        let tops = tree.roots
        let topWeights = tops.map { max(1, tree.points[$0]?.weight ?? 1) }
        let leaves = tops.map { top in
            var found: [String] = []
            func walk(_ code: String) {
                let children = tree.children[code] ?? []
                if children.isEmpty { found.append(code) }
                for child in children { walk(child) }
            }
            walk(top)
            return found
        }
        func pickLeaf() -> String {
            var roll = generator.unit() * topWeights.reduce(0, +)
            var top = 0
            while top < topWeights.count - 1 && roll >= topWeights[top] {
                roll -= topWeights[top]
                top += 1
            }
            let options = leaves[top]
            return options[generator.below(options.count)]
        }
        func pickType() -> QuestionType {
            var roll = generator.unit()
            for (type, share) in typeMix {
                if roll < share { return type }
                roll -= share
            }
            return .singleChoice
        }
        func pickDifficulty() -> Int? {
            let roll = generator.unit()
            if roll < 0.02 { return nil }
            switch roll {
            case ..<0.12: return 1
            case ..<0.37: return 2
            case ..<0.72: return 3
            case ..<0.92: return 4
            default: return 5
            }
        }
        func phrase(_ words: ClosedRange<Int>) -> String {
            let n = words.lowerBound + generator.below(words.count)
            return (0..<n).map { _ in vocabulary[generator.below(vocabulary.count)] }.joined()
        }

        let originals = max(0, count - nearDuplicates)
        var result: [BankQuestion] = []
        result.reserveCapacity(count)
        for index in 0..<originals {
            let id = Question.ID(String(format: "Q%06d", index + 1))
            let type = pickType()
            var knowledge = [pickLeaf()]
            if generator.unit() < 0.1 {
                let second = pickLeaf()
                if second != knowledge[0] { knowledge.append(second) }
            }
            let difficulty = pickDifficulty()
            let stem: String
            let content: QuestionContent
            var points = TypeDefaults.standard.points(for: type)
            switch type {
            case .singleChoice:
                stem = "关于\(phrase(6...12))，下列说法正确的是（　）。"
                let options = (0..<4).map { ChoiceOption(id: String(UnicodeScalar(UInt8(65 + $0))), text: phrase(2...5)) }
                content = .singleChoice(options: options, correct: options[generator.below(4)].id)
            case .multipleChoice:
                stem = "在\(phrase(6...12))时，应当做到（　）。"
                let options = (0..<5).map { ChoiceOption(id: String(UnicodeScalar(UInt8(65 + $0))), text: phrase(2...5)) }
                content = .multipleChoice(options: options, correct: ["A", "C", "D"])
            case .trueFalse:
                stem = "\(phrase(6...14))。（　）"
                content = .trueFalse(correct: generator.unit() < 0.5)
            case .fillBlank:
                stem = "\(phrase(4...8))的\(phrase(1...2))是____，\(phrase(3...6))。"
                content = .fillBlank(blanks: [Blank(accepted: [phrase(1...2)])])
            case .shortAnswer:
                stem = "简述\(phrase(5...10))的\(phrase(2...4))。"
                content = .shortAnswer(reference: phrase(10...20), scheme: [ScoringPoint(description: phrase(3...5), points: points)])
            case .essay:
                stem = "试论述\(phrase(6...12))。"
                content = .essay(reference: nil, scheme: [])
            case .calculation:
                stem = "某\(phrase(4...8))为 \(1 + generator.below(500)) 单位，求\(phrase(2...4))。"
                content = .calculation(correct: Double(generator.below(1000)), tolerance: 0.5, unit: nil)
            case .flowchart:
                stem = "将\(phrase(4...8))的步骤按正确顺序排列。"
                let steps = (0..<4).map { FlowStep(id: "s\($0 + 1)", text: phrase(2...4)) }
                content = .flowchart(steps: steps, correct: steps.map(\.id), asksDescription: false)
            case .caseAnalysis:
                stem = "阅读材料，回答问题。"
                let subCount = 2 + generator.below(3)
                let subs = (0..<subCount).map { sub in
                    Question(
                        id: Question.ID("\(id.rawValue).\(sub + 1)"), stem: "\(phrase(4...8))？", points: 5,
                        content: .shortAnswer(reference: nil, scheme: []))
                }
                content = .caseAnalysis(material: phrase(20...40) + "。", subQuestions: subs)
                points = Double(subCount * 5)
            case .thesis:
                stem = "以\(phrase(3...6))为题撰写论文。"
                content = .thesis(requirements: nil, attachment: nil)
            }
            let question = Question(
                id: id, stem: stem, points: points, content: content, knowledgePoints: knowledge, difficulty: difficulty)
            let retired = generator.unit() < 0.05
            result.append(BankQuestion(question: question, status: retired ? .retired : .active, usageCount: generator.below(6)))
        }
        for index in 0..<min(nearDuplicates, originals) {
            var copy = result[generator.below(originals)]
            var question = copy.question
            question.id = Question.ID(String(format: "Q%06d-dup", originals + index + 1))
            question.stem = nearCopy(question.stem, &generator)
            copy.question = question
            copy.usageCount = 0
            copy.status = .active
            result.append(copy)
        }
        return result
    }

    /// One character changed (not the first or last), Chinese punctuation as ASCII, a space or two.
    static func nearCopy(_ text: String, _ generator: inout SeededGenerator) -> String {
        var characters = Array(text)
        let letters = characters.indices.filter { characters[$0].unicodeScalars.first.map { $0.value >= 0x4E00 } ?? false }
        if letters.count > 2 {
            let position = letters[1 + generator.below(letters.count - 2)]
            characters[position] = "某"
        }
        return String(characters).replacingOccurrences(of: "，", with: ", ").replacingOccurrences(of: "。", with: ".")
            .replacingOccurrences(of: "（　）", with: "( )")
    }

    static let vocabulary: [String] = [
        "电气", "设备", "安全", "操作", "维护", "检查", "绝缘", "电压", "电流", "接地", "保护", "规程", "作业", "人员",
        "现场", "工具", "仪表", "测量", "线路", "开关", "变压器", "电动机", "负荷", "短路", "过载", "漏电", "防护",
        "标志", "隔离", "停电", "验电", "挂牌", "上锁", "许可", "监护", "记录", "交接", "巡视", "故障", "排除", "原因",
        "分析", "处理", "报告", "应急", "预案", "演练", "消防", "灭火器", "火灾", "爆炸", "粉尘", "噪声", "振动", "温度",
        "湿度", "压力", "流量", "液位", "阀门", "管道", "泵", "风机", "压缩机", "锅炉", "焊接", "切割", "起重", "吊装",
        "高处", "登高", "梯子", "脚手架", "安全带", "安全帽", "手套", "护目镜", "口罩", "耳塞", "劳保", "培训", "考核",
        "资格", "证书", "质量", "标准", "公差", "精度", "图纸", "工艺", "流程", "材料", "零件", "装配", "调试", "试运行",
        "验收", "润滑", "清洁", "紧固", "调整", "更换", "备件", "库存", "成本", "效率", "节能", "环保", "废水", "废气",
        "固废", "噪音", "排放", "法规", "制度", "责任", "义务", "权利", "劳动", "合同", "工时", "休息", "职业病", "体检",
        "急救", "包扎", "止血", "心肺复苏", "触电", "脱离", "电源", "呼救", "传感器", "控制器", "程序", "参数", "信号",
        "报警", "联锁", "冗余", "备份", "数据", "网络", "通信", "接口", "协议", "编码", "显示", "键盘", "按钮", "指示灯",
        "继电器", "接触器", "熔断器", "断路器", "电缆", "导线", "端子", "螺栓", "垫片", "密封", "轴承", "齿轮", "皮带",
        "链条", "联轴器", "减速机", "液压", "气动", "油缸", "气缸", "过滤", "冷却", "加热", "保温", "防腐", "涂装",
    ]
}
