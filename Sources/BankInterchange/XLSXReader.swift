import ExamCore
import Foundation
import SWXMLHash
import QuestionBank
import ZIPFoundation

/// An .xlsx workbook opened for reading: its sheets by name, shared strings, and the cells of any sheet.
/// Formatting, formulas and merges are ignored: a merged range's value is in its top-left cell, the others are empty.
struct XLSXWorkbook {
    private let archive: Archive
    let sheetNames: [String]
    private let sheetPaths: [String: String]
    private let sharedStrings: [String]

    init(_ data: Data) throws(BankFileError) {
        guard let archive = ZipParts.open(data) else { throw .notXLSX }
        self.archive = archive

        var workbookPath = "xl/workbook.xml"
        if let rels = try ZipParts.read(archive, "_rels/.rels"), let root = ParsedXML.root(rels) {
            for relation in root.elements("Relationship") where relation.attr("Type")?.hasSuffix("/officeDocument") == true {
                if let target = relation.attr("Target") { workbookPath = ZipParts.resolve(target, from: "") }
            }
        }
        guard let workbookData = try ZipParts.read(archive, workbookPath) else { throw .notXLSX }
        guard let workbook = ParsedXML.root(workbookData), workbook.localName == "workbook" else {
            throw .damaged(workbookPath)
        }
        let folder = (workbookPath as NSString).deletingLastPathComponent
        let fileName = (workbookPath as NSString).lastPathComponent
        var targets: [String: String] = [:]
        var sharedPath: String?
        if let rels = try ZipParts.read(archive, ZipParts.resolve("_rels/\(fileName).rels", from: folder)),
            let root = ParsedXML.root(rels)
        {
            for relation in root.elements("Relationship") {
                guard let id = relation.attr("Id"), let target = relation.attr("Target") else { continue }
                let path = ZipParts.resolve(target, from: folder)
                targets[id] = path
                if relation.attr("Type")?.hasSuffix("/sharedStrings") == true { sharedPath = path }
            }
        }
        var names: [String] = []
        var paths: [String: String] = [:]
        for (index, sheet) in (workbook.first("sheets")?.elements("sheet") ?? []).enumerated() {
            guard let name = sheet.attr("name") else { continue }
            let path = sheet.attr("id").flatMap { targets[$0] } ?? ZipParts.resolve("worksheets/sheet\(index + 1).xml", from: folder)
            names.append(name)
            paths[name] = path
        }
        sheetNames = names
        sheetPaths = paths

        var strings: [String] = []
        if let data = try ZipParts.read(archive, sharedPath ?? ZipParts.resolve("sharedStrings.xml", from: folder)) {
            guard let root = ParsedXML.root(data) else { throw .damaged("sharedStrings.xml") }
            strings = root.elements("si").map(Self.richText)
        }
        sharedStrings = strings
    }

    /// The sheet by this name, rows in order, empty rows left out.
    func sheet(_ name: String) throws(BankFileError) -> Sheet {
        guard let path = sheetPaths[name], let data = try ZipParts.read(archive, path) else { throw .damaged(name) }
        guard let root = ParsedXML.root(data), let sheetData = root.first("sheetData") else { throw .damaged(path) }
        var rows: [SheetRow] = []
        var rowNumber = 0
        for row in sheetData.elements("row") {
            rowNumber = row.attr("r").flatMap(Int.init) ?? rowNumber + 1
            var cells: [Int: String] = [:]
            var column = -1
            for cell in row.elements("c") {
                column = cell.attr("r").flatMap(Self.columnIndex) ?? column + 1
                let text = value(of: cell)
                if !text.isEmpty { cells[column] = text }
            }
            let sheetRow = SheetRow(number: rowNumber, cells: cells)
            if !sheetRow.isEmpty { rows.append(sheetRow) }
        }
        return Sheet(name: name, rows: rows)
    }

    private func value(of cell: XElement) -> String {
        let raw = cell.first("v")?.text
        switch cell.attr("t") {
        case "s":
            guard let index = raw.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), sharedStrings.indices.contains(index) else { return "" }
            return sharedStrings[index]
        case "inlineStr":
            return cell.first("is").map(Self.richText) ?? raw ?? ""
        case "b":
            return raw?.trimmingCharacters(in: .whitespaces) == "1" ? "TRUE" : "FALSE"
        case "str", "e", "d":
            return raw ?? ""
        default:
            guard let raw else { return cell.first("is").map(Self.richText) ?? "" }
            if let number = Double(raw.trimmingCharacters(in: .whitespaces)), number.isFinite { return CellText.format(number) }
            return raw
        }
    }

    /// The text of a string item: its `t`, or the `t` of each rich text run; phonetic runs (`rPh`) are left out.
    static func richText(_ item: XElement) -> String {
        var text = ""
        for child in item.elements {
            switch child.localName {
            case "t": text += child.text
            case "r": text += child.first("t")?.text ?? ""
            default: continue
            }
        }
        return text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// "C12" → 2.
    static func columnIndex(_ reference: String) -> Int? {
        var index = 0
        var letters = 0
        for scalar in reference.unicodeScalars {
            guard (65...90).contains(scalar.value) || (97...122).contains(scalar.value) else { break }
            index = index * 26 + Int((scalar.value & ~0x20) - 64)
            letters += 1
        }
        return letters == 0 ? nil : index - 1
    }
}

