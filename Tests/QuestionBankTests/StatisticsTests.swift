import ExamCore
import Foundation
import QuestionBank
import Testing

@Suite struct StatisticsTests {
    static let tree = KnowledgeTree([
        KnowledgePoint(code: "1", name: "基础知识", weight: 30), KnowledgePoint(code: "1.1", name: "安全", parent: "1"),
        KnowledgePoint(code: "1.1.1", name: "用电安全", parent: "1.1"), KnowledgePoint(code: "2", name: "操作技能", weight: 70),
        KnowledgePoint(code: "3", name: "相关知识, 其他"),
    ])

    static let questions = [
        Fixtures.question("a", points: ["1.1.1"], difficulty: 1),
        Fixtures.question("b", points: ["1.1.1"], difficulty: 1, status: .retired),
        Fixtures.question("c", .trueFalse, points: ["1.1"], difficulty: 2),
        Fixtures.question("d", .trueFalse, points: ["2"], difficulty: nil),
        // Tagged twice under 1: counts once for 1 and 1.1.
        Fixtures.question("e", .caseAnalysis, points: ["1.1.1", "1.1"], difficulty: 5),
        Fixtures.question("f", points: ["9.9"], difficulty: 3),
        Fixtures.question("g", points: [], difficulty: 3),
    ]

    @Test func countsRollUpTheTreeAndKeepEmptyPoints() throws {
        let stats = BankStatistics(questions: Self.questions, tree: Self.tree)
        #expect(stats.totals == .init(total: 7, active: 6, retired: 1))
        #expect(stats.byType.first { $0.type == .singleChoice }?.count == .init(total: 4, active: 3, retired: 1))
        #expect(stats.byType.first { $0.type == .essay }?.count == .init())
        #expect(stats.byType.count == QuestionType.allCases.count)
        #expect(stats.byDifficulty.map(\.count.total) == [2, 1, 2, 0, 1, 1])
        #expect(stats.byDifficulty.last?.difficulty == nil)
        #expect(stats.byTypeAndDifficulty.first { $0.type == .singleChoice && $0.difficulty == 1 }?.count.total == 2)
        #expect(stats.byTypeAndDifficulty.first { $0.type == .trueFalse && $0.difficulty == nil }?.count.total == 1)

        let rows = Dictionary(uniqueKeysWithValues: stats.byKnowledgePoint.map { ($0.code, $0) })
        #expect(stats.byKnowledgePoint.map(\.code) == ["1", "1.1", "1.1.1", "2", "3"])
        #expect(rows["1.1.1"]?.count == .init(total: 3, active: 2, retired: 1))
        #expect(rows["1.1"]?.count.total == 4)
        #expect(rows["1.1"]?.direct == 2)
        #expect(rows["1"]?.count.total == 4)
        #expect(rows["1"]?.direct == 0)
        #expect(rows["1"]?.weight == 30)
        #expect(rows["1.1.1"]?.parent == "1.1")
        #expect(rows["1.1.1"]?.depth == 2)
        #expect(rows["2"]?.count.total == 1)
        #expect(rows["3"]?.count == .init())
        #expect(stats.withoutKnowledgePoint.total == 1)
        #expect(stats.unknownKnowledgePoints == ["9.9": 1])

        let data = try JSONEncoder().encode(stats)
        #expect(try JSONDecoder().decode(BankStatistics.self, from: data) == stats)
    }

    @Test func csvHoldsEveryTableForASpreadsheet() {
        let csv = BankStatistics(questions: Self.questions, tree: Self.tree).csv()
        #expect(!csv.hasPrefix("\u{FEFF}"))
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == "总计 / Totals")
        #expect(lines[1] == "合计 total,在用 active,停用 retired")
        #expect(lines[2] == "7,6,1")
        for title in ["按题型 / By type", "按难度 / By difficulty", "按题型与难度 / By type and difficulty", "按知识点 / By knowledge point"] {
            #expect(lines.contains(title), "\(title) missing")
        }
        #expect(lines.contains("单选题,singleChoice,4,3,1"))
        #expect(lines.contains("未标注 / none,1,1,0"))
        #expect(lines.contains("判断题,trueFalse,2,1,1,0"))
        #expect(lines.contains("1.1.1,用电安全,1.1,2,,3,2,1,3"))
        #expect(lines.contains("1,基础知识,,0,30,4,3,1,0"))
        // A name with a comma is quoted.
        #expect(lines.contains("3,\"相关知识, 其他\",,0,,0,0,0,0"))
        #expect(lines.contains { $0.hasPrefix("9.9,") })
        // Each table is followed by an empty line.
        #expect(lines.filter(\.isEmpty).count == 5)
    }
}
