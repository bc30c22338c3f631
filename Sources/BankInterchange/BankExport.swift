import ExamCore
import Foundation
import QuestionBank

/// Writing question bank files, and the empty template a bank editor downloads.
public enum BankExport {
    /// The questions (and, for .xlsx, the knowledge points) in the format; `skipped` names each question the format
    /// cannot carry, by its position in `questions` (1-based), with the reason.
    public static func write(
        _ questions: [Question], knowledgePoints: [KnowledgePoint], format: BankFormat
    ) throws -> (data: Data, skipped: [RowProblem]) {
        switch format {
        case .xlsx:
            var skipped: [RowProblem] = []
            var rows: [[Column: CellValue]] = []
            for (index, question) in questions.enumerated() {
                switch QuestionSheetWriter.rows(question) {
                case .success(let written): rows += written
                case .failure(let reason): skipped.append(RowProblem(row: index + 1, column: nil, message: reason.message))
                }
            }
            let data = try XLSXWriter.write(QuestionSheetWriter.sheets(rows: rows, knowledgePoints: knowledgePoints))
            return (data, skipped)
        case .moodle:
            return MoodleWriter.write(questions)
        case .qti21:
            return try QTIWriter.write(questions, version: .v21)
        case .qti30:
            return try QTIWriter.write(questions, version: .v30)
        }
    }

    /// The empty .xlsx template: the header row and one example row per type (a case analysis with its sub-questions),
    /// a 知识点 sheet with example points, and a 说明 sheet explaining each column.
    public static func template() -> Data {
        var rows: [[Column: CellValue]] = []
        for question in TemplateExamples.questions {
            if case .success(let written) = QuestionSheetWriter.rows(question) { rows += written }
        }
        let sheets = QuestionSheetWriter.sheets(rows: rows, knowledgePoints: TemplateExamples.knowledgePoints)
        // Writing a few kilobytes into memory cannot fail short of running out of memory.
        return (try? XLSXWriter.write(sheets)) ?? Data()
    }
}

/// Why a question cannot travel in a format.
struct SkipReason: Error {
    var message: Message
    init(_ zh: String, _ en: String) { message = Message(zh: zh, en: en) }
}

/// Questions as rows of the question sheet, and the sheets of an exported workbook.
enum QuestionSheetWriter {
    static func rows(_ question: Question) -> Result<[[Column: CellValue]], SkipReason> {
        do {
            var rows = [try row(question, caseID: nil)]
            for sub in question.subQuestions { rows.append(try row(sub, caseID: question.id.rawValue)) }
            return .success(rows)
        } catch let reason as SkipReason {
            return .failure(reason)
        } catch {
            return .failure(SkipReason("无法写出", "cannot be written"))
        }
    }

