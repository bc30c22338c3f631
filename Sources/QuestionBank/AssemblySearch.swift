import ExamCore
import Foundation

/// One assembly job: the usable questions grouped for the search, the necessary checks, the local search itself.
struct AssemblyProblem {
    /// How far (in percentage points) a share may stray past its bound and still count as met: rounding only.
    static let slack = 1e-6

    /// A question that may go into the paper, reduced to what the search needs.
    struct Candidate {
        let id: Question.ID
        /// Its own points; used only in case-analysis sections.
        let ownPoints: Double
        /// Difficulty 1–5 as 0–4 (none counts as 3).
        let level: Int
        /// The coverage targets it counts towards.
        let covers: [Int]
    }

    /// Why questions of one type are not available, for the shortage message.
    struct Exclusions {
        var total = 0, retired = 0, overused = 0, recent = 0
    }

    /// One paper during the search.
    struct PaperState {
        /// Per rule section, candidate indices.
        var slots: [[Int]]
        /// Per coverage target, the paper points under its knowledge point.
        var covered: [Double]
        /// Questions per difficulty level 0–4.
        var levels: [Int]
        var total: Double
    }

    /// What a move tries to fix.
    enum Aim {
        case moreCoverage(Int), lessCoverage(Int), moreLevel(Int), lessLevel(Int), any
    }

    let rule: AssemblyRule
    let tree: KnowledgeTree
    let coverage: [CoverageTarget]
    let difficulty: [DifficultyTarget]
    let candidates: [Candidate]
    let pools: [[Int]]
    let poolCovering: [[[Int]]]
    let poolLevel: [[[Int]]]
    let sectionsCovering: [[Int]]
    let sectionsWithLevel: [[Int]]
    let available: [QuestionType: [Int]]
    let exclusions: [QuestionType: Exclusions]
    let counts: [Int]
    let pointsEach: [Double]
    let isCase: [Bool]
    let questionCount: Int
    let paperCount: Int
    /// Section of each slot of a paper, flattened, so that a random slot is a random question of the paper.
    let slotSection: [Int]

    static func level(of question: Question) -> Int { min(5, max(1, question.difficulty ?? 3)) - 1 }

    init(rule: AssemblyRule, bank: [BankQuestion], tree: KnowledgeTree, recentlyUsed: Set<Question.ID>) {
        self.rule = rule
        self.tree = tree
        let coverage = rule.coverageTargets(tree: tree)
        self.coverage = coverage
        self.difficulty = rule.difficultyTargets
        var targetsByCode: [String: [Int]] = [:]
        for (k, target) in coverage.enumerated() { targetsByCode[target.code, default: []].append(k) }

        // Sorted by id, so that the same bank in any order gives the same papers.
        let sorted = bank.sorted { $0.id < $1.id }
        var candidates: [Candidate] = []
        var available: [QuestionType: [Int]] = [:]
        var exclusions: [QuestionType: Exclusions] = [:]
        var coversByCode: [String: [Int]] = [:]
        var previous: Question.ID?
        for entry in sorted {
            if entry.id == previous { continue }
            previous = entry.id
            let type = entry.question.type
            exclusions[type, default: Exclusions()].total += 1
            if entry.status != .active {
                exclusions[type, default: Exclusions()].retired += 1
                continue
            }
            if let maxUsage = rule.maxUsage, entry.usageCount > maxUsage {
                exclusions[type, default: Exclusions()].overused += 1
                continue
            }
            if recentlyUsed.contains(entry.id) {
                exclusions[type, default: Exclusions()].recent += 1
                continue
            }
            var covers: [Int] = []
            for code in entry.question.knowledgePoints {
                if coversByCode[code] == nil {
                    coversByCode[code] = tree.lineage(of: code).flatMap { targetsByCode[$0] ?? [] }
                }
                for k in coversByCode[code] ?? [] where !covers.contains(k) { covers.append(k) }
            }
            available[type, default: []].append(candidates.count)
            candidates.append(
                Candidate(
                    id: entry.id, ownPoints: entry.question.points, level: Self.level(of: entry.question),
                    covers: covers.sorted()))
        }
        self.candidates = candidates
        self.available = available
        self.exclusions = exclusions

        let sections = rule.sections
        counts = sections.map(\.count)
        pointsEach = sections.map(\.pointsEach)
        isCase = sections.map { $0.type == .caseAnalysis }
        questionCount = counts.reduce(0, +)
        paperCount = rule.papers
        slotSection = sections.indices.flatMap { Array(repeating: $0, count: max(0, sections[$0].count)) }
        let pools = sections.map { available[$0.type] ?? [] }
        self.pools = pools
        let poolCovering = pools.map { pool in
            var lists = [[Int]](repeating: [], count: coverage.count)
            for c in pool { for k in candidates[c].covers { lists[k].append(c) } }
            return lists
        }
        let poolLevel = pools.map { pool in
            var lists = [[Int]](repeating: [], count: 5)
            for c in pool { lists[candidates[c].level].append(c) }
            return lists
        }
        self.poolCovering = poolCovering
        self.poolLevel = poolLevel
        sectionsCovering = coverage.indices.map { k in sections.indices.filter { !poolCovering[$0][k].isEmpty } }
        sectionsWithLevel = (0..<5).map { level in sections.indices.filter { !poolLevel[$0][level].isEmpty } }
    }

