import ExamCore
import Foundation

/// Words and numbers as the assembly's messages and reports print them.
enum Wording {
    /// 1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (section numbers of a paper).
    static func chineseNumeral(_ n: Int) -> String {
        let digits = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
        guard n > 0, n < 100 else { return String(n) }
        if n < 10 { return digits[n] }
        let tens = n / 10, ones = n % 10
        return (tens == 1 ? "" : digits[tens]) + "十" + (ones == 0 ? "" : digits[ones])
    }

    /// The heading a section gets unless the rule names it: "一、单项选择题".
    static func sectionTitle(_ index: Int, _ type: QuestionType) -> String {
        "\(chineseNumeral(index + 1))、\(formalName(type))"
    }

    /// The name a paper's heading uses (the long form for choice questions, as printed papers have it).
    static func formalName(_ type: QuestionType) -> String {
        switch type {
        case .singleChoice: "单项选择题"
        case .multipleChoice: "多项选择题"
        default: type.nameZH
        }
    }

    static func englishName(_ type: QuestionType) -> String {
        switch type {
        case .singleChoice: "single choice"
        case .multipleChoice: "multiple choice"
        case .trueFalse: "true/false"
        case .fillBlank: "fill in the blank"
        case .shortAnswer: "short answer"
        case .essay: "essay"
        case .calculation: "calculation"
        case .flowchart: "flowchart"
        case .caseAnalysis: "case analysis"
        case .thesis: "thesis"
        }
    }

    /// A number without a needless ".0": 40, 2.5, 12.3.
    static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%.1f", value)
    }

    static func percent(_ value: Double) -> String { number((value * 10).rounded() / 10) + "%" }

    /// "15%–25%", "≥ 20%", "≤ 30%".
    static func range(_ lo: Double, _ hi: Double) -> String {
        if lo <= 0 && hi >= 100 { return "0%–100%" }
        if hi >= 100 { return "≥ " + percent(lo) }
        if lo <= 0 { return "≤ " + percent(hi) }
        return percent(lo) + "–" + percent(hi)
    }

    /// "A", "B" … for parallel papers.
    static func paperLabel(_ index: Int) -> String { String(UnicodeScalar(UInt8(65 + index % 26))) }

    /// "knowledge point 2.1 (安全生产)" / "知识点 2.1 安全生产".
    static func point(_ code: String, _ tree: KnowledgeTree) -> (zh: String, en: String) {
        if let name = tree.points[code]?.name, !name.isEmpty { return ("知识点 \(code) \(name)", "knowledge point \(code) (\(name))") }
        return ("知识点 \(code)", "knowledge point \(code)")
    }
}

extension KnowledgeTree {
    /// Every code in reading order: depth first from the roots, children in the order given; points a loop cuts off
    /// from every root come last, by code.
    func orderedCodes() -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        func visit(_ code: String) {
            guard seen.insert(code).inserted else { return }
            result.append(code)
            for child in children[code] ?? [] { visit(child) }
        }
        for root in roots { visit(root) }
        for code in points.keys.sorted() where !seen.contains(code) { visit(code) }
        return result
    }

    /// How deep a point sits: 0 for a root.
    func depth(of code: String) -> Int { lineage(of: code).count - 1 }
}

/// A tiny deterministic source of numbers on top of ExamCore's SplitMix64.
extension SeededGenerator {
    /// 0 ..< bound, bound > 0.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    /// 0 ..< 1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
