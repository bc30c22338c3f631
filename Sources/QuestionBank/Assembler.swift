import ExamCore
import Foundation

/// Paper assembly (组卷): papers that meet a rule, drawn from a bank; the rule's own checks; a paper judged against
/// its rule.
///
/// The search: questions that may be used are sorted by id and grouped by section; each paper starts as a random
/// draw of the right number of each type, then a local search swaps one question at a time for an unused one of the
/// same section, most often aimed at a constraint the paper misses (a question under a point that is short, one of a
/// difficulty that is over-represented …), accepting a swap that leaves the paper no worse. A few restarts; the best
/// paper is kept. Before searching, cheap necessary checks catch rules no bank content could meet and say by how much.
public enum Assembler {
    /// Papers meeting `rule` from `bank`, or every reason why not. `recentlyUsed` is what the caller resolved
    /// `excludeRecentPapers` to.
    public static func assemble(
        rule: AssemblyRule, bank: [BankQuestion], tree: KnowledgeTree, recentlyUsed: Set<Question.ID>
    ) -> Result<[PaperDraft], AssemblyFailure> {
        let ruleProblems = check(rule)
        guard ruleProblems.isEmpty else { return .failure(AssemblyFailure(problems: ruleProblems)) }
        let seed = rule.seed ?? UInt64.random(in: 0...UInt64.max)
        let problem = AssemblyProblem(rule: rule, bank: bank, tree: tree, recentlyUsed: recentlyUsed)
        let necessary = problem.necessaryProblems()
        guard necessary.isEmpty else { return .failure(AssemblyFailure(problems: necessary)) }

        var generator = SeededGenerator(seed: seed ^ 0x6173_7365_6d62_6c79)  // "assembly"
        let found = problem.search(generator: &generator)
        let unmet = problem.unmetProblems(found)
        guard unmet.isEmpty else { return .failure(AssemblyFailure(problems: unmet)) }

        let byID = Dictionary(bank.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var drafts: [PaperDraft] = []
        for (index, state) in found.enumerated() {
            let sections = problem.draftSections(state)
            var report = evaluate(sections, rule: rule, bank: byID, tree: tree, recentlyUsed: recentlyUsed)
            let ids = sections.flatMap(\.questions)
            if found.count > 1 {
                let others = Set(found.enumerated().filter { $0.offset != index }.flatMap { problem.draftSections($0.element).flatMap(\.questions) })
                let shared = ids.filter { others.contains($0) }.count
                report.append(
                    ConstraintReport(
                        constraint: Message(
                            zh: "与其他平行卷（共 \(found.count) 套）没有相同试题",
                            en: "no question shared with the other parallel papers (\(found.count) in all)"),
                        target: "0", achieved: String(shared), met: shared == 0))
            }
            drafts.append(PaperDraft(sections: sections, report: report, seed: seed))
        }
        return .success(drafts)
    }

    /// What is wrong with the rule itself, before any bank is looked at.
    public static func check(_ rule: AssemblyRule) -> [Message] {
        var found: [Message] = []
        func add(_ zh: String, _ en: String) { found.append(Message(zh: zh, en: en)) }
        func percentOK(_ value: Double) -> Bool { value.isFinite && value >= 0 && value <= 100 }
        if rule.sections.isEmpty { add("组卷规则没有任何大题", "the rule has no sections") }
        if rule.sections.count > 20 { add("大题不能超过 20 个", "a paper may have at most 20 sections") }
        for (index, section) in rule.sections.enumerated() {
            let name = "第 \(index + 1) 大题（\(section.type.nameZH)）"
            let nameEN = "section \(index + 1) (\(Wording.englishName(section.type)))"
            if section.count < 1 || section.count > 500 {
                add("\(name)的题量须在 1–500 之间", "\(nameEN) must hold 1 to 500 questions")
            }
            if section.type == .caseAnalysis {
                if !(section.pointsEach.isFinite && section.pointsEach >= 0 && section.pointsEach <= 1000) {
                    add("\(name)的每题分值无效", "\(nameEN) has invalid points per question")
                }
            } else if !(section.pointsEach.isFinite && section.pointsEach > 0 && section.pointsEach <= 1000) {
                add("\(name)的每题分值须大于 0（不超过 1000）", "\(nameEN) must give each question more than 0 points (at most 1000)")
            }
            if let title = section.title, title.count > 200 {
                add("\(name)的标题过长", "the title of \(nameEN) is too long")
            }
        }
        var codes = Set<String>()
        for coverage in rule.coverage {
            let code = coverage.knowledgePoint
            if code.trimmingCharacters(in: .whitespaces).isEmpty {
                add("知识点覆盖要求没有指明知识点", "a coverage constraint names no knowledge point")
            } else if !codes.insert(code).inserted {
                add("知识点 \(code) 的覆盖要求出现了两次", "knowledge point \(code) has two coverage constraints")
            }
            if !percentOK(coverage.minPercent) {
                add("知识点 \(code) 的最低占比须在 0–100% 之间", "the minimum share of knowledge point \(code) must be 0 to 100%")
            }
            if let max = coverage.maxPercent {
                if !percentOK(max) {
                    add("知识点 \(code) 的最高占比须在 0–100% 之间", "the maximum share of knowledge point \(code) must be 0 to 100%")
                } else if percentOK(coverage.minPercent) && coverage.minPercent > max {
                    add(
                        "知识点 \(code) 的最低占比 \(Wording.percent(coverage.minPercent)) 高于最高占比 \(Wording.percent(max))",
                        "the minimum share of knowledge point \(code) (\(Wording.percent(coverage.minPercent))) is above its maximum (\(Wording.percent(max)))")
                }
            }
        }
        if !percentOK(rule.coverageTolerancePercent) {
            add("知识点比重的允许偏差须在 0–100% 之间", "the coverage tolerance must be 0 to 100%")
        }
        if !percentOK(rule.difficultyTolerancePercent) {
            add("难度比例的允许偏差须在 0–100% 之间", "the difficulty tolerance must be 0 to 100%")
        }
        var levels = Set<Int>()
        var sum = 0.0
        for share in rule.difficulty {
            if !(1...5).contains(share.difficulty) {
                add("难度 \(share.difficulty) 不存在（难度为 1–5）", "difficulty \(share.difficulty) does not exist (1 to 5)")
            } else if !levels.insert(share.difficulty).inserted {
                add("难度 \(share.difficulty) 的比例出现了两次", "difficulty \(share.difficulty) has two shares")
            }
            if !percentOK(share.percent) {
                add("难度 \(share.difficulty) 的比例须在 0–100% 之间", "the share of difficulty \(share.difficulty) must be 0 to 100%")
            } else {
                sum += share.percent
            }
        }
        if sum > 100 + 1e-9 {
            add("各难度比例之和为 \(Wording.percent(sum))，超过 100%", "the difficulty shares add up to \(Wording.percent(sum)), more than 100%")
        }
        if let maxUsage = rule.maxUsage, maxUsage < 0 {
            add("最多使用次数不能为负", "the usage limit cannot be negative")
        }
        if let recent = rule.excludeRecentPapers, recent < 0 || recent > 1000 {
            add("排除近期试卷的套数须在 0–1000 之间", "the number of recent papers to leave out must be 0 to 1000")
        }
        if !(1...4).contains(rule.papers) {
            add("平行卷套数须在 1–4 之间", "the number of parallel papers must be 1 to 4")
        }
        return found
    }

    /// A paper (perhaps edited by hand) against its rule: each section's size and type, questions known, active,
    /// within the usage limit and not repeated, none of `recentlyUsed` (what the caller resolved the rule's
    /// `excludeRecentPapers` to), every coverage constraint and every difficulty share.
    public static func evaluate(
        _ sections: [PaperDraft.Section], rule: AssemblyRule, bank: [Question.ID: BankQuestion], tree: KnowledgeTree,
        recentlyUsed: Set<Question.ID> = []
    ) -> [ConstraintReport] {
        var reports: [ConstraintReport] = []
        let coverage = rule.coverageTargets(tree: tree)
        let difficulty = rule.difficultyTargets

        // Sections: size, type, points.
        for (index, wanted) in rule.sections.enumerated() {
            let title = wanted.title ?? Wording.sectionTitle(index, wanted.type)
            let isCase = wanted.type == .caseAnalysis
            let constraint = Message(
                zh: isCase
                    ? "\(title)：\(wanted.type.nameZH) \(wanted.count) 道"
                    : "\(title)：\(wanted.type.nameZH) \(wanted.count) 道，每题 \(Wording.number(wanted.pointsEach)) 分",
                en: isCase
                    ? "section \(index + 1) (\(title)): \(wanted.count) \(Wording.englishName(wanted.type)) questions"
                    : "section \(index + 1) (\(title)): \(wanted.count) \(Wording.englishName(wanted.type)) questions at \(Wording.number(wanted.pointsEach)) points each")
            let target = isCase ? String(wanted.count) : "\(wanted.count) × \(Wording.number(wanted.pointsEach))"
            guard index < sections.count else {
                reports.append(ConstraintReport(constraint: constraint, target: target, achieved: "0", met: false))
                continue
            }
            let section = sections[index]
            let rightType = section.questions.filter { bank[$0]?.question.type == wanted.type }.count
            let wrong = section.questions.count - rightType
            // Points set by hand on single questions count: the section meets its rule only if every question has the
            // rule's points.
            let given = section.questions.map { section.points(of: $0) }
            let low = given.min() ?? section.pointsEach
            let high = given.max() ?? section.pointsEach
            let each = low == high ? Wording.number(low) : "\(Wording.number(low))–\(Wording.number(high))"
            var achieved = isCase ? String(rightType) : "\(rightType) × \(each)"
            if wrong > 0 { achieved += " (+\(wrong) ≠ \(wanted.type.rawValue))" }
            let met = section.type == wanted.type && wrong == 0 && rightType == wanted.count
                && (isCase || given.allSatisfy { abs($0 - wanted.pointsEach) < 1e-9 })
            reports.append(ConstraintReport(constraint: constraint, target: target, achieved: achieved, met: met))
        }
        if sections.count > rule.sections.count {
            reports.append(
                ConstraintReport(
                    constraint: Message(zh: "大题数", en: "number of sections"), target: String(rule.sections.count),
                    achieved: String(sections.count), met: false))
        }

        // The questions themselves.
        let ids = sections.flatMap(\.questions)
        let unknown = ids.filter { bank[$0] == nil }
        reports.append(
            ConstraintReport(
                constraint: Message(zh: "试题都在题库中", en: "every question is in the bank"), target: "0",
                achieved: unknown.isEmpty ? "0" : "\(unknown.count): " + unknown.prefix(5).map(\.rawValue).joined(separator: ", "),
                met: unknown.isEmpty))
        var seen = Set<Question.ID>()
        let repeated = ids.filter { !seen.insert($0).inserted }
        reports.append(
            ConstraintReport(
                constraint: Message(zh: "试题不重复", en: "no question appears twice"), target: "0",
                achieved: repeated.isEmpty ? "0" : "\(repeated.count): " + repeated.prefix(5).map(\.rawValue).joined(separator: ", "),
                met: repeated.isEmpty))
        let retired = ids.filter { bank[$0]?.status == .retired }
        reports.append(
            ConstraintReport(
                constraint: Message(zh: "只用在用试题（未停用）", en: "only active questions (none retired)"), target: "0",
                achieved: retired.isEmpty ? "0" : "\(retired.count): " + retired.prefix(5).map(\.rawValue).joined(separator: ", "),
                met: retired.isEmpty))
        if let maxUsage = rule.maxUsage {
            let most = ids.compactMap { bank[$0]?.usageCount }.max() ?? 0
            reports.append(
                ConstraintReport(
                    constraint: Message(zh: "每题使用次数不超过 \(maxUsage) 次", en: "each question used in at most \(maxUsage) papers"),
                    target: "≤ \(maxUsage)", achieved: "max \(most)", met: most <= maxUsage))
        }
        if !recentlyUsed.isEmpty || (rule.excludeRecentPapers ?? 0) > 0 {
            let recent = ids.filter { recentlyUsed.contains($0) }
            reports.append(
                ConstraintReport(
                    constraint: Message(
                        zh: "不用最近 \(rule.excludeRecentPapers ?? 0) 套试卷用过的试题",
                        en: "no question of the last \(rule.excludeRecentPapers ?? 0) papers"),
                    target: "0",
                    achieved: recent.isEmpty ? "0" : "\(recent.count): " + recent.prefix(5).map(\.rawValue).joined(separator: ", "),
                    met: recent.isEmpty))
        }

        // Coverage and difficulty, measured as the assembler measures them.
        var covered = [Double](repeating: 0, count: coverage.count)
        var levels = [Int](repeating: 0, count: 5)
        var total = 0.0
        var count = 0
        var lineages: [String: [String]] = [:]
        for section in sections {
            for id in section.questions {
                guard let entry = bank[id] else { continue }
                let points = entry.question.type == .caseAnalysis ? entry.question.points : section.points(of: id)
                total += points
                count += 1
                levels[AssemblyProblem.level(of: entry.question)] += 1
                var under = Set<String>()
                for code in entry.question.knowledgePoints {
                    if lineages[code] == nil { lineages[code] = tree.lineage(of: code) }
                    under.formUnion(lineages[code] ?? [])
                }
                for (k, target) in coverage.enumerated() where under.contains(target.code) { covered[k] += points }
            }
        }
        for (k, target) in coverage.enumerated() {
            let share = total > 0 ? 100 * covered[k] / total : 0
            reports.append(
                ConstraintReport(
                    constraint: target.label(tree: tree), target: Wording.range(target.lo, target.hi),
                    achieved: Wording.percent(share), met: target.contains(share)))
        }
        for target in difficulty {
            let share = count > 0 ? 100 * Double(levels[target.level - 1]) / Double(count) : 0
            reports.append(
                ConstraintReport(
                    constraint: target.label, target: Wording.range(target.lo, target.hi),
                    achieved: Wording.percent(share) + " (\(levels[target.level - 1])/\(count))", met: target.contains(share)))
        }
        return reports
    }
}

// MARK: - Targets

/// A coverage constraint as the search uses it: the point and its share of the paper's points, lo…hi percent.
struct CoverageTarget: Sendable, Hashable {
    var code: String
    var lo: Double
    var hi: Double
    var fromStandard: Bool

