import ExamCore
import QuestionBank
import Testing

@Suite struct KnowledgeTreeTests {
    let points = [
        KnowledgePoint(code: "1", name: "基础知识", weight: 30), KnowledgePoint(code: "1.1", name: "安全", parent: "1"),
        KnowledgePoint(code: "1.1.1", name: "用电安全", parent: "1.1"), KnowledgePoint(code: "2", name: "操作技能", weight: 70),
    ]

    @Test func lineageWalksUpToTheRoot() {
        let tree = KnowledgeTree(points)
        #expect(tree.lineage(of: "1.1.1") == ["1.1.1", "1.1", "1"])
        #expect(tree.isUnder("1.1.1", "1"))
        #expect(!tree.isUnder("1.1.1", "2"))
        #expect(tree.roots == ["1", "2"])
    }

    @Test func problemsNameUnknownParentsLoopsAndDuplicates() {
        #expect(KnowledgeTree.problems(points).isEmpty)
        let bad = points + [
            KnowledgePoint(code: "2", name: "again"), KnowledgePoint(code: "3", name: "orphan", parent: "9"),
            KnowledgePoint(code: "4", name: "a", parent: "5"), KnowledgePoint(code: "5", name: "b", parent: "4"),
        ]
        let messages = KnowledgeTree.problems(bad).map(\.en)
        #expect(messages.contains("knowledge point code 2 appears twice"))
        #expect(messages.contains("the parent 9 of knowledge point 3 does not exist"))
        #expect(messages.contains { $0.contains("form a loop") })
    }

    @Test func skillTaskProblemsAndPoints() {
        let task = SkillTask(
            id: "T1", title: "配线", description: "完成照明电路配线", durationMinutes: 90,
            scoringItems: [
                ScoringItem(id: "a", description: "元件安装", points: 20, deduction: "每错一处扣 2 分"),
                ScoringItem(id: "b", description: "通电试验", points: 30, deduction: "一次不成功扣 10 分"),
            ])
        #expect(task.points == 50)
        #expect(task.problems().isEmpty)
        var bad = task
        bad.scoringItems.append(ScoringItem(id: "a", description: "", points: 0, deduction: ""))
        bad.durationMinutes = 0
        #expect(bad.problems().count == 4)
    }
}
