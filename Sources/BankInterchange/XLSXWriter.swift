import Foundation

/// A cell to write: text (kept in the shared strings) or a number.
enum CellValue: Hashable {
    case text(String)
    case number(Double)
}

/// One sheet to write: rows from row 1, the first `headerRows` in bold and frozen, column widths in characters.
struct SheetContent {
    var name: String
    var rows: [[CellValue?]]
    var columnWidths: [Double] = []
    var headerRows = 1
    /// Ranges such as "A1:D1"; only the top-left cell of each holds a value.
    var merges: [String] = []
}

/// Writes a real .xlsx (Office Open XML spreadsheet) with shared strings, a bold frozen header and wrapped text,
/// that Excel, WPS, LibreOffice and openpyxl open.
enum XLSXWriter {
    static let mainNS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let relNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    static let packageRelNS = "http://schemas.openxmlformats.org/package/2006/relationships"
    static let maxCellText = 32_767

    static func write(_ sheets: [SheetContent]) throws -> Data {
        var strings: [String] = []
        var stringIndex: [String: Int] = [:]
        func shared(_ text: String) -> Int {
            if let index = stringIndex[text] { return index }
            strings.append(text)
            stringIndex[text] = strings.count - 1
            return strings.count - 1
        }

        var parts: [(path: String, data: Data)] = []
        var worksheets: [String] = []
        for sheet in sheets {
            var xml = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            xml += #"<worksheet xmlns="\#(mainNS)" xmlns:r="\#(relNS)">"#
            let width = sheet.rows.map(\.count).max() ?? 0
            if !sheet.rows.isEmpty && width > 0 {
                xml += #"<dimension ref="A1:\#(reference(column: width - 1, row: sheet.rows.count))"/>"#
            }
            xml += #"<sheetViews><sheetView workbookViewId="0""# + (sheets.first?.name == sheet.name ? #" tabSelected="1""# : "") + ">"
            if sheet.headerRows > 0 && sheet.rows.count > sheet.headerRows {
                let top = "A\(sheet.headerRows + 1)"
                xml += #"<pane ySplit="\#(sheet.headerRows)" topLeftCell="\#(top)" activePane="bottomLeft" state="frozen"/>"#
            }
            xml += "</sheetView></sheetViews>"
            xml += #"<sheetFormatPr defaultRowHeight="15"/>"#
            if !sheet.columnWidths.isEmpty {
                xml += "<cols>"
                for (index, width) in sheet.columnWidths.enumerated() {
                    xml += #"<col min="\#(index + 1)" max="\#(index + 1)" width="\#(width)" customWidth="1"/>"#
                }
                xml += "</cols>"
            }
            xml += "<sheetData>"
            for (rowIndex, row) in sheet.rows.enumerated() {
                let number = rowIndex + 1
                xml += #"<row r="\#(number)">"#
                let style = rowIndex < sheet.headerRows ? 1 : 2
                for (column, cell) in row.enumerated() {
                    guard let cell else { continue }
                    let ref = reference(column: column, row: number)
                    switch cell {
                    case .text(let text):
                        xml += #"<c r="\#(ref)" s="\#(style)" t="s"><v>\#(shared(text))</v></c>"#
                    case .number(let value):
                        xml += #"<c r="\#(ref)" s="\#(style)"><v>\#(CellText.format(value))</v></c>"#
                    }
                }
                xml += "</row>"
            }
            xml += "</sheetData>"
            if !sheet.merges.isEmpty {
                xml += #"<mergeCells count="\#(sheet.merges.count)">"#
                for range in sheet.merges { xml += #"<mergeCell ref="\#(range)"/>"# }
                xml += "</mergeCells>"
            }
            xml += #"<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#
            xml += "</worksheet>"
            let path = "xl/worksheets/sheet\(worksheets.count + 1).xml"
            worksheets.append(path)
            parts.append((path, Data(xml.utf8)))
        }

        var sst = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        sst += #"<sst xmlns="\#(mainNS)" count="\#(strings.count)" uniqueCount="\#(strings.count)">"#
        for text in strings { sst += #"<si><t xml:space="preserve">\#(xmlEscape(text))</t></si>"# }
        sst += "</sst>"

        var types = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        types += #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
        types += #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
        types += #"<Default Extension="xml" ContentType="application/xml"/>"#
        types += #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        for path in worksheets {
            types += #"<Override PartName="/\#(path)" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }
        types += #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        types += #"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#
        types += "</Types>"

        var rootRels = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        rootRels += #"<Relationships xmlns="\#(packageRelNS)">"#
        rootRels += #"<Relationship Id="rId1" Type="\#(relNS)/officeDocument" Target="xl/workbook.xml"/>"#
        rootRels += "</Relationships>"

        var workbook = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        workbook += #"<workbook xmlns="\#(mainNS)" xmlns:r="\#(relNS)"><bookViews><workbookView/></bookViews><sheets>"#
        var workbookRels = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        workbookRels += #"<Relationships xmlns="\#(packageRelNS)">"#
        for (index, sheet) in sheets.enumerated() {
            workbook += #"<sheet name="\#(xmlEscape(sheet.name, attribute: true))" sheetId="\#(index + 1)" r:id="rId\#(index + 1)"/>"#
            workbookRels += #"<Relationship Id="rId\#(index + 1)" Type="\#(relNS)/worksheet" Target="worksheets/sheet\#(index + 1).xml"/>"#
        }
        workbook += "</sheets></workbook>"
        workbookRels += #"<Relationship Id="rId\#(sheets.count + 1)" Type="\#(relNS)/styles" Target="styles.xml"/>"#
        workbookRels += #"<Relationship Id="rId\#(sheets.count + 2)" Type="\#(relNS)/sharedStrings" Target="sharedStrings.xml"/>"#
        workbookRels += "</Relationships>"

        return try ZipParts.write(
            [("[Content_Types].xml", Data(types.utf8)), ("_rels/.rels", Data(rootRels.utf8)),
             ("xl/workbook.xml", Data(workbook.utf8)), ("xl/_rels/workbook.xml.rels", Data(workbookRels.utf8)),
             ("xl/styles.xml", Data(styles.utf8)), ("xl/sharedStrings.xml", Data(sst.utf8))] + parts)
    }

    /// "A1"-style reference; `column` from 0.
    static func reference(column: Int, row: Int) -> String { columnName(column) + String(row) }

    static func columnName(_ column: Int) -> String {
        var name = ""
        var value = column + 1
        while value > 0 {
            let remainder = (value - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            value = (value - 1) / 26
        }
        return name
    }

    /// Style 0 plain, 1 bold header, 2 wrapped text aligned to the top.
    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="\(mainNS)">\
        <fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>\
        <font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """
}