    func contains(_ share: Double) -> Bool { share >= lo - AssemblyProblem.slack && share <= hi + AssemblyProblem.slack }

    func label(tree: KnowledgeTree) -> Message {
        let point = Wording.point(code, tree)
        let source = fromStandard ? ("（鉴定标准比重）", " (the standard's weight)") : ("", "")
        return Message(
            zh: "\(point.zh) 占分值 \(Wording.range(lo, hi))\(source.0)",
            en: "\(point.en): \(Wording.range(lo, hi)) of the points\(source.1)")
    }
}

/// A difficulty share as the search uses it: questions of `level` make up lo…hi percent of the paper's questions.
struct DifficultyTarget: Sendable, Hashable {
    var level: Int
    var lo: Double
    var hi: Double

    func contains(_ share: Double) -> Bool { share >= lo - AssemblyProblem.slack && share <= hi + AssemblyProblem.slack }

    var label: Message {
        Message(
            zh: "难度 \(level) 的题量占 \(Wording.range(lo, hi))",
            en: "difficulty \(level): \(Wording.range(lo, hi)) of the questions")
    }
}

extension AssemblyRule {
    /// The explicit coverage constraints, then (with `useStandardWeights`) every weighted point of the tree not
    /// already named, as weight ± tolerance.
    func coverageTargets(tree: KnowledgeTree) -> [CoverageTarget] {
        var targets = coverage.map {
            CoverageTarget(code: $0.knowledgePoint, lo: $0.minPercent, hi: $0.maxPercent ?? 100, fromStandard: false)
        }
        if useStandardWeights {
            let named = Set(coverage.map(\.knowledgePoint))
            for code in tree.orderedCodes() where !named.contains(code) {
                guard let weight = tree.points[code]?.weight else { continue }
                targets.append(
                    CoverageTarget(
                        code: code, lo: max(0, weight - coverageTolerancePercent),
                        hi: min(100, weight + coverageTolerancePercent), fromStandard: true))
            }
        }
        return targets
    }

    var difficultyTargets: [DifficultyTarget] {
        difficulty.filter { (1...5).contains($0.difficulty) }.map {
            DifficultyTarget(
                level: $0.difficulty, lo: max(0, $0.percent - difficultyTolerancePercent),
                hi: min(100, $0.percent + difficultyTolerancePercent))
        }
    }
}