    // MARK: Necessary checks

    /// Problems no search can get round: unknown points, too few questions of a type, coverage or difficulty shares
    /// beyond what the usable questions could give whatever is chosen.
    func necessaryProblems() -> [Message] {
        var found: [Message] = []
        for target in coverage where tree.points[target.code] == nil {
            found.append(
                Message(
                    zh: "知识点 \(target.code) 不在本题库的知识点体系中",
                    en: "knowledge point \(target.code) is not in this bank's knowledge tree"))
        }
        // Questions of each type, in the order the sections name the types.
        var types: [QuestionType] = []
        for section in rule.sections where !types.contains(section.type) { types.append(section.type) }
        var short = false
        for type in types {
            let perPaper = rule.sections.filter { $0.type == type }.reduce(0) { $0 + $1.count }
            let needed = perPaper * paperCount
            let have = available[type]?.count ?? 0
            guard have < needed else { continue }
            short = true
            let name = type.nameZH, nameEN = Wording.englishName(type)
            let excluded = exclusions[type] ?? Exclusions()
            var whyZH = "题库共 \(excluded.total) 道"
            var whyEN = "the bank holds \(excluded.total)"
            if excluded.retired > 0 { whyZH += "，停用 \(excluded.retired) 道"; whyEN += ", \(excluded.retired) retired" }
            if excluded.overused > 0 {
                whyZH += "，使用次数超过 \(rule.maxUsage ?? 0) 次的 \(excluded.overused) 道"
                whyEN += ", \(excluded.overused) used more than \(rule.maxUsage ?? 0) times"
            }
            if excluded.recent > 0 { whyZH += "，近期试卷用过 \(excluded.recent) 道"; whyEN += ", \(excluded.recent) in recent papers" }
            if paperCount > 1 {
                found.append(
                    Message(
                        zh: "\(name)需要 \(needed) 道（\(paperCount) 套平行卷各 \(perPaper) 道，不能重复），可用 \(have) 道（缺 \(needed - have) 道；\(whyZH)）",
                        en: "\(nameEN): \(needed) questions needed (\(perPaper) in each of \(paperCount) parallel papers, none shared), \(have) available (\(needed - have) short; \(whyEN))"))
            } else {
                found.append(
                    Message(
                        zh: "\(name)需要 \(needed) 道，可用 \(have) 道（缺 \(needed - have) 道；\(whyZH)）",
                        en: "\(nameEN): \(needed) questions needed, \(have) available (\(needed - have) short; \(whyEN))"))
            }
        }
        // Shares are only worth bounding once every section can be filled.
        guard !short, found.isEmpty else { return found }
        found += coverageBoundProblems()
        found += difficultyBoundProblems(types: types)
        return found
    }

