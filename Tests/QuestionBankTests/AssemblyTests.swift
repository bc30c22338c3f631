import ExamCore
import Foundation
import QuestionBank
import Testing

@Suite struct AssemblyTests {
    static let points = SampleBank.tree()
    static let tree = KnowledgeTree(points)
    static let bank = SampleBank.questions(count: 3_000, tree: points, seed: 7)
    /// Every tenth question was in a recent paper.
    static let recent = Set(bank.enumerated().filter { $0.offset % 10 == 0 }.map(\.element.id))

    static func rule(papers: Int = 1, seed: UInt64? = 42) -> AssemblyRule {
        AssemblyRule(
            sections: [
                .init(type: .singleChoice, count: 30, pointsEach: 1), .init(type: .multipleChoice, count: 15, pointsEach: 2),
                .init(type: .trueFalse, count: 15, pointsEach: 1), .init(type: .fillBlank, count: 6, pointsEach: 2),
                .init(type: .shortAnswer, count: 3, pointsEach: 5), .init(type: .caseAnalysis, count: 2, pointsEach: 0),
            ],
            coverage: [.init(knowledgePoint: "2.1", minPercent: 4, maxPercent: 12)],
            useStandardWeights: true, coverageTolerancePercent: 5,
            difficulty: [
                .init(difficulty: 1, percent: 10), .init(difficulty: 2, percent: 25), .init(difficulty: 3, percent: 35),
                .init(difficulty: 4, percent: 20), .init(difficulty: 5, percent: 10),
            ],
            difficultyTolerancePercent: 5, maxUsage: 3, excludeRecentPapers: 2, papers: papers, seed: seed)
    }

    static func assemble(_ rule: AssemblyRule, bank: [BankQuestion] = bank) throws -> [PaperDraft] {
        switch Assembler.assemble(rule: rule, bank: bank, tree: tree, recentlyUsed: recent) {
        case .success(let drafts): return drafts
        case .failure(let failure):
            Issue.record("assembly failed: \(failure.problems.map(\.en))")
            throw failure
        }
    }

    /// Checks a draft against the rule with nothing from the assembler: sizes, types, exclusions, coverage, difficulty.
    static func expectMeets(_ draft: PaperDraft, _ rule: AssemblyRule) {
        let byID = Dictionary(uniqueKeysWithValues: bank.map { ($0.id, $0) })
        #expect(draft.sections.count == rule.sections.count)
        var total = 0.0
        var questions: [(BankQuestion, Double)] = []
        for (section, wanted) in zip(draft.sections, rule.sections) {
            #expect(section.type == wanted.type)
            #expect(section.questions.count == wanted.count)
            for id in section.questions {
                guard let entry = byID[id] else {
                    Issue.record("unknown question \(id)")
                    continue
                }
                #expect(entry.question.type == wanted.type)
                #expect(entry.status == .active)
                #expect(entry.usageCount <= rule.maxUsage ?? .max)
                #expect(!recent.contains(id))
                let points = wanted.type == .caseAnalysis ? entry.question.points : wanted.pointsEach
                total += points
                questions.append((entry, points))
            }
        }
        let ids = draft.sections.flatMap(\.questions)
        #expect(Set(ids).count == ids.count)

        func share(under code: String) -> Double {
            let covered = questions.filter { entry, _ in entry.question.knowledgePoints.contains { tree.isUnder($0, code) } }
            return 100 * covered.reduce(0) { $0 + $1.1 } / total
        }
        for point in points {
            guard let weight = point.weight else { continue }
            let got = share(under: point.code)
            #expect(got >= weight - 5 - 1e-9 && got <= weight + 5 + 1e-9, "point \(point.code): \(got)% against \(weight) ± 5")
        }
        let got21 = share(under: "2.1")
        #expect(got21 >= 4 - 1e-9 && got21 <= 12 + 1e-9, "point 2.1: \(got21)%")
        for wanted in rule.difficulty {
            let count = questions.filter { ($0.0.question.difficulty ?? 3) == wanted.difficulty }.count
            let share = 100 * Double(count) / Double(questions.count)
            #expect(abs(share - wanted.percent) <= 5 + 1e-9, "difficulty \(wanted.difficulty): \(share)%")
        }
        #expect(draft.meetsAllConstraints, "\(draft.report.filter { !$0.met })")
    }

