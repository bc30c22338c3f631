import Foundation

/// The paper as one candidate sees it: in their order, numbered, with every answer key left out.
public struct CandidatePaper: Codable, Sendable, Hashable {
    public struct Option: Codable, Sendable, Hashable {
        public var id: String
        /// The letter shown to this candidate (A, B, C …).
        public var label: String
        public var text: String
    }

    public struct Item: Codable, Sendable, Hashable {
        public var id: Question.ID
        /// "3" for a question, "12.2" for the second sub-question of case analysis 12.
        public var number: String
        public var type: QuestionType
        public var stem: String
        public var points: Double
        public var options: [Option]?
        public var blankCount: Int?
        public var steps: [FlowStep]?
        public var asksDescription: Bool?
        public var unit: String?
        public var material: String?
        public var requirements: String?
        public var attachment: AttachmentRule?
        public var subQuestions: [Item]?
    }

    public struct Section: Codable, Sendable, Hashable {
        public var id: PaperSection.ID
        public var title: String
        public var note: String?
        public var points: Double
        public var items: [Item]
    }

    public var paperID: Paper.ID
    public var title: String
    public var points: Double
    public var sections: [Section]
    /// Answerable question ids in the order this candidate sees them.
    public var answerOrder: [Question.ID]

    enum CodingKeys: String, CodingKey {
        case paperID = "paperId"
        case title, points, sections, answerOrder
    }

    public init(paper: AssembledPaper, layout: PaperLayout) {
        let byID = Dictionary(
            paper.sections.flatMap(\.questions).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var number = 0
        var answerOrder: [Question.ID] = []
        var sections: [Section] = []
        for sectionLayout in layout.sections {
            guard let section = paper.sections.first(where: { $0.section.id == sectionLayout.section }) else { continue }
            var items: [Item] = []
            for item in sectionLayout.items {
                guard let question = byID[item.question] else { continue }
                number += 1
                items.append(Self.view(item, question: question, number: String(number), answerOrder: &answerOrder))
            }
            sections.append(
                Section(
                    id: section.section.id, title: section.section.title, note: section.section.note,
                    points: section.maxPoints, items: items))
        }
        self.paperID = paper.paper.id
        self.title = paper.paper.title
        self.points = paper.maxPoints
        self.sections = sections
        self.answerOrder = answerOrder
    }

    /// One question as shown; a case analysis shows its sub-questions numbered "n.1", "n.2" ….
    private static func view(
        _ item: PaperLayout.Item, question: Question, number: String, answerOrder: inout [Question.ID]
    ) -> Item {
        var view = Item(id: question.id, number: number, type: question.type, stem: question.stem, points: question.points)
        if question.type != .caseAnalysis { answerOrder.append(question.id) }
        switch question.content {
        case .singleChoice(let options, _), .multipleChoice(let options, _):
            let order = item.order ?? options.map(\.id)
            view.options = order.enumerated().compactMap { index, id in
                options.first { $0.id == id }.map { Option(id: $0.id, label: label(index), text: $0.text) }
            }
        case .fillBlank(let blanks):
            view.blankCount = blanks.count
        case .calculation(_, _, let unit):
            view.unit = unit
        case .flowchart(let steps, _, let asksDescription):
            let order = item.order ?? steps.map(\.id)
            view.steps = order.compactMap { id in steps.first { $0.id == id } }
            view.asksDescription = asksDescription
        case .caseAnalysis(let material, let subs):
            view.material = material
            var subViews: [Item] = []
            for (index, subItem) in (item.subQuestions ?? []).enumerated() {
                guard let sub = subs.first(where: { $0.id == subItem.question }) else { continue }
                subViews.append(Self.view(subItem, question: sub, number: "\(number).\(index + 1)", answerOrder: &answerOrder))
            }
            view.subQuestions = subViews
        case .thesis(let requirements, let rule):
            view.requirements = requirements
            view.attachment = rule
        case .trueFalse, .shortAnswer, .essay:
            break
        }
        return view
    }

    static func label(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(65 + index % 26)))
    }
}