    /// For each coverage target, the largest and smallest share any paper could have (for parallel papers, the
    /// average paper), against the target.
    private func coverageBoundProblems() -> [Message] {
        var found: [Message] = []
        let papers = Double(paperCount)
        for (k, target) in coverage.enumerated() {
            var maxCovered = 0.0, minOther = 0.0, minCovered = 0.0, maxOther = 0.0
            for s in rule.sections.indices {
                let count = counts[s]
                let under = poolCovering[s][k].count
                let other = pools[s].count - under
                if !isCase[s] {
                    let points = pointsEach[s]
                    let mostUnder = min(Double(count), Double(under) / papers)
                    maxCovered += mostUnder * points
                    minOther += (Double(count) - mostUnder) * points
                    let mostOther = min(Double(count), Double(other) / papers)
                    minCovered += (Double(count) - mostOther) * points
                    maxOther += mostOther * points
                } else {
                    let underSet = Set(poolCovering[s][k])
                    let underPoints = poolCovering[s][k].map { candidates[$0].ownPoints }.sorted(by: >)
                    let otherPoints = pools[s].filter { !underSet.contains($0) }.map { candidates[$0].ownPoints }.sorted(by: >)
                    let mostUnder = min(count, Int((Double(under) / papers).rounded(.up)))
                    maxCovered += underPoints.prefix(mostUnder).reduce(0, +)
                    minOther += otherPoints.suffix(max(0, count - mostUnder)).reduce(0, +)
                    let mostOther = min(count, Int((Double(other) / papers).rounded(.up)))
                    minCovered += underPoints.suffix(max(0, count - mostOther)).reduce(0, +)
                    maxOther += otherPoints.prefix(mostOther).reduce(0, +)
                }
            }
            let highest = maxCovered + minOther > 0 ? 100 * maxCovered / (maxCovered + minOther) : 0
            let lowest = minCovered + maxOther > 0 ? 100 * minCovered / (minCovered + maxOther) : 0
            let point = Wording.point(target.code, tree)
            let each = paperCount > 1 ? ("每套", "each paper ") : ("", "")
            if highest < target.lo - Self.slack {
                let gap = Wording.number(((target.lo - highest) * 10).rounded() / 10)
                found.append(
                    Message(
                        zh: "\(point.zh) \(each.0)至少需占 \(Wording.percent(target.lo)) 的分值，题库最多能提供 \(Wording.percent(highest))（差 \(gap) 个百分点）",
                        en: "\(point.en) needs at least \(Wording.percent(target.lo)) of \(each.1)the points; the bank can give at most \(Wording.percent(highest)) (\(gap) percentage points short)"))
            } else if lowest > target.hi + Self.slack {
                let gap = Wording.number(((lowest - target.hi) * 10).rounded() / 10)
                found.append(
                    Message(
                        zh: "\(point.zh) \(each.0)最多占 \(Wording.percent(target.hi)) 的分值，但可用试题中其他知识点的题不够，至少要占 \(Wording.percent(lowest))（超出 \(gap) 个百分点）",
                        en: "\(point.en) may have at most \(Wording.percent(target.hi)) of \(each.1)the points, but there are too few questions on other points: at least \(Wording.percent(lowest)) (\(gap) percentage points over)"))
            }
        }
        return found
    }

