import ArgumentParser
import ExamCore
import Foundation
import QuestionBank

/// Paper assembly benchmark: a generated bank, a 100-question paper by the standard's weights and a difficulty
/// distribution assembled R times with different seeds, the same as an A/B pair, and duplicate pairs over the bank.
struct AssemblyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaodian-assembly-bench",
        abstract: "Times paper assembly and duplicate detection on a generated question bank.")

    @Option(help: "Questions in the generated bank.") var questions = 10_000
    @Option(help: "Assemblies per measurement, each with its own seed.") var runs = 20
    @Option(help: "Seed of the generated bank.") var seed: UInt64 = 1
    @Option(help: "Near-duplicate questions planted in the bank.") var nearDuplicates = 100
    @Option(help: "Similarity threshold for duplicate pairs (Dice on character bigrams).") var threshold = 0.8
    @Flag(help: "Skip the duplicate detection.") var skipDuplicates = false

    func run() throws {
        let clock = ContinuousClock()
        let points = SampleBank.tree()
        let tree = KnowledgeTree(points)
        var started = clock.now
        let bank = SampleBank.questions(count: questions, tree: points, seed: seed, nearDuplicates: nearDuplicates)
        let generated = clock.now - started
        let active = bank.filter { $0.status == .active }.count
        print("bank: \(bank.count) questions (\(active) active), \(points.count) knowledge points, generated in \(ms(generated)) ms")

        // Every 50th question counts as used in the recent papers.
        let recent = Set(bank.enumerated().filter { $0.offset % 50 == 0 }.map(\.element.id))
        var rule = AssemblyRule(
            sections: [
                .init(type: .singleChoice, count: 40, pointsEach: 1), .init(type: .multipleChoice, count: 20, pointsEach: 2),
                .init(type: .trueFalse, count: 20, pointsEach: 1), .init(type: .fillBlank, count: 10, pointsEach: 2),
                .init(type: .shortAnswer, count: 5, pointsEach: 5), .init(type: .caseAnalysis, count: 5, pointsEach: 0),
            ],
            useStandardWeights: true, coverageTolerancePercent: 5,
            difficulty: [
                .init(difficulty: 1, percent: 10), .init(difficulty: 2, percent: 25), .init(difficulty: 3, percent: 35),
                .init(difficulty: 4, percent: 20), .init(difficulty: 5, percent: 10),
            ],
            difficultyTolerancePercent: 5, maxUsage: 4, excludeRecentPapers: 3)
        let constraints = rule.sections.count + points.filter { $0.weight != nil }.count + rule.difficulty.count
        print("rule: 100 questions in 6 sections; coverage by the standard's weights ±5 (5 top points); difficulty 10/25/35/20/10 % ±5; maxUsage 4; \(recent.count) recently used ids left out (\(constraints) share and size constraints)")

        for papers in [1, 2] {
            rule.papers = papers
            var times: [Duration] = []
            var failures = 0
            var unmet = 0
            for run in 0..<runs {
                rule.seed = UInt64(run + 1) &* 0x9E37_79B9_7F4A_7C15
                started = clock.now
                let result = Assembler.assemble(rule: rule, bank: bank, tree: tree, recentlyUsed: recent)
                times.append(clock.now - started)
                switch result {
                case .success(let drafts): unmet += drafts.filter { !$0.meetsAllConstraints }.count
                case .failure(let failure):
                    failures += 1
                    if failures == 1 { print("  failure: \(failure.problems.map(\.en).joined(separator: "; "))") }
                }
            }
            let label = papers == 1 ? "one paper" : "A/B pair"
            print("\(label): \(runs) runs, \(failures) failed, \(unmet) drafts with an unmet constraint; " + summary(times))
        }

        guard !skipDuplicates else { return }
        started = clock.now
        let index = DuplicateIndex(questions: bank.map(\.question))
        let built = clock.now - started
        // As the central office does when a question is saved: the texts were normalised when they were written.
        let normalisedTexts = bank.map { (id: $0.id.rawValue, text: DuplicateIndex.normalised(DuplicateIndex.text(of: $0.question))) }
        started = clock.now
        let kept = DuplicateIndex(normalisedTexts, normalised: true)
        let fromKept = clock.now - started
        print("duplicates: index of \(kept.count) built from texts normalised beforehand in \(ms(fromKept)) ms")
        started = clock.now
        let pairs = index.pairs(threshold: threshold)
        let compared = clock.now - started
        let planted = pairs.filter { $0.second.hasSuffix("-dup") || $0.first.hasSuffix("-dup") }.count
        print("duplicates: index of \(index.count) built in \(ms(built)) ms; pairs ≥ \(threshold) in \(ms(compared)) ms: \(pairs.count) pairs, \(planted) involving the \(nearDuplicates) planted near duplicates")
        started = clock.now
        var hits = 0
        for entry in bank.prefix(1000) {
            hits += index.matches(for: DuplicateIndex.text(of: entry.question), threshold: threshold, excluding: entry.id.rawValue).count
        }
        print("matches(for:) on 1000 texts: \(ms(clock.now - started)) ms in all, \(hits) matches")
    }

    private func ms(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f", value)
    }

    private func summary(_ times: [Duration]) -> String {
        let sorted = times.sorted()
        guard !sorted.isEmpty else { return "no runs" }
        let median = sorted[(sorted.count - 1) / 2]
        let p95 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)]
        return "median \(ms(median)) ms, p95 \(ms(p95)) ms, max \(ms(sorted.last!)) ms"
    }
}

AssemblyBench.main()
