import ExamCore
import Foundation

/// The rule a paper is assembled by (组卷规则), as the office page sends it and the paper library keeps it.
public struct AssemblyRule: Codable, Sendable, Hashable {
    /// One section of the paper (大题): so many questions of one type at so many points each.
    public struct Section: Codable, Sendable, Hashable {
        public var type: QuestionType
        public var count: Int
        public var pointsEach: Double
        /// The section heading; by default "一、单项选择题" and so on.
        public var title: String?
        public init(type: QuestionType, count: Int, pointsEach: Double, title: String? = nil) {
            self.type = type
            self.count = count
            self.pointsEach = pointsEach
            self.title = title
        }
    }

    /// The share of the paper's points that must come from questions under a knowledge point (the standard's 比重表).
    public struct Coverage: Codable, Sendable, Hashable {
        public var knowledgePoint: String
        public var minPercent: Double
        public var maxPercent: Double?
        public init(knowledgePoint: String, minPercent: Double, maxPercent: Double? = nil) {
            self.knowledgePoint = knowledgePoint
            self.minPercent = minPercent
            self.maxPercent = maxPercent
        }
    }

    /// The share of the paper's questions (by count) at one difficulty, give or take `difficultyTolerancePercent`.
    public struct DifficultyShare: Codable, Sendable, Hashable {
        public var difficulty: Int
        public var percent: Double
        public init(difficulty: Int, percent: Double) {
            self.difficulty = difficulty
            self.percent = percent
        }
    }

    public var sections: [Section]
    /// Explicit coverage constraints.
    public var coverage: [Coverage]
    /// Also take every knowledge point's weight from the bank's tree as a coverage constraint (weight ± tolerance).
    public var useStandardWeights: Bool
    public var coverageTolerancePercent: Double
    public var difficulty: [DifficultyShare]
    public var difficultyTolerancePercent: Double
    /// Leave out questions used in more than this many issued papers.
    public var maxUsage: Int?
    /// Leave out questions used in the bank's last K papers.
    public var excludeRecentPapers: Int?
    /// How many parallel papers (A/B …) to assemble, sharing no question.
    public var papers: Int
    /// The same seed and bank give the same papers; nil draws one.
    public var seed: UInt64?

    public init(
        sections: [Section], coverage: [Coverage] = [], useStandardWeights: Bool = false,
        coverageTolerancePercent: Double = 5, difficulty: [DifficultyShare] = [], difficultyTolerancePercent: Double = 10,
        maxUsage: Int? = nil, excludeRecentPapers: Int? = nil, papers: Int = 1, seed: UInt64? = nil
    ) {
        self.sections = sections
        self.coverage = coverage
        self.useStandardWeights = useStandardWeights
        self.coverageTolerancePercent = coverageTolerancePercent
        self.difficulty = difficulty
        self.difficultyTolerancePercent = difficultyTolerancePercent
        self.maxUsage = maxUsage
        self.excludeRecentPapers = excludeRecentPapers
        self.papers = papers
        self.seed = seed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sections = try c.decode([Section].self, forKey: .sections)
        coverage = try c.decodeIfPresent([Coverage].self, forKey: .coverage) ?? []
        useStandardWeights = try c.decodeIfPresent(Bool.self, forKey: .useStandardWeights) ?? false
        coverageTolerancePercent = try c.decodeIfPresent(Double.self, forKey: .coverageTolerancePercent) ?? 5
        difficulty = try c.decodeIfPresent([DifficultyShare].self, forKey: .difficulty) ?? []
        difficultyTolerancePercent = try c.decodeIfPresent(Double.self, forKey: .difficultyTolerancePercent) ?? 10
        maxUsage = try c.decodeIfPresent(Int.self, forKey: .maxUsage)
        excludeRecentPapers = try c.decodeIfPresent(Int.self, forKey: .excludeRecentPapers)
        papers = try c.decodeIfPresent(Int.self, forKey: .papers) ?? 1
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
    }
}