    /// For each difficulty share: whether a whole number of questions fits it, and whether the usable questions hold
    /// enough of that difficulty (and enough of the others).
    private func difficultyBoundProblems(types: [QuestionType]) -> [Message] {
        var found: [Message] = []
        let n = questionCount
        for target in difficulty {
            let level = target.level - 1
            let least = Int((target.lo * Double(n) / 100 - 1e-9).rounded(.up))
            let most = Int((target.hi * Double(n) / 100 + 1e-9).rounded(.down))
            if least > most {
                found.append(
                    Message(
                        zh: "难度 \(target.level) 的题量须占 \(Wording.range(target.lo, target.hi))，但 \(n) 道题中没有哪个整数道能做到",
                        en: "difficulty \(target.level) must be \(Wording.range(target.lo, target.hi)) of \(n) questions; no whole number of questions does that"))
                continue
            }
            var supply = 0, forced = 0
            for type in types {
                let wanted = rule.sections.filter { $0.type == type }.reduce(0) { $0 + $1.count } * paperCount
                let pool = available[type] ?? []
                let atLevel = pool.filter { candidates[$0].level == level }.count
                supply += min(wanted, atLevel)
                forced += max(0, wanted - (pool.count - atLevel))
            }
            let needed = least * paperCount
            let allowed = most * paperCount
            let perPaper = paperCount > 1 ? ("（\(paperCount) 套各至少 \(least) 道）", " (\(least) in each of \(paperCount) papers)") : ("", "")
            if supply < needed {
                found.append(
                    Message(
                        zh: "难度 \(target.level) 的试题至少需要 \(needed) 道\(perPaper.0)（占 \(Wording.range(target.lo, target.hi))），可用 \(supply) 道（缺 \(needed - supply) 道）",
                        en: "difficulty \(target.level) needs at least \(needed) questions\(perPaper.1) (\(Wording.range(target.lo, target.hi))); \(supply) are available (\(needed - supply) short)"))
            } else if forced > allowed {
                found.append(
                    Message(
                        zh: "难度 \(target.level) 的试题最多 \(allowed) 道（占 \(Wording.range(target.lo, target.hi))），但其他难度的可用试题不够，至少要用 \(forced) 道（多 \(forced - allowed) 道）",
                        en: "difficulty \(target.level) allows at most \(allowed) questions (\(Wording.range(target.lo, target.hi))), but there are too few of other difficulties: at least \(forced) would be used (\(forced - allowed) over)"))
            }
        }
        return found
    }

    // MARK: Search

    private func points(_ s: Int, _ c: Int) -> Double { isCase[s] ? candidates[c].ownPoints : pointsEach[s] }

    /// How far the paper is from meeting every share, in percentage points summed over the constraints.
    func violation(_ state: PaperState) -> Double {
        var total = 0.0
        let paperPoints = state.total > 0 ? state.total : 1
        for k in coverage.indices {
            let share = 100 * state.covered[k] / paperPoints
            let target = coverage[k]
            if share < target.lo { total += target.lo - share } else if share > target.hi { total += share - target.hi }
        }
        let n = Double(max(1, questionCount))
        for target in difficulty {
            let share = 100 * Double(state.levels[target.level - 1]) / n
            if share < target.lo { total += target.lo - share } else if share > target.hi { total += share - target.hi }
        }
        return total
    }

    func isMet(_ state: PaperState) -> Bool { violation(state) <= Self.slack }

    private func replace(_ state: inout PaperState, _ s: Int, _ position: Int, with c: Int) {
        let old = state.slots[s][position]
        let oldPoints = points(s, old), newPoints = points(s, c)
        state.total += newPoints - oldPoints
        for k in candidates[old].covers { state.covered[k] -= oldPoints }
        for k in candidates[c].covers { state.covered[k] += newPoints }
        state.levels[candidates[old].level] -= 1
        state.levels[candidates[c].level] += 1
        state.slots[s][position] = c
    }

    /// A recount from the slots, so that rounding from many swaps does not build up.
    private func recounted(_ slots: [[Int]]) -> PaperState {
        var state = PaperState(
            slots: slots, covered: [Double](repeating: 0, count: coverage.count), levels: [Int](repeating: 0, count: 5), total: 0)
        for (s, section) in slots.enumerated() {
            for c in section {
                let p = points(s, c)
                state.total += p
                for k in candidates[c].covers { state.covered[k] += p }
                state.levels[candidates[c].level] += 1
            }
        }
        return state
    }

    /// A random paper with the right number of questions in each section, none in use already.
    private func randomPaper(_ inUse: inout [Bool], _ generator: inout SeededGenerator) -> PaperState {
        var slots: [[Int]] = []
        for s in rule.sections.indices {
            var order = pools[s]
            var chosen: [Int] = []
            var i = 0
            while chosen.count < counts[s] && i < order.count {
                let j = i + generator.below(order.count - i)
                order.swapAt(i, j)
                let c = order[i]
                i += 1
                if !inUse[c] {
                    inUse[c] = true
                    chosen.append(c)
                }
            }
            slots.append(chosen)
        }
        return recounted(slots)
    }

