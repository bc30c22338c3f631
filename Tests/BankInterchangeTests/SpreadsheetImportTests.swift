import BankInterchange
import ExamCore
import Foundation
import QuestionBank
import Testing

@Suite struct SpreadsheetImportTests {
    @Test func anEditorsWorkbookBecomesQuestionsOfEveryType() throws {
        // Given a workbook written by openpyxl: title and note rows merged above the header, columns in their own
        // order, empty rows, numbers typed as numbers, a boolean, a rich-text stem and a 知识点 sheet
        let result = try readBank(try fixture("bank-good.xlsx"), .xlsx, known: [])

        // Then every row is a question, with no problem
        #expect(result.problems == [])
        #expect(result.questions.map(\.question.id.rawValue) == [
            "Q-SC-1", "Q-MC-1", "Q-TF-1", "Q-TF-2", "Q-FB-1", "Q-SA-1", "Q-ES-1", "Q-CA-1", "Q-FL-1", "Q-CS-1", "Q-TH-1", "imp-20",
        ])
        #expect(result.questions.map(\.row) == [4, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19, 20])

        let single = try #require(result.question("Q-SC-1"))
        #expect(single.content == .singleChoice(options: options(["50 Hz", "60 Hz", "100 Hz", "220 Hz"]), correct: "a"))
        #expect(single.points == 2 && single.difficulty == 1 && single.knowledgePoints == ["1.1"])
        #expect(single.explanation == "我国电网标准频率为 50 Hz。")
        #expect(result.question("Q-MC-1")?.content == .multipleChoice(
            options: options(["停电", "口头通知即可送电", "验电", "装设接地线", "悬挂标示牌"]), correct: ["a", "c", "d", "e"]))
        #expect(result.question("Q-MC-1")?.knowledgePoints == ["1.2", "2.1"])
        #expect(result.question("Q-TF-1")?.content == .trueFalse(correct: true))
        #expect(result.question("Q-TF-2")?.content == .trueFalse(correct: false))
        #expect(result.question("Q-FB-1")?.content == .fillBlank(blanks: [Blank(accepted: ["U/R", "U÷R"]), Blank(accepted: ["欧姆", "Ω"])]))
        let short = try #require(result.question("Q-SA-1"))
        #expect(short.stem == "简述发现有人触电时的正确处理方法。")
        #expect(short.content == .shortAnswer(
            reference: "迅速切断电源；判断伤情；必要时进行心肺复苏。",
            scheme: [ScoringPoint(description: "使触电者脱离电源", points: 4), ScoringPoint(description: "判断伤情", points: 2),
                     ScoringPoint(description: "正确施救并呼叫急救", points: 4)]))
        // 分值 left empty: the type's default
        #expect(result.question("Q-ES-1")?.points == TypeDefaults.standard.points(for: .essay))
        #expect(result.question("Q-CA-1")?.content == .calculation(correct: 5, tolerance: 0.05, unit: "A"))
        #expect(result.question("Q-CA-1")?.points == 5.5)
        #expect(result.question("Q-FL-1")?.content == .flowchart(
            steps: [FlowStep(id: "a", text: "在控制板上固定元件并布线"), FlowStep(id: "b", text: "识读电气原理图"),
                    FlowStep(id: "c", text: "通电试车"), FlowStep(id: "d", text: "用万用表检查线路")],
            correct: ["b", "a", "d", "c"], asksDescription: false))
        let caseAnalysis = try #require(result.question("Q-CS-1"))
        guard case .caseAnalysis(let material, let subs) = caseAnalysis.content else {
            Issue.record("not a case analysis")
            return
        }
        #expect(material == "某车间一台电动机运行中突然停转，热继电器动作，一相熔体已熔断。")
        #expect(subs.map(\.id.rawValue) == ["Q-CS-1-1", "Q-CS-1-2"])
        #expect(subs[0].content == .singleChoice(options: options(["电源电压过高", "缺相运行导致过载", "负载过轻"]), correct: "b"))
        #expect(subs[1].content == .trueFalse(correct: true))
        #expect(caseAnalysis.points == 5)
        #expect(result.question("Q-TH-1")?.content == .thesis(
            requirements: "不少于 3000 字。", attachment: AttachmentRule(types: ["pdf", "docx"], maxBytes: 10 * 1024 * 1024)))
        #expect(result.question("imp-20")?.content == .singleChoice(options: options(["24 V", "36 V", "42 V"]), correct: "c"))

        // And the 知识点 sheet comes back as the bank's knowledge points
        #expect(result.knowledgePoints == [
            KnowledgePoint(code: "1", name: "基础知识", weight: 30), KnowledgePoint(code: "1.1", name: "电工基础", parent: "1"),
            KnowledgePoint(code: "1.2", name: "安全用电", parent: "1", weight: 12.5), KnowledgePoint(code: "2", name: "相关知识", weight: 70),
            KnowledgePoint(code: "2.1", name: "电动机控制", parent: "2"),
        ])
    }

    @Test func everyBadRowIsReportedWithItsRowAndColumnAndTheGoodRowsAreKept() throws {
        let result = try readBank(try fixture("bank-bad.xlsx"), .xlsx, known: ["1.1"])

        #expect(result.questions.map(\.question.id.rawValue) == ["B-OK-1", "B-OK-21"])
        #expect(result.question("B-OK-21")?.points == 1.5)
        let expected: [Place] = [
            Place(row: 3, column: "题型"), Place(row: 4, column: "题干"), Place(row: 5, column: "答案"), Place(row: 6, column: "答案"),
            Place(row: 7, column: "分值"), Place(row: 8, column: "分值"), Place(row: 9, column: "难度"), Place(row: 10, column: "知识点"),
            Place(row: 11, column: "编号"), Place(row: 12, column: "编号"), Place(row: 13, column: "选项"), Place(row: 14, column: "答案"),
            Place(row: 15, column: "选项B"), Place(row: 16, column: "答案"), Place(row: 17, column: "答案"), Place(row: 18, column: "所属案例"),
            Place(row: 19, column: "答案"), Place(row: 20, column: "评分标准"),
        ]
        #expect(result.places == Set(expected), "\(result.problems.map { "\($0.row) \($0.column ?? "-") \($0.message.en)" })")
        // One problem per bad row: no double report of the same mistake
        #expect(result.problems.count == expected.count, "\(result.problems.map { "\($0.row) \($0.message.en)" })")

        func message(_ row: Int) -> Message? { result.problems.first { $0.row == row }?.message }
        #expect(message(3) == Message(zh: "未知题型“选择题”", en: "unknown question type '选择题'"))
        #expect(message(4) == Message(zh: "题干为空", en: "the stem is empty"))
        #expect(message(5) == Message(zh: "答案 E 不在选项中", en: "the answer E is not one of the options"))
        #expect(message(6) == Message(zh: "缺少答案", en: "the answer is missing"))
        #expect(message(7) == Message(zh: "分值“两分”不是数字", en: "the points '两分' are not a number"))
        #expect(message(8)?.en == "points must be above 0 and at most 1000 (it is 0)")
        #expect(message(9)?.zh == "难度必须是 1 到 5 的整数（现为 6）")
        #expect(message(10) == Message(zh: "知识点 9.9 不在知识点表中", en: "the knowledge point 9.9 is not in the knowledge point list"))
        #expect(message(11) == Message(zh: "编号 B-OK-1 与第 2 行重复", en: "the id B-OK-1 is already used in row 2"))
        #expect(message(12)?.zh.hasPrefix("编号“坏 编号”只能包含") == true)
        #expect(message(13)?.en == "question B-13: it must have 2 to 30 steps")
        #expect(message(14)?.zh == "试题 B-14：第 2 空没有可接受的答案")
        #expect(message(15)?.en == "option B is empty while later options are filled")
        #expect(message(16)?.en == "the calculation answer '五' is not a number")
        #expect(message(17)?.zh == "判断题答案“可能”应为 对 或 错")
        #expect(message(18) == Message(zh: "找不到编号为 NOPE 的案例分析题", en: "there is no case analysis with the id NOPE"))
        #expect(message(19)?.en == "a single choice question has one answer (it is AB)")
        #expect(message(20)?.en == "line 1 of the marking scheme must read 'point: points'")
    }

    @Test func sharedStringsRichTextPrefixesAndAbsoluteTargetsAreRead() throws {
        // Given a workbook as other writers make it: shared strings with runs and a phonetic run, x: prefixes,
        // cells without references, a number 3.0, a sheet named Sheet1
        let result = try readBank(try fixture("shared-strings-prefixed.xlsx"), .xlsx)
        #expect(result.problems == [])
        let question = try #require(result.questions.first?.question)
        #expect(question.id == "imp-2")
        #expect(question.stem == "电压的单位是")
        #expect(question.points == 3)
        #expect(question.content == .singleChoice(options: options(["伏特", "安培"]), correct: "a"))
    }

    @Test func aCaseWithABadSubQuestionIsLeftOutAndSaysWhy() throws {
        var questions = [SampleBank.caseAnalysis]
        if case .caseAnalysis(let material, var subs) = questions[0].content {
            subs[1].stem = ""
            questions[0].content = .caseAnalysis(material: material, subQuestions: subs)
        }
        let written = try BankExport.write(questions, knowledgePoints: [], format: .xlsx)
        let result = try readBank(written.data, .xlsx)
        #expect(result.questions.isEmpty)
        #expect(result.places == [Place(row: 2, column: nil), Place(row: 4, column: "题干")])
        #expect(result.problems.first?.message.zh == "小题有错误（第 4 行）")
    }

    @Test func knowledgePointSheetProblemsNameTheSheet() throws {
        let points = [
            KnowledgePoint(code: "1", name: "基础"), KnowledgePoint(code: "1", name: "重复"),
            KnowledgePoint(code: "2", name: "", parent: "9"), KnowledgePoint(code: "3", name: "比重", weight: 120),
        ]
        let written = try BankExport.write([SampleBank.trueFalse], knowledgePoints: points, format: .xlsx)
        let result = try readBank(written.data, .xlsx)
        #expect(result.questions.count == 1)
        #expect(Set(result.problems.map { "\($0.sheet ?? "") \($0.row) \($0.column ?? "")" }) == [
            "知识点 3 编码", "知识点 4 名称", "知识点 4 上级编码", "知识点 5 比重",
        ])
    }

    @Test func aFileThatIsNotAWorkbookIsRefusedWhole() throws {
        #expect(throws: BankFileError.self) { try readBank(Data("题型,题干\n单选,x".utf8), .xlsx) }
        do throws(BankFileError) {
            _ = try readBank(Data("not a zip".utf8), .xlsx)
            Issue.record("read a text file as a workbook")
        } catch {
            #expect(error.code == "bank_not_xlsx")
            #expect(error.message.zh.contains(".xlsx"))
        }
        // A zip that is not a workbook (a QTI package)
        let package = try BankExport.write([SampleBank.single], knowledgePoints: [], format: .qti21).data
        #expect { try readBank(package, .xlsx) } throws: { ($0 as? BankFileError)?.code == "bank_not_xlsx" }
    }

    @Test func aWorkbookWithoutQuestionSheetOrHeaderIsRefusedWhole() throws {
        #expect { try readBank(try fixture("no-question-sheet.xlsx"), .xlsx) } throws: {
            ($0 as? BankFileError)?.code == "bank_no_question_sheet"
        }
        #expect { try readBank(try fixture("no-header.xlsx"), .xlsx) } throws: {
            ($0 as? BankFileError)?.code == "bank_no_header"
        }
    }

    @Test func theTemplateImportsWithoutProblems() throws {
        let result = try readBank(BankExport.template(), .xlsx)
        #expect(result.problems == [])
        #expect(Set(result.questions.map(\.question.type)) == Set(QuestionType.allCases))
        #expect(!result.knowledgePoints.isEmpty)
    }
}
