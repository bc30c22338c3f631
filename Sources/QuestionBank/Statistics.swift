import ExamCore
import Foundation

/// Counts of a bank (题库统计): totals, by type, by difficulty, by type and difficulty, by knowledge point (each point
/// counting the questions tagged at it or anywhere below it).
public struct BankStatistics: Codable, Sendable, Hashable {
    /// Questions in one group, split by status.
    public struct Count: Codable, Sendable, Hashable {
        public var total: Int
        public var active: Int
        public var retired: Int
        public init(total: Int = 0, active: Int = 0, retired: Int = 0) {
            self.total = total
            self.active = active
            self.retired = retired
        }
        mutating func add(_ status: QuestionStatus) {
            total += 1
            if status == .active { active += 1 } else { retired += 1 }
        }
    }

    public struct TypeRow: Codable, Sendable, Hashable {
        public var type: QuestionType
        public var count: Count
    }

    /// `difficulty` nil: questions without a difficulty.
    public struct DifficultyRow: Codable, Sendable, Hashable {
        public var difficulty: Int?
        public var count: Count
    }

    public struct TypeDifficultyRow: Codable, Sendable, Hashable {
        public var type: QuestionType
        public var difficulty: Int?
        public var count: Count
    }

    public struct KnowledgePointRow: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        public var parent: String?
        /// The standard's weight (比重), percent.
        public var weight: Double?
        /// 0 for a top-level point.
        public var depth: Int
        /// Questions tagged at this point or below it (each question once).
        public var count: Count
        /// Questions tagged at exactly this point.
        public var direct: Int
    }

    public var totals: Count
    /// Every type, in ExamCore's order, including types with no questions.
    public var byType: [TypeRow]
    /// Difficulties 1–5, then (if any) questions without one.
    public var byDifficulty: [DifficultyRow]
    /// Only combinations that occur.
    public var byTypeAndDifficulty: [TypeDifficultyRow]
    /// Every point of the tree in reading order (depth first), including points with no questions.
    public var byKnowledgePoint: [KnowledgePointRow]
    /// Questions tagged with no knowledge point.
    public var withoutKnowledgePoint: Count
    /// Codes questions are tagged with that the tree does not know, with their counts.
    public var unknownKnowledgePoints: [String: Int]

    public init(questions: [BankQuestion], tree: KnowledgeTree) {
        var totals = Count()
        var byType: [QuestionType: Count] = [:]
        var byDifficulty: [Int: Count] = [:]
        var byPair: [String: (QuestionType, Int?, Count)] = [:]
        var byPoint: [String: Count] = [:]
        var direct: [String: Int] = [:]
        var without = Count()
        var unknown: [String: Int] = [:]
        var lineages: [String: [String]] = [:]
        for entry in questions {
            let question = entry.question
            totals.add(entry.status)
            byType[question.type, default: Count()].add(entry.status)
            let difficulty = question.difficulty
            byDifficulty[difficulty ?? 0, default: Count()].add(entry.status)
            let key = "\(question.type.rawValue)#\(difficulty ?? 0)"
            var pair = byPair[key] ?? (question.type, difficulty, Count())
            pair.2.add(entry.status)
            byPair[key] = pair
            if question.knowledgePoints.isEmpty { without.add(entry.status) }
            var under = Set<String>()
            for code in Set(question.knowledgePoints) {
                guard tree.points[code] != nil else {
                    unknown[code, default: 0] += 1
                    continue
                }
                direct[code, default: 0] += 1
                if lineages[code] == nil { lineages[code] = tree.lineage(of: code) }
                under.formUnion(lineages[code] ?? [])
            }
            for code in under { byPoint[code, default: Count()].add(entry.status) }
        }
        self.totals = totals
        self.byType = QuestionType.allCases.map { TypeRow(type: $0, count: byType[$0] ?? Count()) }
        var difficultyRows = (1...5).map { DifficultyRow(difficulty: $0, count: byDifficulty[$0] ?? Count()) }
        if let none = byDifficulty[0] { difficultyRows.append(DifficultyRow(difficulty: nil, count: none)) }
        self.byDifficulty = difficultyRows
        let typeOrder = Dictionary(uniqueKeysWithValues: QuestionType.allCases.enumerated().map { ($0.element, $0.offset) })
        self.byTypeAndDifficulty = byPair.values.map { TypeDifficultyRow(type: $0.0, difficulty: $0.1, count: $0.2) }
            .sorted {
                let a = typeOrder[$0.type] ?? 0, b = typeOrder[$1.type] ?? 0
                return a != b ? a < b : ($0.difficulty ?? 99) < ($1.difficulty ?? 99)
            }
        self.byKnowledgePoint = tree.orderedCodes().compactMap { code in
            guard let point = tree.points[code] else { return nil }
            return KnowledgePointRow(
                code: code, name: point.name, parent: point.parent, weight: point.weight, depth: tree.depth(of: code),
                count: byPoint[code] ?? Count(), direct: direct[code] ?? 0)
        }
        self.withoutKnowledgePoint = without
        self.unknownKnowledgePoints = unknown
    }

    /// The tables one after another, each under a title line, separated by an empty line; comma-separated, CRLF,
    /// quoted where needed, no byte-order mark. Opens in a spreadsheet as one sheet.
    public func csv() -> String {
        var lines: [String] = []
        func row(_ cells: [String]) { lines.append(cells.map(Self.quoted).joined(separator: ",")) }
        func counts(_ count: Count) -> [String] { [String(count.total), String(count.active), String(count.retired)] }
        func difficultyName(_ difficulty: Int?) -> String { difficulty.map(String.init) ?? "未标注 / none" }

        row(["总计 / Totals"])
        row(["合计 total", "在用 active", "停用 retired"])
        row(counts(totals))
        lines.append("")

        row(["按题型 / By type"])
        row(["题型 type", "代码 code", "合计 total", "在用 active", "停用 retired"])
        for item in byType { row([item.type.nameZH, item.type.rawValue] + counts(item.count)) }
        lines.append("")

        row(["按难度 / By difficulty"])
        row(["难度 difficulty", "合计 total", "在用 active", "停用 retired"])
        for item in byDifficulty { row([difficultyName(item.difficulty)] + counts(item.count)) }
        lines.append("")

        row(["按题型与难度 / By type and difficulty"])
        row(["题型 type", "代码 code", "难度 difficulty", "合计 total", "在用 active", "停用 retired"])
        for item in byTypeAndDifficulty {
            row([item.type.nameZH, item.type.rawValue, difficultyName(item.difficulty)] + counts(item.count))
        }
        lines.append("")

        row(["按知识点 / By knowledge point"])
        row([
            "知识点 code", "名称 name", "上级 parent", "层级 depth", "比重% weight", "合计（含下级） total", "在用 active",
            "停用 retired", "直接标注 direct",
        ])
        for item in byKnowledgePoint {
            row(
                [item.code, item.name, item.parent ?? "", String(item.depth), item.weight.map(Wording.number) ?? ""]
                    + counts(item.count) + [String(item.direct)])
        }
        row(["（无知识点）", "(none)", "", "", ""] + counts(withoutKnowledgePoint) + [""])
        for code in unknownKnowledgePoints.keys.sorted() {
            row([code, "（不在知识点体系中） (not in the tree)", "", "", "", String(unknownKnowledgePoints[code] ?? 0), "", "", ""])
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A cell as CSV writes it: quoted when it holds a comma, a quote or a line break. A leading =, +, - or @ gets an
    /// apostrophe so that a spreadsheet does not read the cell as a formula.
    static func quoted(_ cell: String) -> String { CSVText.field(cell) }
}