    private func drawUnused(
        _ list: [Int], _ inUse: [Bool], _ generator: inout SeededGenerator, where accept: (Int) -> Bool = { _ in true }
    ) -> Int? {
        guard !list.isEmpty else { return nil }
        for _ in 0..<24 {
            let c = list[generator.below(list.count)]
            if !inUse[c] && accept(c) { return c }
        }
        return nil
    }

    private func findSlot(
        _ state: PaperState, _ s: Int, _ generator: inout SeededGenerator, where accept: (Int) -> Bool
    ) -> Int? {
        let slots = state.slots[s]
        guard !slots.isEmpty else { return nil }
        let start = generator.below(slots.count)
        for step in 0..<slots.count {
            let position = (start + step) % slots.count
            if accept(slots[position]) { return position }
        }
        return nil
    }

    private func propose(
        _ state: PaperState, _ aim: Aim, _ inUse: [Bool], _ generator: inout SeededGenerator
    ) -> (section: Int, position: Int, candidate: Int)? {
        switch aim {
        case .moreCoverage(let k):
            let sections = sectionsCovering[k]
            guard !sections.isEmpty else { return nil }
            let s = sections[generator.below(sections.count)]
            guard let c = drawUnused(poolCovering[s][k], inUse, &generator),
                let position = findSlot(state, s, &generator, where: { !candidates[$0].covers.contains(k) })
            else { return nil }
            return (s, position, c)
        case .lessCoverage(let k):
            for _ in 0..<4 {
                let s = slotSection[generator.below(slotSection.count)]
                guard let position = findSlot(state, s, &generator, where: { candidates[$0].covers.contains(k) }) else { continue }
                guard let c = drawUnused(pools[s], inUse, &generator, where: { !candidates[$0].covers.contains(k) }) else { continue }
                return (s, position, c)
            }
            return nil
        case .moreLevel(let level):
            let sections = sectionsWithLevel[level]
            guard !sections.isEmpty else { return nil }
            let s = sections[generator.below(sections.count)]
            guard let c = drawUnused(poolLevel[s][level], inUse, &generator),
                let position = findSlot(state, s, &generator, where: { candidates[$0].level != level })
            else { return nil }
            return (s, position, c)
        case .lessLevel(let level):
            for _ in 0..<4 {
                let s = slotSection[generator.below(slotSection.count)]
                guard let position = findSlot(state, s, &generator, where: { candidates[$0].level == level }) else { continue }
                guard let c = drawUnused(pools[s], inUse, &generator, where: { candidates[$0].level != level }) else { continue }
                return (s, position, c)
            }
            return nil
        case .any:
            let s = slotSection[generator.below(slotSection.count)]
            guard let c = drawUnused(pools[s], inUse, &generator), !state.slots[s].isEmpty else { return nil }
            return (s, generator.below(state.slots[s].count), c)
        }
    }

    private func aims(_ state: PaperState) -> [Aim] {
        var result: [Aim] = []
        let paperPoints = state.total > 0 ? state.total : 1
        for k in coverage.indices {
            let share = 100 * state.covered[k] / paperPoints
            if share < coverage[k].lo - Self.slack { result.append(.moreCoverage(k)) }
            if share > coverage[k].hi + Self.slack { result.append(.lessCoverage(k)) }
        }
        let n = Double(max(1, questionCount))
        for target in difficulty {
            let share = 100 * Double(state.levels[target.level - 1]) / n
            if share < target.lo - Self.slack { result.append(.moreLevel(target.level - 1)) }
            if share > target.hi + Self.slack { result.append(.lessLevel(target.level - 1)) }
        }
        return result
    }

