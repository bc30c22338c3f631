import BankInterchange
import ExamCore
import Foundation
import QuestionBank
import Testing
import TestSupport

@Suite struct RoundTripTests {
    @Test func aWorkbookExportedAndImportedHoldsTheSameQuestionsOfEveryType() throws {
        // Given one question of every type, a case analysis with sub-questions among them, and knowledge points
        let written = try BankExport.write(SampleBank.all, knowledgePoints: SampleBank.knowledgePoints, format: .xlsx)
        #expect(written.skipped == [])

        // When the workbook is read back
        let result = try readBank(written.data, .xlsx, known: [])

        // Then the questions and the knowledge points are the same
        #expect(result.problems == [])
        #expect(result.questions.map(\.question) == SampleBank.all)
        #expect(result.knowledgePoints == SampleBank.knowledgePoints)
        // Rows: header 1, then one row per question, sub-questions right after their case
        #expect(result.questions.map(\.row) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15])
    }

    @Test func aRealSpreadsheetReaderOpensTheExportedWorkbook() throws {
        // Given the exported workbook on disk
        let written = try BankExport.write(SampleBank.all, knowledgePoints: SampleBank.knowledgePoints, format: .xlsx)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bank-\(UUID().uuidString).xlsx")
        try written.data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        // When openpyxl opens it
        let script = """
            import json, sys, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            ws = wb["试题"]
            rows = [[c.value for c in r] for r in ws.iter_rows()]
            kp = [[c.value for c in r] for r in wb["知识点"].iter_rows()]
            print(json.dumps({"sheets": wb.sheetnames, "header": rows[0], "first": rows[1], "rows": len(rows),
                              "calc": rows[8], "kp": kp[1], "guide": wb["说明"].max_row}, ensure_ascii=False))
            """
        let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-tests/bin/python").path
        let run = try runTool(python, ["-c", script, file.path])
        #expect(run.status == 0, "\(run.errors)")

        // Then it sees the sheets, the header, text as text and numbers as numbers
        struct Seen: Decodable {
            var sheets: [String]
            var header: [String]
            var first: [JSONValue]
            var rows: Int
            var calc: [JSONValue]
            var kp: [JSONValue]
            var guide: Int
        }
        let seen = try JSONDecoder().decode(Seen.self, from: Data(run.output.utf8))
        #expect(seen.sheets == ["试题", "知识点", "说明"])
        #expect(seen.header.prefix(5) == ["编号", "题型", "题干", "选项A", "选项B"])
        #expect(seen.first.prefix(4) == [.string("S-SC-1"), .string("单选题"), .string("我国工频交流电的频率是多少？"), .string("50 Hz")])
        #expect(seen.first[12] == .number(2))
        #expect(seen.rows == 15)
        #expect(seen.calc[11] == .number(5) && seen.calc[17] == .number(0.05) && seen.calc[18] == .string("A"))
        #expect(seen.kp == [.string("1"), .string("基础知识"), .null, .number(30)])
        // The guide: its header, one row per column (22), three general notes
        #expect(seen.guide == 26)
    }

    @Test func moodleXMLCarriesWhatMoodleHasAndNamesTheRest() throws {
        let written = try BankExport.write(SampleBank.all, knowledgePoints: [], format: .moodle)
        // Two blanks, a flowchart and a case analysis have no Moodle type
        #expect(written.skipped.map(\.row) == [5, 9, 10])
        #expect(written.skipped.allSatisfy { !$0.message.zh.isEmpty && !$0.message.en.isEmpty })

        let result = try readBank(written.data, .moodle)
        #expect(result.problems == [])
        let carried = SampleBank.all.enumerated().filter { ![4, 8, 9].contains($0.offset) }.map(\.element)
        #expect(result.questions.map(\.question) == carried)
    }

    @Test(arguments: [BankFormat.qti21, .qti30])
    func qtiPackagesCarryWhatQTIHasAndNameTheRest(format: BankFormat) throws {
        let written = try BankExport.write(SampleBank.all, knowledgePoints: [], format: format)
        // A case analysis and a thesis are not exported
        #expect(written.skipped.map(\.row) == [10, 11])

        let result = try readBank(written.data, format)
        #expect(result.problems == [])
        #expect(result.questions.map(\.question) == Array(SampleBank.all.prefix(9)))
        #expect(result.questions.map(\.row) == Array(1...9))
    }

    @Test(arguments: [BankFormat.qti21, .qti30])
    func fillInTheBlankStemsComeBackAsWrittenWhateverTheirMarkers(format: BankFormat) throws {
        func blanks(_ id: String, _ stem: String, _ count: Int) -> Question {
            Question(id: Question.ID(id), stem: stem, points: Double(count),
                content: .fillBlank(blanks: (1...count).map { Blank(accepted: ["答\($0)"]) }))
        }
        let questions = [
            blanks("FB-NONE", "请依次填写三相交流电的相序。", 3),  // no markers at all
            blanks("FB-LONG", "安全电压的最高一级是________V。", 1),  // one long run: two markers' worth
            blanks("FB-SIX", "接地电阻不应大于______Ω。", 1),
            blanks("FB-FEWER", "电流 I = ____，电压 U 与电阻 R 的关系见下表。", 2),  // fewer markers than blanks
            blanks("FB-LINES", "第一行 ____\n第二行 ____", 2),
        ]
        let written = try BankExport.write(questions, knowledgePoints: [], format: format)
        #expect(written.skipped == [])
        let result = try readBank(written.data, format)
        #expect(result.problems == [])
        #expect(result.questions.map(\.question) == questions)
    }

    @Test func qtiVersionsWriteTheirOwnVocabulary() throws {
        let v21 = try unzipManifest(try BankExport.write([SampleBank.single], knowledgePoints: [], format: .qti21).data)
        #expect(v21.contains("imsqti_item_xmlv2p1") && v21.contains("http://www.imsglobal.org/xsd/imscp_v1p1"))
        let v30 = try unzipManifest(try BankExport.write([SampleBank.single], knowledgePoints: [], format: .qti30).data)
        #expect(v30.contains("imsqti_item_xmlv3p0") && v30.contains("qtiv3p0/imscp_v1p1"))
    }

    /// imsmanifest.xml of a package, read with Python's zipfile.
    private func unzipManifest(_ data: Data) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qti-\(UUID().uuidString).zip")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-tests/bin/python").path
        let script = "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read('imsmanifest.xml').decode())"
        let run = try runTool(python, ["-c", script, file.path])
        #expect(run.status == 0, "\(run.errors)")
        return run.output
    }
}