    @Test func assembledPaperMeetsEveryConstraintCheckedIndependently() throws {
        let rule = Self.rule()
        let drafts = try Self.assemble(rule)
        #expect(drafts.count == 1)
        let draft = try #require(drafts.first)
        Self.expectMeets(draft, rule)
        #expect(draft.sections.map(\.title) == ["一、单项选择题", "二、多项选择题", "三、判断题", "四、填空题", "五、简答题", "六、案例分析题"])
        // The report names every constraint: 6 sections, 4 checks on the questions, 6 coverage, 5 difficulty, recent.
        #expect(draft.report.count == 6 + 4 + 6 + 5 + 1)
        #expect(draft.seed == 42)

        // The ExamCore paper: section points as overrides, none on case analysis; it resolves against the questions.
        let paper = draft.paper(id: "P1", title: "电工（四级）理论知识")
        #expect(paper.title == "电工（四级）理论知识")
        #expect(paper.sections[0].items.allSatisfy { $0.points == 1 })
        #expect(paper.sections[1].items.allSatisfy { $0.points == 2 })
        #expect(paper.sections[5].items.allSatisfy { $0.points == nil })
        let pool = Dictionary(uniqueKeysWithValues: Self.bank.map { ($0.id, $0.question) })
        let assembled = try AssembledPaper(paper: paper, questions: pool)
        #expect(assembled.sections.count == 6)
    }

    @Test func theSameSeedGivesTheSamePapersWhateverTheBankOrder() throws {
        let rule = Self.rule(papers: 2, seed: 99)
        let first = try Self.assemble(rule)
        var generator = SeededGenerator(seed: 5)
        let second = try Self.assemble(rule, bank: generator.shuffled(Self.bank))
        #expect(first == second)
        var other = rule
        other.seed = 100
        #expect(try Self.assemble(other) != first)
    }

    @Test func parallelPapersShareNoQuestionAndEachMeetsTheRule() throws {
        let rule = Self.rule(papers: 3)
        let drafts = try Self.assemble(rule)
        #expect(drafts.count == 3)
        var seen = Set<Question.ID>()
        for draft in drafts {
            Self.expectMeets(draft, rule)
            for id in draft.sections.flatMap(\.questions) { #expect(seen.insert(id).inserted, "\(id) in two papers") }
        }
    }

    @Test func tooFewQuestionsOfATypeNamesTheTypeAndTheNumbers() {
        var bank = Fixtures.singles(33, under: { _ in ["1"] })
        bank[0].status = .retired
        bank[1].usageCount = 9
        let rule = AssemblyRule(sections: [.init(type: .singleChoice, count: 40, pointsEach: 1)], maxUsage: 5)
        let result = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: ["S2"])
        guard case .failure(let failure) = result else {
            Issue.record("assembled from too few questions")
            return
        }
        #expect(failure.problems.count == 1)
        let problem = failure.problems[0]
        #expect(problem.zh.hasPrefix("单选题需要 40 道，可用 30 道（缺 10 道"), "\(problem.zh)")
        #expect(problem.zh.contains("停用 1 道"))
        #expect(problem.en.hasPrefix("single choice: 40 questions needed, 30 available (10 short"), "\(problem.en)")
        #expect(problem.en.contains("1 retired") && problem.en.contains("1 used more than 5 times") && problem.en.contains("1 in recent papers"))
    }