/// Sheet names the reader looks for.
enum SheetName {
    static let questions = "试题"
    static let knowledgePoints = "知识点"
    static let guide = "说明"

    static func isQuestions(_ name: String) -> Bool { ["试题", "题库", "questions", "question"].contains(key(name)) }
    static func isKnowledgePoints(_ name: String) -> Bool { ["知识点", "knowledgepoints", "知识点表"].contains(key(name)) }
    static func isGuide(_ name: String) -> Bool { ["说明", "填写说明", "instructions", "readme"].contains(key(name)) }
    private static func key(_ name: String) -> String { name.lowercased().filter { !$0.isWhitespace } }
}

/// The 知识点 sheet: 编码/code, 名称/name, 上级编码/parent, 比重/weight.
enum KnowledgeSheetReader {
    static func read(_ sheet: Sheet) -> (points: [KnowledgePoint], codes: Set<String>, problems: [RowProblem]) {
        var problems: [RowProblem] = []
        func problem(_ row: Int, _ column: String?, _ zh: String, _ en: String) {
            problems.append(RowProblem(row: row, column: column, zh: zh, en: en, sheet: sheet.name))
        }
        let names: [String: String] = [
            "编码": "code", "code": "code", "知识点编码": "code", "名称": "name", "name": "name", "知识点名称": "name",
            "上级编码": "parent", "parent": "parent", "上级": "parent", "比重": "weight", "weight": "weight", "比重%": "weight",
        ]
        var header: (row: Int, columns: [String: Int])?
        for row in sheet.rows.prefix(20) {
            var columns: [String: Int] = [:]
            for (index, text) in row.cells {
                for part in [text] + text.split(separator: "/").map(String.init) {
                    if let key = names[Column.normalise(part)], columns[key] == nil { columns[key] = index }
                }
            }
            if columns["code"] != nil && columns["name"] != nil { header = (row.number, columns); break }
        }
        guard let header else {
            problem(1, nil, "知识点工作表中找不到标题行（需要“编码”和“名称”两列）", "the knowledge point sheet has no header row (it needs 编码/code and 名称/name)")
            return ([], [], problems)
        }
        var drafts: [(row: Int, point: KnowledgePoint, ok: Bool)] = []
        var seen: [String: Int] = [:]
        for row in sheet.rows where row.number > header.row {
            func cell(_ key: String) -> String { CellText.trimmed(header.columns[key].flatMap { row.cells[$0] }) }
            let before = problems.count
            let code = cell("code"), name = cell("name"), parent = cell("parent"), weightText = cell("weight")
            if code.isEmpty || code.count > 64 {
                problem(row.number, "编码", "知识点编码不能为空且不超过 64 个字符", "a knowledge point code must be 1 to 64 characters")
            } else if let earlier = seen[code] {
                problem(row.number, "编码", "知识点编码 \(code) 与第 \(earlier) 行重复", "the code \(code) is already used in row \(earlier)")
            } else {
                seen[code] = row.number
            }
            if name.isEmpty { problem(row.number, "名称", "知识点 \(code) 没有名称", "knowledge point \(code) has no name") }
            var weight: Double?
            if !weightText.isEmpty {
                let value = CellText.number(weightText.replacingOccurrences(of: "%", with: ""))
                if let value, value >= 0 && value <= 100 {
                    weight = value
                } else {
                    problem(row.number, "比重", "比重“\(weightText)”须是 0–100 之间的数", "the weight '\(weightText)' must be a number from 0 to 100")
                }
            }
            drafts.append((row.number, KnowledgePoint(code: code, name: name, parent: parent.isEmpty ? nil : parent, weight: weight), problems.count == before))
        }
        let codes = Set(drafts.map(\.point.code).filter { !$0.isEmpty })
        let tree = KnowledgeTree(drafts.map(\.point))
        for index in drafts.indices {
            let point = drafts[index].point
            guard let parent = point.parent else { continue }
            if !codes.contains(parent) {
                problem(drafts[index].row, "上级编码", "上级编码 \(parent) 不存在", "the parent \(parent) does not exist")
                drafts[index].ok = false
            } else if tree.lineage(of: parent).contains(point.code) || parent == point.code {
                problem(drafts[index].row, "上级编码", "知识点 \(point.code) 的上级关系成环", "the parents of knowledge point \(point.code) form a loop")
                drafts[index].ok = false
            }
        }
        return (drafts.filter(\.ok).map(\.point), codes, problems)
    }
}
