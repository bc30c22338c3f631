import Foundation

/// One thing to prepare for a skill task (准备清单): a tool, a material, a piece of equipment.
public struct PreparationItem: Codable, Sendable, Hashable {
    public var name: String
    public var specification: String?
    public var quantity: String?
    public var note: String?

    public init(name: String, specification: String? = nil, quantity: String? = nil, note: String? = nil) {
        self.name = name
        self.specification = specification
        self.quantity = quantity
        self.note = note
    }
}

/// One scoring item (评分项) of a skill task's scoring sheet.
public struct ScoringItem: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    /// What is assessed (考核内容/评分要素).
    public var description: String
    /// The most it can score (配分).
    public var points: Double
    /// How points are taken off (评分标准/扣分说明), e.g. "每错一处扣 2 分，扣完为止".
    public var deduction: String

    public init(id: String, description: String, points: Double, deduction: String) {
        self.id = id
        self.description = description
        self.points = points
        self.deduction = deduction
    }
}

/// A skill-operation task (技能操作试题) with its scoring items and what the candidate and the room must prepare.
public struct SkillTask: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<SkillTask>
    public var id: ID
    public var title: String
    /// The task as the candidate reads it (试题内容与要求).
    public var description: String
    public var durationMinutes: Int
    public var knowledgePoints: [String]
    public var difficulty: Int?
    public var scoringItems: [ScoringItem]
    /// 考生准备
    public var candidatePreparation: [PreparationItem]
    /// 考场准备
    public var roomPreparation: [PreparationItem]

    public var points: Double { scoringItems.reduce(0) { $0 + $1.points } }

    public init(
        id: ID, title: String, description: String, durationMinutes: Int, knowledgePoints: [String] = [],
        difficulty: Int? = nil, scoringItems: [ScoringItem], candidatePreparation: [PreparationItem] = [],
        roomPreparation: [PreparationItem] = []
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.durationMinutes = durationMinutes
        self.knowledgePoints = knowledgePoints
        self.difficulty = difficulty
        self.scoringItems = scoringItems
        self.candidatePreparation = candidatePreparation
        self.roomPreparation = roomPreparation
    }

    /// Everything wrong with the task, in words an editor can act on; empty when it can be used.
    public func problems() -> [Message] {
        var found: [Message] = []
        func add(_ zh: String, _ en: String) { found.append(Message(zh: "试题 \(id)：\(zh)", en: "task \(id): \(en)")) }
        if !isWellFormedIdentifier(id.rawValue) {
            add("编号只能包含字母、数字、-、_、.，长度 1–64", "the id may only hold letters, digits, '-', '_', '.', 1 to 64 characters")
        }
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { add("没有标题", "it has no title") }
        if description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { add("没有试题内容", "it has no description") }
        if !(1...1440).contains(durationMinutes) { add("考核时间须在 1–1440 分钟之间", "the time must be 1 to 1440 minutes") }
        if let difficulty, !(1...5).contains(difficulty) { add("难度必须在 1 到 5 之间", "difficulty must be between 1 and 5") }
        if scoringItems.isEmpty { add("没有评分项", "it has no scoring items") }
        var ids = Set<String>()
        for item in scoringItems {
            if !ids.insert(item.id).inserted { add("评分项编号 \(item.id) 重复", "scoring item \(item.id) appears twice") }
            if item.description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                add("评分项 \(item.id) 没有考核内容", "scoring item \(item.id) has no description")
            }
            if !(item.points.isFinite && item.points > 0 && item.points <= 1000) {
                add("评分项 \(item.id) 的配分必须大于 0", "scoring item \(item.id) must carry more than 0 points")
            }
        }
        for item in candidatePreparation + roomPreparation where item.name.trimmingCharacters(in: .whitespaces).isEmpty {
            add("准备清单中有未命名的物品", "a preparation list holds an item without a name")
        }
        return found
    }
}

/// A skill paper as the venue gets it: the tasks, in order, that candidates of a skill sitting perform and examiners
/// score item by item on the scoring sheet (评分表).
public struct SkillPaper: Codable, Sendable, Hashable, Identifiable {
    public var id: Paper.ID
    public var title: String
    public var tasks: [SkillTask]

    public init(id: Paper.ID, title: String, tasks: [SkillTask]) {
        self.id = id
        self.title = title
        self.tasks = tasks
    }

    public var points: Double { tasks.reduce(0) { $0 + $1.points } }

    /// Everything wrong with the paper: no tasks, a task twice, and each task's own problems.
    public func problems() -> [Message] {
        var found: [Message] = []
        if tasks.isEmpty { found.append(Message(zh: "技能试卷 \(id) 没有试题", en: "skill paper \(id) has no tasks")) }
        var seen = Set<SkillTask.ID>()
        for task in tasks {
            if !seen.insert(task.id).inserted {
                found.append(Message(zh: "技能试卷 \(id) 中试题 \(task.id) 出现了两次", en: "task \(task.id) appears twice in skill paper \(id)"))
            }
            found += task.problems()
        }
        return found
    }
}
