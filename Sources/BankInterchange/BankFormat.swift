import ExamCore
import Foundation
import QuestionBank

/// The file formats a question bank travels in.
public enum BankFormat: String, Codable, Sendable, CaseIterable {
    /// The editor's spreadsheet template (试题 sheet, optional 知识点 sheet).
    case xlsx
    /// Moodle XML (`<quiz>`).
    case moodle
    /// IMS QTI 2.1 items, one XML file or a content package with `imsmanifest.xml`.
    case qti21
    /// 1EdTech QTI 3.0 items, one XML file or a content package with `imsmanifest.xml`.
    case qti30

    /// The file name extension a download of this format gets.
    public var fileExtension: String {
        switch self {
        case .xlsx: "xlsx"
        case .moodle: "xml"
        case .qti21, .qti30: "zip"
        }
    }
}

/// One thing wrong with one row of a spreadsheet, or one item of an XML file.
public struct RowProblem: Codable, Sendable, Hashable {
    /// The spreadsheet row number as the editor sees it (1 = the sheet's first row), or the item number (1-based) in XML formats.
    public var row: Int
    /// The column by its Chinese header name (编号, 题型, 答案, 选项B …), or the element in XML formats; nil for the whole row.
    public var column: String?
    public var message: Message
    /// The sheet, when it is not the question sheet (知识点); nil for the question sheet and for XML formats.
    public var sheet: String?

    public init(row: Int, column: String?, message: Message, sheet: String? = nil) {
        self.row = row
        self.column = column
        self.message = message
        self.sheet = sheet
    }

    init(row: Int, column: String?, zh: String, en: String, sheet: String? = nil) {
        self.init(row: row, column: column, message: Message(zh: zh, en: en), sheet: sheet)
    }
}

/// A question read from a file, with the row (or item number) it came from.
public struct ImportedQuestion: Sendable {
    public var row: Int
    public var question: Question

    public init(row: Int, question: Question) {
        self.row = row
        self.question = question
    }
}

/// What a bank file held: the questions without problems, every problem found, and the knowledge points of its 知识点 sheet.
///
/// A row with any problem is not among `questions` (a case analysis is left out whole when one of its sub-questions is
/// bad). Nothing is written by reading; the caller refuses the file when `problems` is not empty, unless the editor
/// asked to import only the good rows.
public struct ImportResult: Sendable {
    public var questions: [ImportedQuestion]
    public var problems: [RowProblem]
    /// From a 知识点 sheet, if the workbook has one; rows with problems are left out.
    public var knowledgePoints: [KnowledgePoint]

    public init(questions: [ImportedQuestion], problems: [RowProblem], knowledgePoints: [KnowledgePoint]) {
        self.questions = questions
        self.problems = problems
        self.knowledgePoints = knowledgePoints
    }
}

/// The whole file cannot be read: not a zip, no question sheet, no header row, not XML, ….
public struct BankFileError: CodedError, Hashable {
    public var code: String
    public var message: Message

    public init(_ code: String, zh: String, en: String) {
        self.code = code
        self.message = Message(zh: zh, en: en)
    }

    static let notXLSX = BankFileError(
        "bank_not_xlsx", zh: "文件不是 .xlsx 工作簿（请用 Excel 或 WPS 另存为 .xlsx）",
        en: "the file is not an .xlsx workbook (save it as .xlsx from Excel or WPS)")
    static let noQuestionSheet = BankFileError(
        "bank_no_question_sheet", zh: "工作簿中没有“试题”工作表", en: "the workbook has no question sheet (试题)")
    static func noHeader(_ sheet: String) -> BankFileError {
        BankFileError(
            "bank_no_header", zh: "工作表“\(sheet)”中找不到标题行（至少需要“题型”和“题干”两列）",
            en: "the sheet '\(sheet)' has no header row (it needs at least the columns 题型/type and 题干/stem)")
    }
    static func damaged(_ part: String) -> BankFileError {
        BankFileError("bank_damaged", zh: "文件已损坏，无法读取 \(part)", en: "the file is damaged: \(part) cannot be read")
    }
    static func tooLarge(_ part: String) -> BankFileError {
        BankFileError("bank_too_large", zh: "文件中的 \(part) 过大", en: "\(part) in the file is too large")
    }
    static let notXML = BankFileError("bank_not_xml", zh: "文件不是有效的 XML", en: "the file is not well-formed XML")
    static let notMoodle = BankFileError(
        "bank_not_moodle", zh: "文件不是 Moodle XML 题库（根元素应为 quiz）",
        en: "the file is not Moodle XML (its root element must be quiz)")
    static let notQTI = BankFileError(
        "bank_not_qti", zh: "文件不是 QTI 试题（应为 assessmentItem、qti-assessment-item 或带 imsmanifest.xml 的压缩包）",
        en: "the file is not QTI (expected assessmentItem, qti-assessment-item, or a zip package with imsmanifest.xml)")
    static let emptyPackage = BankFileError(
        "bank_no_items", zh: "压缩包的 imsmanifest.xml 中没有列出任何试题", en: "the package's imsmanifest.xml lists no item")
}