    /// The papers found: all constraints met if the search managed it, else the least violating it saw.
    func search(generator: inout SeededGenerator) -> [PaperState] {
        let slotsInAll = questionCount * paperCount
        let iterations = 300 * slotsInAll + 5_000
        let stallLimit = 40 * slotsInAll + 2_000
        var best: (states: [PaperState], violation: Double)?
        for _ in 0..<4 {
            var inUse = [Bool](repeating: false, count: candidates.count)
            var states: [PaperState] = []
            for _ in 0..<paperCount { states.append(randomPaper(&inUse, &generator)) }
            var violations = states.map(violation)
            var lowest = violations.reduce(0, +)
            var stalled = 0
            for _ in 0..<iterations {
                let missing = violations.indices.filter { violations[$0] > Self.slack }
                if missing.isEmpty { break }
                let p = missing[generator.below(missing.count)]
                let open = aims(states[p])
                let aim: Aim = !open.isEmpty && generator.unit() < 0.85 ? open[generator.below(open.count)] : .any
                var chosen: (section: Int, position: Int, candidate: Int, violation: Double)?
                for _ in 0..<8 {
                    guard let move = propose(states[p], aim, inUse, &generator) else { continue }
                    let old = states[p].slots[move.section][move.position]
                    replace(&states[p], move.section, move.position, with: move.candidate)
                    let after = violation(states[p])
                    replace(&states[p], move.section, move.position, with: old)
                    if chosen == nil || after < chosen!.violation {
                        chosen = (move.section, move.position, move.candidate, after)
                    }
                }
                if let move = chosen, move.violation <= violations[p] + 1e-12 {
                    let old = states[p].slots[move.section][move.position]
                    replace(&states[p], move.section, move.position, with: move.candidate)
                    inUse[old] = false
                    inUse[move.candidate] = true
                    violations[p] = move.violation
                }
                let sum = violations.reduce(0, +)
                if sum < lowest - 1e-9 {
                    lowest = sum
                    stalled = 0
                } else {
                    stalled += 1
                    if stalled > stallLimit { break }
                }
            }
            states = states.map { recounted($0.slots) }
            let sum = states.map(violation).reduce(0, +)
            if best == nil || sum < best!.violation { best = (states, sum) }
            if states.allSatisfy(isMet) { break }
        }
        return best?.states ?? []
    }

    /// The constraints the best papers found still miss, and by how much.
    func unmetProblems(_ states: [PaperState]) -> [Message] {
        var found: [Message] = []
        for (index, state) in states.enumerated() {
            let prefix = paperCount > 1 ? ("\(Wording.paperLabel(index)) 卷：", "paper \(Wording.paperLabel(index)): ") : ("", "")
            let paperPoints = state.total > 0 ? state.total : 1
            func gap(_ share: Double, _ lo: Double, _ hi: Double) -> (zh: String, en: String) {
                if share < lo {
                    let by = Wording.number(((lo - share) * 10).rounded() / 10)
                    return ("差 \(by) 个百分点", "\(by) percentage points short")
                }
                let by = Wording.number(((share - hi) * 10).rounded() / 10)
                return ("超出 \(by) 个百分点", "\(by) percentage points over")
            }
            for (k, target) in coverage.enumerated() {
                let share = 100 * state.covered[k] / paperPoints
                guard !target.contains(share) else { continue }
                let point = Wording.point(target.code, tree)
                let by = gap(share, target.lo, target.hi)
                found.append(
                    Message(
                        zh: "\(prefix.0)\(point.zh) 需占分值 \(Wording.range(target.lo, target.hi))，找到的最好试卷为 \(Wording.percent(share))（\(by.zh)）",
                        en: "\(prefix.1)\(point.en) needs \(Wording.range(target.lo, target.hi)) of the points; the best paper found has \(Wording.percent(share)) (\(by.en))"))
            }
            let n = Double(max(1, questionCount))
            for target in difficulty {
                let share = 100 * Double(state.levels[target.level - 1]) / n
                guard !target.contains(share) else { continue }
                let by = gap(share, target.lo, target.hi)
                found.append(
                    Message(
                        zh: "\(prefix.0)难度 \(target.level) 的题量需占 \(Wording.range(target.lo, target.hi))，找到的最好试卷为 \(Wording.percent(share))（\(by.zh)）",
                        en: "\(prefix.1)difficulty \(target.level) needs \(Wording.range(target.lo, target.hi)) of the questions; the best paper found has \(Wording.percent(share)) (\(by.en))"))
            }
        }
        return found
    }

    func draftSections(_ state: PaperState) -> [PaperDraft.Section] {
        rule.sections.enumerated().map { s, section in
            PaperDraft.Section(
                title: section.title ?? Wording.sectionTitle(s, section.type), type: section.type,
                pointsEach: section.pointsEach, questions: state.slots[s].map { candidates[$0].id })
        }
    }
}