    private static func row(_ question: Question, caseID: String?) throws -> [Column: CellValue] {
        let id = question.id.rawValue
        var cells: [Column: CellValue] = [.id: .text(id), .type: .text(question.type.nameZH)]
        func text(_ column: Column, _ value: String?) throws {
            guard let value, !value.isEmpty else { return }
            if value.count > XLSXWriter.maxCellText {
                throw SkipReason("试题 \(id) 的\(column.zh)超过 Excel 单元格上限 32767 个字符", "question \(id): its \(column.en) is longer than an Excel cell holds (32,767 characters)")
            }
            cells[column] = .text(value)
        }
        func options(_ texts: [String]) throws {
            if texts.count > Column.optionLetters.count {
                throw SkipReason("试题 \(id) 有 \(texts.count) 个选项或步骤，模板最多 8 个（A–H）", "question \(id) has \(texts.count) options or steps; the template holds at most 8 (A–H)")
            }
            for (index, value) in texts.enumerated() { try text(.option(index), value) }
        }
        func letters(_ ids: [String], in all: [String]) -> String {
            ids.map { id in all.firstIndex(of: id).map(CellText.letter) ?? id }.joined()
        }
        try text(.stem, question.stem)
        if question.type != .caseAnalysis { cells[.points] = .number(question.points) }
        if let difficulty = question.difficulty { cells[.difficulty] = .number(Double(difficulty)) }
        for code in question.knowledgePoints where code.isEmpty || code.contains(where: { $0.isWhitespace || "；;，,、".contains($0) }) {
            throw SkipReason("试题 \(id) 的知识点编码“\(code)”含有分隔符", "question \(id): the knowledge point code '\(code)' holds a separator")
        }
        try text(.knowledgePoints, question.knowledgePoints.joined(separator: "；"))
        try text(.explanation, question.explanation)
        if let caseID { cells[.caseID] = .text(caseID) }

        switch question.content {
        case .singleChoice(let choices, let correct):
            try options(choices.map(\.text))
            try text(.answer, letters([correct], in: choices.map(\.id)))
        case .multipleChoice(let choices, let correct):
            try options(choices.map(\.text))
            let ids = choices.map(\.id)
            try text(.answer, letters(correct.sorted { (ids.firstIndex(of: $0) ?? 99) < (ids.firstIndex(of: $1) ?? 99) }, in: ids))
        case .trueFalse(let correct):
            cells[.answer] = .text(correct ? "对" : "错")
        case .fillBlank(let blanks):
            for answer in blanks.flatMap(\.accepted) where answer.contains(where: { ";；|｜".contains($0) }) {
                throw SkipReason("试题 \(id) 的填空答案“\(answer)”含有分隔符 ；或 |", "question \(id): the blank answer '\(answer)' holds a separator (; or |)")
            }
            try text(.answer, CellText.blanksText(blanks))
        case .shortAnswer(let reference, let scheme), .essay(let reference, let scheme):
            try text(.answer, reference)
            for point in scheme where point.description.contains("\n") {
                throw SkipReason("试题 \(id) 的评分要点含有换行", "question \(id): a scoring point holds a line break")
            }
            try text(.scheme, CellText.schemeText(scheme))
        case .calculation(let correct, let tolerance, let unit):
            cells[.answer] = .number(correct)
            if tolerance != 0 { cells[.tolerance] = .number(tolerance) }
            try text(.unit, unit)
        case .flowchart(let steps, let correct, let asksDescription):
            try options(steps.map(\.text))
            try text(.answer, letters(correct, in: steps.map(\.id)))
            if asksDescription { cells[.asksDescription] = .text("是") }
        case .caseAnalysis(let material, let subs):
            try text(.stem, material)
            if question.stem != QuestionSheetReader.defaultCaseStem { try text(.answer, question.stem) }
            if caseID != nil || subs.contains(where: { $0.type == .caseAnalysis }) {
                throw SkipReason("试题 \(id)：案例分析题不能嵌套", "question \(id): a case analysis cannot hold another")
            }
        case .thesis(let requirements, let attachment):
            try text(.answer, requirements)
            if let attachment { try text(.attachment, CellText.attachmentText(attachment)) }
        }
        return cells
    }

    /// 试题, 知识点 and 说明.
    static func sheets(rows: [[Column: CellValue]], knowledgePoints: [KnowledgePoint]) -> [SheetContent] {
        let columns = Column.all
        var questionRows: [[CellValue?]] = [columns.map { .text($0.zh) }]
        for row in rows { questionRows.append(columns.map { row[$0] }) }
        let widths: [Double] = columns.map { column in
            switch column {
            case .stem: 40
            case .option: 16
            case .answer, .explanation, .scheme: 24
            case .type: 12
            default: 10
            }
        }
        var pointRows: [[CellValue?]] = [["编码", "名称", "上级编码", "比重"].map { .text($0) }]
        for point in knowledgePoints {
            pointRows.append([.text(point.code), .text(point.name), point.parent.map { .text($0) }, point.weight.map { .number($0) }])
        }
        var guideRows: [[CellValue?]] = [["列名", "英文列名", "说明"].map { .text($0) }]
        for column in columns { guideRows.append([.text(column.zh), .text(column.en), .text(TemplateExamples.explanation(of: column))]) }
        for line in TemplateExamples.generalNotes { guideRows.append([.text(line.0), nil, .text(line.1)]) }
        return [
            SheetContent(name: SheetName.questions, rows: questionRows, columnWidths: widths),
            SheetContent(name: SheetName.knowledgePoints, rows: pointRows, columnWidths: [12, 30, 12, 8]),
            SheetContent(name: SheetName.guide, rows: guideRows, columnWidths: [12, 18, 90]),
        ]
    }
}
