import ExamCore
import Foundation
import QuestionBank

/// One row of a sheet: its number as the editor sees it and its cells by column index (0 = A).
struct SheetRow: Sendable {
    var number: Int
    var cells: [Int: String]

    var isEmpty: Bool { cells.values.allSatisfy { CellText.trimmed($0).isEmpty } }
}

/// A sheet's rows, as read from a workbook; empty rows are already left out.
struct Sheet: Sendable {
    var name: String
    var rows: [SheetRow]
}

/// Turns the rows of the question sheet into questions, checking every row and reporting every problem.
struct QuestionSheetReader {
    var defaults: TypeDefaults
    var idPrefix: String
    /// Codes a question may name; nil when they are not checked.
    var knownKnowledgePoints: Set<String>?

    static let defaultCaseStem = "阅读下面的案例，回答问题。"

    /// A row read on its own, before case analyses are put together.
    private struct Draft {
        var row: Int
        var id: String
        var question: Question?
        var caseRef: String?
        var problems: [RowProblem] = []
    }

    /// The header row: the first of the sheet's first rows naming both 题型 and 题干.
    static func header(_ sheet: Sheet) throws(BankFileError) -> (row: Int, columns: [Column: Int]) {
        for row in sheet.rows.prefix(20) {
            var columns: [Column: Int] = [:]
            for (index, text) in row.cells.sorted(by: { $0.key < $1.key }) {
                if let column = Column.named(text), columns[column] == nil { columns[column] = index }
            }
            if columns[.type] != nil && columns[.stem] != nil { return (row.number, columns) }
        }
        throw .noHeader(sheet.name)
    }

    func read(_ sheet: Sheet) throws(BankFileError) -> (questions: [ImportedQuestion], problems: [RowProblem]) {
        let header = try Self.header(sheet)
        var drafts = sheet.rows.filter { $0.number > header.row && !$0.isEmpty }.map { read($0, header.columns) }

        // Ids must be unique in the file, sub-questions included.
        var firstRow: [String: Int] = [:]
        for index in drafts.indices {
            let id = drafts[index].id
            if let earlier = firstRow[id] {
                drafts[index].problems.append(RowProblem(
                    row: drafts[index].row, column: Column.id.zh,
                    zh: "编号 \(id) 与第 \(earlier) 行重复", en: "the id \(id) is already used in row \(earlier)"))
            } else {
                firstRow[id] = drafts[index].row
            }
        }

        // Sub-questions go to their case analysis, in row order.
        var caseIndex: [String: Int] = [:]
        for (index, draft) in drafts.enumerated() where draft.question?.type == .caseAnalysis && draft.caseRef == nil {
            if caseIndex[draft.id] == nil { caseIndex[draft.id] = index }
        }
        var subsOf: [Int: [Int]] = [:]
        for index in drafts.indices {
            guard let ref = drafts[index].caseRef else { continue }
            let row = drafts[index].row
            if drafts[index].question?.type == .caseAnalysis {
                drafts[index].problems.append(RowProblem(
                    row: row, column: Column.caseID.zh, zh: "案例分析题不能属于另一个案例",
                    en: "a case analysis cannot belong to another case"))
            } else if let parent = caseIndex[ref] {
                subsOf[parent, default: []].append(index)
            } else if let other = drafts.first(where: { $0.id == ref }) {
                drafts[index].problems.append(RowProblem(
                    row: row, column: Column.caseID.zh, zh: "第 \(other.row) 行的 \(ref) 不是案例分析题",
                    en: "\(ref) in row \(other.row) is not a case analysis"))
            } else {
                drafts[index].problems.append(RowProblem(
                    row: row, column: Column.caseID.zh, zh: "找不到编号为 \(ref) 的案例分析题",
                    en: "there is no case analysis with the id \(ref)"))
            }
        }

        var result: [ImportedQuestion] = []
        var problems: [RowProblem] = []
        for index in drafts.indices where drafts[index].caseRef == nil {
            var draft = drafts[index]
            guard var question = draft.question else {
                problems += draft.problems
                continue
            }
            var subProblems: [Message] = []
            var badSubRows: [Int] = []
            if case .caseAnalysis(let material, _) = question.content {
                var subs: [Question] = []
                for subIndex in subsOf[index] ?? [] {
                    var sub = drafts[subIndex]
                    guard let subQuestion = sub.question else { badSubRows.append(sub.row); continue }
                    let found = subQuestion.problems(isSubQuestion: true)
                    subProblems += found
                    sub.problems = Self.merge(sub.problems, found, row: sub.row)
                    drafts[subIndex] = sub
                    if !sub.problems.isEmpty { badSubRows.append(sub.row) }
                    subs.append(subQuestion)
                }
                question = Question(
                    id: question.id, stem: question.stem, points: 0, content: .caseAnalysis(material: material, subQuestions: subs),
                    explanation: question.explanation, knowledgePoints: question.knowledgePoints, difficulty: question.difficulty)
            }
            let own = question.problems().filter { !subProblems.contains($0) }
            draft.problems = Self.merge(draft.problems, own, row: draft.row)
            if !badSubRows.isEmpty {
                let rows = badSubRows.map(String.init).joined(separator: "、")
                draft.problems.append(RowProblem(
                    row: draft.row, column: nil, zh: "小题有错误（第 \(rows) 行）",
                    en: "sub-questions have problems (row \(badSubRows.map(String.init).joined(separator: ", ")))"))
            }
            problems += draft.problems
            if case .caseAnalysis = question.content {
                for subIndex in subsOf[index] ?? [] { problems += drafts[subIndex].problems }
            }
            if draft.problems.isEmpty { result.append(ImportedQuestion(row: draft.row, question: question)) }
        }
        // Sub-questions whose case was not found have their problems already; report them once.
        for draft in drafts where draft.caseRef != nil && !problems.contains(where: { $0.row == draft.row }) {
            problems += draft.problems
        }
        problems.sort { ($0.row, $0.column ?? "") < ($1.row, $1.column ?? "") }
        return (result, problems)
    }

