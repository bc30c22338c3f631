import ExamCore
import Foundation
import QuestionBank
import Testing

@Suite struct DuplicateTests {
    static let stem = "在潮湿环境中使用手持电动工具时，应当选用哪一类安全电压的工具？"

    static func choice(_ id: String, _ stem: String, _ options: [String]) -> Question {
        Question(
            id: Question.ID(id), stem: stem, points: 1,
            content: .singleChoice(
                options: options.enumerated().map { ChoiceOption(id: String(UnicodeScalar(UInt8(65 + $0.offset))), text: $0.element) },
                correct: "A"))
    }

    static let options = ["Ⅰ类工具", "Ⅱ类工具", "Ⅲ类工具", "任何一类工具"]

    @Test func normalisationFoldsWidthCaseSpacesAndPunctuation() {
        #expect(DuplicateIndex.normalised("ＡＢＣ，　ａｂｃ！ 12３（注意）") == "abcabc123注意")
        #expect(DuplicateIndex.normalised("  下列说法，正确的是（　）。") == "下列说法正确的是")
        #expect(DuplicateIndex.normalised("Ohm's law: U = I·R") == "ohmslawuir")
    }

    @Test func nearDuplicatesAreFoundAndUnrelatedQuestionsAreNot() {
        let original = Self.choice("Q1", Self.stem, Self.options)
        // One character changed.
        let oneChar = Self.choice("Q2", Self.stem.replacingOccurrences(of: "潮湿", with: "潮温"), Self.options)
        // ASCII punctuation, full-width letters, spaces.
        let punctuation = Self.choice(
            "Q3", "在潮湿环境中使用 手持电动工具时, 应当选用哪一类安全电压的工具?", ["Ⅰ类工具", "Ⅱ类工具", "Ⅲ类工具", "任何一类工具。"])
        // The same options in another order.
        let reordered = Self.choice("Q4", Self.stem, Self.options.reversed())
        let unrelated = Self.choice("Q5", "变压器的铁芯为什么要用硅钢片叠成，而不用整块钢材制作？", ["减少涡流损耗", "增加强度", "降低成本", "便于散热"])
        let sameOptionsOtherStem = Self.choice("Q6", "电动机外壳接地的主要作用是防止人员触电，这种说法对吗？", Self.options)
        let index = DuplicateIndex(questions: [original, oneChar, punctuation, reordered, unrelated, sameOptionsOtherStem])

        let pairs = index.pairs()
        let found = Set(pairs.map { "\($0.first)-\($0.second)" })
        #expect(found.contains("Q1-Q2"))
        #expect(found.contains("Q1-Q3"))
        #expect(found.contains("Q1-Q4"))
        #expect(!found.contains { $0.contains("Q5") || $0.contains("Q6") }, "\(pairs)")
        #expect(pairs.first { $0.first == "Q1" && $0.second == "Q4" }?.similarity == 1)
        #expect(pairs.first { $0.first == "Q1" && $0.second == "Q3" }?.similarity == 1)
        let oneCharSimilarity = pairs.first { $0.first == "Q1" && $0.second == "Q2" }?.similarity ?? 0
        #expect(oneCharSimilarity > 0.9 && oneCharSimilarity < 1)
    }

    @Test func importedTextIsMatchedAgainstTheBank() {
        let bank = SampleBank.questions(count: 500, tree: SampleBank.tree(), seed: 11)
        let index = DuplicateIndex(questions: bank.map(\.question))
        let target = bank[123].question
        // The importer has the stem with other punctuation and one character changed, and the options.
        var copy = target
        copy.stem = copy.stem.replacingOccurrences(of: "，", with: ",").replacingOccurrences(of: "。", with: ".")
        var characters = Array(copy.stem)
        characters[3] = "某"
        copy.stem = String(characters)
        let matches = index.matches(for: DuplicateIndex.text(of: copy))
        #expect(matches.first?.id == target.id.rawValue, "\(matches)")
        #expect(index.matches(for: DuplicateIndex.text(of: target), excluding: target.id.rawValue).allSatisfy { $0.id != target.id.rawValue })
        #expect(index.matches(for: "完全无关的一段话：今天天气很好，我们去公园散步。").isEmpty)
        #expect(index.matches(for: "，。！").isEmpty)
    }

    @Test func plantedNearDuplicatesInALargerBankAreAllFound() {
        let bank = SampleBank.questions(count: 3_000, tree: SampleBank.tree(), seed: 12, nearDuplicates: 30)
        let pairs = DuplicateIndex(questions: bank.map(\.question)).pairs()
        let planted = bank.filter { $0.id.rawValue.hasSuffix("-dup") }.map(\.id.rawValue)
        #expect(planted.count == 30)
        for id in planted { #expect(pairs.contains { $0.second == id || $0.first == id }, "\(id) not found") }
    }

    /// The prefix filter must not lose pairs: the index agrees with comparing every pair directly.
    @Test func pairsAgreeWithComparingEveryPair() {
        let bank = SampleBank.questions(count: 300, tree: SampleBank.tree(tops: 2, children: 2), seed: 13, nearDuplicates: 20)
        let texts = bank.map { (id: $0.id.rawValue, text: DuplicateIndex.text(of: $0.question)) }
        func bigrams(_ text: String) -> Set<String> {
            let characters = Array(DuplicateIndex.normalised(text))
            if characters.count == 1 { return [String(characters)] }
            return Set(characters.indices.dropFirst().map { String(characters[$0 - 1]) + String(characters[$0]) })
        }
        let sets = texts.map { bigrams($0.text) }
        for threshold in [0.5, 0.8] {
            var expected = Set<String>()
            for i in sets.indices {
                for j in sets.indices where j > i {
                    let dice = 2 * Double(sets[i].intersection(sets[j]).count) / Double(sets[i].count + sets[j].count)
                    if dice >= threshold { expected.insert("\(texts[i].id)|\(texts[j].id)") }
                }
            }
            let found = Set(DuplicateIndex(texts).pairs(threshold: threshold).map { "\($0.first)|\($0.second)" })
            #expect(found == expected, "threshold \(threshold)")
            #expect(!expected.isEmpty)
        }
    }
}
