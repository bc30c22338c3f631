import Foundation

/// SplitMix64: a small, fast generator whose sequence is the same on every platform and release,
/// so a stored seed always reproduces the same paper layout.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Fisher–Yates shuffle driven only by `next()`, independent of the standard library's algorithm.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var items = items
        guard items.count > 1 else { return items }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            items.swapAt(i, j)
        }
        return items
    }
}

/// The order one candidate sees: questions within sections, options and flowchart steps.
public struct PaperLayout: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var question: Question.ID
        /// Option ids (choice questions) or step ids (flowchart) in the order shown.
        public var order: [String]?
        public var subQuestions: [Item]?
    }
    public struct Section: Codable, Sendable, Hashable {
        public var section: PaperSection.ID
        public var items: [Item]
    }

    public var seed: UInt64
    public var sections: [Section]

    /// Lays the paper out for one candidate. The same paper and seed always give the same layout.
    /// Flowchart steps are always shuffled (in the given order they would be the answer).
    public init(paper: AssembledPaper, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let shuffleQuestions = paper.paper.shuffleQuestions
        let shuffleOptions = paper.paper.shuffleOptions
        func item(for question: Question) -> Item {
            switch question.content {
            case .singleChoice(let options, _), .multipleChoice(let options, _):
                let ids = options.map(\.id)
                return Item(question: question.id, order: shuffleOptions ? generator.shuffled(ids) : ids)
            case .flowchart(let steps, let correct, _):
                var order = generator.shuffled(steps.map(\.id))
                if order == correct && order.count > 1 { order.swapAt(0, order.count - 1) }
                return Item(question: question.id, order: order)
            case .caseAnalysis(_, let subs):
                return Item(question: question.id, subQuestions: subs.map { item(for: $0) })
            default:
                return Item(question: question.id)
            }
        }
        self.seed = seed
        self.sections = paper.sections.map { section in
            let questions = shuffleQuestions ? generator.shuffled(section.questions) : section.questions
            return Section(section: section.section.id, items: questions.map { item(for: $0) })
        }
    }
}