    /// The row's own problems, and those `Question.problems()` found that do not repeat one already given for the same column.
    private static func merge(_ own: [RowProblem], _ found: [Message], row: Int) -> [RowProblem] {
        var merged = own
        let taken = Set(own.map(\.column))
        for message in found {
            let column = column(for: message)
            if column != nil && taken.contains(column) { continue }
            if merged.contains(where: { $0.message == message }) { continue }
            merged.append(RowProblem(row: row, column: column, message: message))
        }
        return merged
    }

    /// The column a problem of `Question.problems()` is about, from its English text.
    static func column(for message: Message) -> String? {
        let en = message.en
        func has(_ part: String) -> Bool { en.contains(part) }
        if has("the id may only") { return Column.id.zh }
        if has("stem is empty") || has("case material") { return Column.stem.zh }
        if has("points must") { return Column.points.zh }
        if has("difficulty") { return Column.difficulty.zh }
        if has("tolerance") { return Column.tolerance.zh }
        if has("scoring point") { return Column.scheme.zh }
        if has("attachment") { return Column.attachment.zh }
        if has("sub-question") || has("cannot hold another") { return Column.caseID.zh }
        if let range = en.range(of: ": option "), let letter = en[range.upperBound...].first, en.hasSuffix(" is empty") {
            let index = Column.optionLetters.firstIndex(of: Character(letter.uppercased()))
            return index.map { Column.option($0).zh } ?? "选项"
        }
        if let range = en.range(of: ": step "), let letter = en[range.upperBound...].first, en.hasSuffix(" is empty") {
            let index = Column.optionLetters.firstIndex(of: Character(letter.uppercased()))
            return index.map { Column.option($0).zh } ?? "选项"
        }
        if has("answer") || has("blank") || has("correct") { return Column.answer.zh }
        if has("options") || has("steps") { return "选项" }
        return nil
    }

    // MARK: - One row