    @Test func anUnreachableCoverageMinimumNamesThePointAndTheGap() {
        // 6 of 100 questions are under 2.1: a 40-question paper can give it at most 6 of 40 points, 15%.
        let bank = Fixtures.singles(100, under: { $0 < 6 ? ["2.1"] : ["1.1"] })
        let rule = AssemblyRule(
            sections: [.init(type: .singleChoice, count: 40, pointsEach: 1)],
            coverage: [.init(knowledgePoint: "2.1", minPercent: 20)])
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: []) else {
            Issue.record("assembled an impossible paper")
            return
        }
        #expect(
            failure.problems.map(\.en) == [
                "knowledge point 2.1 (设备) needs at least 20% of the points; the bank can give at most 15% (5 percentage points short)"
            ])
        #expect(failure.problems.first?.zh.contains("知识点 2.1 设备 至少需占 20% 的分值，题库最多能提供 15%") == true)
    }

    @Test func anUnknownCoveragePointIsNamed() {
        let bank = Fixtures.singles(50, under: { _ in ["1"] })
        let rule = AssemblyRule(
            sections: [.init(type: .singleChoice, count: 10, pointsEach: 1)], coverage: [.init(knowledgePoint: "7.7", minPercent: 5)])
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: []) else {
            Issue.record("assembled with an unknown point")
            return
        }
        #expect(failure.problems.map(\.en) == ["knowledge point 7.7 is not in this bank's knowledge tree"])
    }

    @Test func parallelPapersFromTooSmallAPoolSaySo() {
        let bank = Fixtures.singles(60, under: { _ in ["1"] })
        let rule = AssemblyRule(sections: [.init(type: .singleChoice, count: 40, pointsEach: 1)], papers: 2)
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: []) else {
            Issue.record("two papers from 60 questions")
            return
        }
        #expect(failure.problems.count == 1)
        #expect(
            failure.problems[0].en.hasPrefix(
                "single choice: 80 questions needed (40 in each of 2 parallel papers, none shared), 60 available (20 short"))
        #expect(failure.problems[0].zh.hasPrefix("单选题需要 80 道（2 套平行卷各 40 道，不能重复），可用 60 道（缺 20 道"))
    }

    @Test func aDifficultyShareThePoolCannotSupplyIsReported() {
        // Only 3 questions of difficulty 5; the rule wants 30% ± 10% of 20, at least 4.
        let bank = Fixtures.singles(50, difficulty: { $0 < 3 ? 5 : 2 }, under: { _ in ["1"] })
        let rule = AssemblyRule(
            sections: [.init(type: .singleChoice, count: 20, pointsEach: 1)], difficulty: [.init(difficulty: 5, percent: 30)])
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: []) else {
            Issue.record("assembled an impossible paper")
            return
        }
        #expect(failure.problems.map(\.en) == ["difficulty 5 needs at least 4 questions (20%–40%); 3 are available (1 short)"])
    }

    @Test func whenOnlyTheSearchFailsTheBestPapersMissesAreNamed() {
        // Each constraint alone can be met, not both: questions under 1 are all difficulty 5, the others difficulty 1.
        let bank = Fixtures.singles(200, difficulty: { $0 < 100 ? 5 : 1 }, under: { $0 < 100 ? ["1.1"] : ["2.2"] })
        let rule = AssemblyRule(
            sections: [.init(type: .singleChoice, count: 20, pointsEach: 1)], coverage: [.init(knowledgePoint: "1", minPercent: 60)],
            difficulty: [.init(difficulty: 1, percent: 60)], difficultyTolerancePercent: 0, seed: 3)
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: bank, tree: Fixtures.smallTree, recentlyUsed: []) else {
            Issue.record("assembled an impossible paper")
            return
        }
        #expect(!failure.problems.isEmpty)
        #expect(failure.problems.allSatisfy { $0.en.contains("the best paper found has") }, "\(failure.problems.map(\.en))")
        #expect(failure.problems.contains { $0.en.contains("knowledge point 1 ") || $0.en.contains("difficulty 1 ") })
        #expect(failure.code == "assembly_impossible")
    }

    @Test func checkRefusesMalformedRules() {
        let rule = AssemblyRule(
            sections: [.init(type: .singleChoice, count: 0, pointsEach: -1)],
            coverage: [.init(knowledgePoint: "1", minPercent: 50, maxPercent: 40), .init(knowledgePoint: "2", minPercent: 120)],
            difficulty: [.init(difficulty: 1, percent: 60), .init(difficulty: 2, percent: 50), .init(difficulty: 7, percent: 0)],
            maxUsage: -1, papers: 5)
        let problems = Assembler.check(rule).map(\.en)
        #expect(problems.contains("section 1 (single choice) must hold 1 to 500 questions"))
        #expect(problems.contains("section 1 (single choice) must give each question more than 0 points (at most 1000)"))
        #expect(problems.contains("the minimum share of knowledge point 1 (50%) is above its maximum (40%)"))
        #expect(problems.contains("the minimum share of knowledge point 2 must be 0 to 100%"))
        #expect(problems.contains("the difficulty shares add up to 110%, more than 100%"))
        #expect(problems.contains("difficulty 7 does not exist (1 to 5)"))
        #expect(problems.contains("the usage limit cannot be negative"))
        #expect(problems.contains("the number of parallel papers must be 1 to 4"))
        #expect(Assembler.check(Self.rule()).isEmpty)
        guard case .failure(let failure) = Assembler.assemble(rule: rule, bank: Self.bank, tree: Self.tree, recentlyUsed: []) else {
            Issue.record("assembled by a malformed rule")
            return
        }
        #expect(failure.problems.count == problems.count)
    }

    @Test func evaluateFlagsWhatAHandEditFromTheBankBroke() throws {
        let rule = Self.rule()
        let draft = try #require(try Self.assemble(rule).first)
        let byID = Dictionary(uniqueKeysWithValues: Self.bank.map { ($0.id, $0) })
        let unchanged = Assembler.evaluate(draft.sections, rule: rule, bank: byID, tree: Self.tree)
        #expect(unchanged.allSatisfy { $0.met })

        // The editor swaps every single-choice question for ones under point 5 and adds a retired one twice.
        var sections = draft.sections
        let used = Set(sections.flatMap(\.questions))
        let underFive = Self.bank.filter {
            $0.question.type == .singleChoice && $0.status == .active && !used.contains($0.id)
                && $0.question.knowledgePoints.allSatisfy { Self.tree.isUnder($0, "5") }
        }
        sections[0].questions = underFive.prefix(30).map(\.id)
        let retired = try #require(Self.bank.first { $0.status == .retired && $0.question.type == .trueFalse })
        sections[2].questions[0] = retired.id
        sections[2].questions[1] = retired.id
        let reports = Assembler.evaluate(sections, rule: rule, bank: byID, tree: Self.tree)
        let broken = reports.filter { !$0.met }
        #expect(broken.contains { $0.constraint.en.hasPrefix("knowledge point 5 (维护保养)") && $0.constraint.en.contains("standard") })
        #expect(broken.contains { $0.constraint.en == "no question appears twice" && $0.achieved.hasPrefix("1:") })
        #expect(broken.contains { $0.constraint.en == "only active questions (none retired)" })
        #expect(!broken.contains { $0.constraint.en.hasPrefix("section 1") })

        // A section one question short, and one with a question of another type.
        sections = draft.sections
        sections[0].questions.removeLast()
        sections[1].questions[0] = sections[2].questions[0]
        let shortReports = Assembler.evaluate(sections, rule: rule, bank: byID, tree: Self.tree)
        let first = try #require(shortReports.first { $0.constraint.en.hasPrefix("section 1 ") })
        #expect(!first.met && first.target == "30 × 1" && first.achieved == "29 × 1")
        let second = try #require(shortReports.first { $0.constraint.en.hasPrefix("section 2 ") })
        #expect(!second.met && second.achieved.contains("+1"))
    }

    @Test func draftsRoundTripThroughJSON() throws {
        let draft = try #require(try Self.assemble(Self.rule()).first)
        let data = try JSONEncoder().encode(draft)
        #expect(try JSONDecoder().decode(PaperDraft.self, from: data) == draft)
    }
}
