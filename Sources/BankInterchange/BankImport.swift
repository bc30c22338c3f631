import ExamCore
import Foundation
import QuestionBank

/// Reading question bank files. The whole file is checked and every bad row reported; nothing is written here.
public enum BankImport {
    /// The questions of a bank file, every problem found, and the knowledge points of its 知识点 sheet.
    ///
    /// - Parameters:
    ///   - defaults: points for a question whose 分值 is empty (or an XML item without a score).
    ///   - idPrefix: ids of questions without one are `idPrefix-<row>` (spreadsheets) or `idPrefix-<item number>` (XML).
    ///   - knownKnowledgePoints: the codes a question may name (with those of the workbook's own 知识点 sheet);
    ///     nil to check only against that sheet, if there is one.
    public static func read(
        _ data: Data, format: BankFormat, defaults: TypeDefaults, idPrefix: String, knownKnowledgePoints: Set<String>?
    ) throws(BankFileError) -> ImportResult {
        switch format {
        case .xlsx:
            return try readWorkbook(data, defaults: defaults, idPrefix: idPrefix, known: knownKnowledgePoints)
        case .moodle:
            let items = try MoodleReader.items(data)
            return ItemChecker(defaults: defaults, idPrefix: idPrefix, known: knownKnowledgePoints).check(items)
        case .qti21, .qti30:
            let items = try QTIReader.items(data)
            return ItemChecker(defaults: defaults, idPrefix: idPrefix, known: knownKnowledgePoints).check(items)
        }
    }

    private static func readWorkbook(
        _ data: Data, defaults: TypeDefaults, idPrefix: String, known: Set<String>?
    ) throws(BankFileError) -> ImportResult {
        let workbook = try XLSXWorkbook(data)
        var knowledgePoints: [KnowledgePoint] = []
        var problems: [RowProblem] = []
        var known = known
        if let name = workbook.sheetNames.first(where: SheetName.isKnowledgePoints) {
            let read = KnowledgeSheetReader.read(try workbook.sheet(name))
            knowledgePoints = read.points
            problems += read.problems
            // A sheet with no point in it (as an export without knowledge points writes it) checks nothing.
            if !read.codes.isEmpty { known = (known ?? []).union(read.codes) }
        }
        let questionSheet =
            workbook.sheetNames.first(where: SheetName.isQuestions)
            ?? workbook.sheetNames.first { !SheetName.isKnowledgePoints($0) && !SheetName.isGuide($0) }
        guard let questionSheet else { throw .noQuestionSheet }
        let reader = QuestionSheetReader(defaults: defaults, idPrefix: idPrefix, knownKnowledgePoints: known)
        let read = try reader.read(try workbook.sheet(questionSheet))
        return ImportResult(questions: read.questions, problems: read.problems + problems, knowledgePoints: knowledgePoints)
    }
}