    private func read(_ row: SheetRow, _ columns: [Column: Int]) -> Draft {
        func cell(_ column: Column) -> String { CellText.trimmed(columns[column].flatMap { row.cells[$0] }) }
        var problems: [RowProblem] = []
        func problem(_ column: Column?, _ zh: String, _ en: String) {
            problems.append(RowProblem(row: row.number, column: column?.zh, zh: zh, en: en))
        }

        let givenID = cell(.id)
        let id = givenID.isEmpty ? "\(idPrefix)-\(row.number)" : givenID
        if !givenID.isEmpty && !isWellFormedIdentifier(givenID) {
            problem(.id, "编号“\(givenID)”只能包含字母、数字、-、_、.，长度 1–64",
                    "the id '\(givenID)' may only hold letters, digits, '-', '_', '.', 1 to 64 characters")
        }
        let caseRef = CellText.nonEmpty(cell(.caseID))

        let typeText = cell(.type)
        guard let type = QuestionType.named(typeText) else {
            if typeText.isEmpty {
                problem(.type, "缺少题型", "the type is missing")
            } else {
                problem(.type, "未知题型“\(typeText)”", "unknown question type '\(typeText)'")
            }
            return Draft(row: row.number, id: id, question: nil, caseRef: caseRef, problems: problems)
        }

        let stem = cell(.stem)
        if stem.isEmpty {
            if type == .caseAnalysis {
                problem(.stem, "案例材料为空（案例分析题的题干填写案例材料）", "the case material is empty (a case analysis holds it in 题干/stem)")
            } else {
                problem(.stem, "题干为空", "the stem is empty")
            }
        }

        var points = defaults.points(for: type)
        let pointsText = cell(.points)
        if !pointsText.isEmpty && type != .caseAnalysis {
            if let value = CellText.number(pointsText) {
                points = value
                if !(value > 0 && value <= 1000) {
                    problem(.points, "分值必须大于 0 且不超过 1000（现为 \(pointsText)）", "points must be above 0 and at most 1000 (it is \(pointsText))")
                }
            } else {
                problem(.points, "分值“\(pointsText)”不是数字", "the points '\(pointsText)' are not a number")
            }
        }

        var difficulty: Int?
        let difficultyText = cell(.difficulty)
        if !difficultyText.isEmpty {
            if let value = CellText.number(difficultyText), value == value.rounded(), (1...5).contains(value) {
                difficulty = Int(value)
            } else {
                problem(.difficulty, "难度必须是 1 到 5 的整数（现为 \(difficultyText)）", "difficulty must be a whole number from 1 to 5 (it is \(difficultyText))")
            }
        }

        let knowledgePoints = CellText.codes(cell(.knowledgePoints))
        if let known = knownKnowledgePoints {
            for code in knowledgePoints where !known.contains(code) {
                problem(.knowledgePoints, "知识点 \(code) 不在知识点表中", "the knowledge point \(code) is not in the knowledge point list")
            }
        }

        // Options A…H: an empty one between filled ones is a mistake.
        var options: [(index: Int, text: String)] = []
        for index in Column.optionLetters.indices {
            let text = cell(.option(index))
            if !text.isEmpty { options.append((index, text)) }
        }
        if let last = options.last?.index {
            for index in 0..<last where !options.contains(where: { $0.index == index }) {
                problem(.option(index), "选项 \(CellText.letter(index)) 为空，但后面的选项有内容",
                        "option \(CellText.letter(index)) is empty while later options are filled")
            }
        }
        let optionIDs = Set(options.map(\.index))
        let answer = cell(.answer)
        func missingAnswer() { problem(.answer, "缺少答案", "the answer is missing") }
        func optionLetters(single: Bool) -> [Int] {
            let (letters, unreadable) = CellText.letters(answer)
            if let unreadable {
                problem(.answer, "答案“\(answer)”中的“\(unreadable)”不是选项字母 A–H", "the answer '\(answer)' holds '\(unreadable)', which is not an option letter A–H")
                return []
            }
            for letter in letters where !optionIDs.contains(letter) {
                problem(.answer, "答案 \(CellText.letter(letter)) 不在选项中", "the answer \(CellText.letter(letter)) is not one of the options")
            }
            if single && letters.count > 1 {
                problem(.answer, "单选题只能有一个答案（现为 \(answer)）", "a single choice question has one answer (it is \(answer))")
            }
            return letters
        }

        let content: QuestionContent
        var questionStem = stem
        switch type {
        case .singleChoice:
            var correct = ""
            if answer.isEmpty { missingAnswer() } else if let first = optionLetters(single: true).first { correct = optionID(first) }
            content = .singleChoice(options: options.map { ChoiceOption(id: optionID($0.index), text: $0.text) }, correct: correct)
        case .multipleChoice:
            var correct: [String] = []
            if answer.isEmpty {
                missingAnswer()
            } else {
                let letters = Set(optionLetters(single: false))
                correct = letters.sorted().map(optionID)
            }
            content = .multipleChoice(options: options.map { ChoiceOption(id: optionID($0.index), text: $0.text) }, correct: correct)
        case .trueFalse:
            var correct = false
            if answer.isEmpty {
                missingAnswer()
            } else if let value = CellText.truth(answer) {
                correct = value
            } else {
                problem(.answer, "判断题答案“\(answer)”应为 对 或 错", "the true/false answer '\(answer)' must be 对/true or 错/false")
            }
            content = .trueFalse(correct: correct)
        case .fillBlank:
            if answer.isEmpty { missingAnswer() }
            content = .fillBlank(blanks: answer.isEmpty ? [] : CellText.blanks(answer))
        case .shortAnswer, .essay:
            let (scheme, badLines) = CellText.scheme(cell(.scheme))
            for line in badLines {
                problem(.scheme, "评分标准第 \(line) 行应写成“要点：分值”", "line \(line) of the marking scheme must read 'point: points'")
            }
            let reference = answer.isEmpty ? nil : answer
            content = type == .essay ? .essay(reference: reference, scheme: scheme) : .shortAnswer(reference: reference, scheme: scheme)
        case .calculation:
            var correct = 0.0
            if answer.isEmpty {
                missingAnswer()
            } else if let value = CellText.number(answer) {
                correct = value
            } else {
                problem(.answer, "计算题答案“\(answer)”不是数字", "the calculation answer '\(answer)' is not a number")
            }
            var tolerance = 0.0
            let toleranceText = cell(.tolerance)
            if !toleranceText.isEmpty {
                if let value = CellText.number(toleranceText), value >= 0 {
                    tolerance = value
                } else {
                    problem(.tolerance, "容差“\(toleranceText)”必须是非负数", "the tolerance '\(toleranceText)' must be a number of zero or more")
                }
            }
            content = .calculation(correct: correct, tolerance: tolerance, unit: CellText.nonEmpty(cell(.unit)))
        case .flowchart:
            var order: [String] = []
            if answer.isEmpty { missingAnswer() } else { order = optionLetters(single: false).map(optionID) }
            var asks = false
            let asksText = cell(.asksDescription)
            if !asksText.isEmpty {
                if let value = CellText.truth(asksText) {
                    asks = value
                } else {
                    problem(.asksDescription, "“需文字说明”应填 是 或 否", "'asks description' must be 是/yes or 否/no")
                }
            }
            content = .flowchart(steps: options.map { FlowStep(id: optionID($0.index), text: $0.text) }, correct: order, asksDescription: asks)
        case .caseAnalysis:
            questionStem = answer.isEmpty ? Self.defaultCaseStem : answer
            content = .caseAnalysis(material: stem, subQuestions: [])
        case .thesis:
            var rule: AttachmentRule?
            let ruleText = cell(.attachment)
            if !ruleText.isEmpty {
                rule = CellText.attachment(ruleText)
                if rule == nil {
                    problem(.attachment, "附件要求“\(ruleText)”应写成“pdf、docx；10MB”", "the attachment rule '\(ruleText)' must read like 'pdf, docx; 10MB'")
                }
            }
            content = .thesis(requirements: answer.isEmpty ? nil : answer, attachment: rule)
        }
        let question = Question(
            id: Question.ID(id), stem: questionStem, points: points, content: content,
            explanation: CellText.nonEmpty(cell(.explanation)), knowledgePoints: knowledgePoints, difficulty: difficulty)
        return Draft(row: row.number, id: id, question: question, caseRef: caseRef, problems: problems)
    }

    /// Options and steps read from a sheet are named by their lower-case letter.
    private func optionID(_ index: Int) -> String { CellText.letter(index).lowercased() }
}
