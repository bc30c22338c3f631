import BankInterchange
import ExamCore
import Foundation
import QuestionBank
import Testing

@Suite struct XMLImportTests {
    @Test func aMoodleBankBecomesQuestionsAndUnsupportedTypesAreNamed() throws {
        // Given a Moodle XML export with a category, HTML stems, tags, every supported type and two unsupported ones
        let result = try readBank(try fixture("moodle-bank.xml"), .moodle)

        #expect(result.questions.map(\.question.id.rawValue) == ["M-SC-1", "imp-2", "imp-3", "imp-4", "imp-5", "imp-6", "imp-7"])
        let single = try #require(result.question("M-SC-1"))
        #expect(single.stem == "我国工频交流电的频率是 多少？\n（单位：Hz&赫兹）")
        #expect(single.content == .singleChoice(options: options(["60 Hz", "50 Hz", "100 Hz"]), correct: "b"))
        #expect(single.points == 2 && single.difficulty == 1 && single.knowledgePoints == ["1.1"])
        #expect(single.explanation == "我国电网标准频率为 50 Hz。")
        let multiple = try #require(result.question("imp-2"))
        #expect(multiple.stem == "停电检修时，保证安全的技术措施包括：\n（多选）")
        #expect(multiple.content == .multipleChoice(options: options(["停电", "验电", "装设接地线", "口头通知即可送电"]), correct: ["a", "b", "c"]))
        #expect(multiple.knowledgePoints == ["1.2", "2.1"])
        #expect(result.question("imp-3")?.content == .trueFalse(correct: true))
        #expect(result.question("imp-4")?.content == .fillBlank(blanks: [Blank(accepted: ["42", "四十二"])]))
        #expect(result.question("imp-5")?.content == .calculation(correct: 5, tolerance: 0.05, unit: "A"))
        #expect(result.question("imp-5")?.difficulty == 2)
        #expect(result.question("imp-6")?.content == .shortAnswer(
            reference: "迅速切断电源；判断伤情。",
            scheme: [ScoringPoint(description: "使触电者脱离电源", points: 4), ScoringPoint(description: "判断伤情", points: 6)]))
        #expect(result.question("imp-7")?.content == .essay(reference: nil, scheme: []))
        #expect(result.question("imp-7")?.points == 18)

        // Matching and cloze are refused by item number; the item without a right answer and with difficulty 9 too
        #expect(result.problems.first { $0.row == 8 } == RowProblem(
            row: 8, column: "type", message: Message(zh: "不支持的题型“matching”", en: "the question type 'matching' is not supported")))
        #expect(result.problems.contains { $0.row == 9 && $0.column == "type" })
        #expect(Set(result.problems.filter { $0.row == 10 }.compactMap(\.column)) == ["answer", "difficulty"])
        #expect(Set(result.problems.map(\.row)) == [8, 9, 10])
    }

    @Test func moodleKnowledgePointsAreCheckedWhenTheBanksListIsGiven() throws {
        let result = try readBank(try fixture("moodle-bank.xml"), .moodle, known: ["1.1", "1.2"])
        #expect(result.problems.contains {
            $0.row == 2 && $0.column == "knowledgePoints" && $0.message.zh == "知识点 2.1 不在知识点表中"
        })
        #expect(result.question("imp-2") == nil)
    }

    @Test func aQTI21ChoiceItemFileIsRead() throws {
        let result = try readBank(try fixture("qti21-choice.xml"), .qti21)
        #expect(result.problems == [])
        let question = try #require(result.questions.first?.question)
        // The identifier "choice 工频" made well-formed
        #expect(question.id == "choice---")
        #expect(question.stem == "我国工频交流电的频率是多少？\n请选择一个答案。")
        #expect(question.content == .singleChoice(
            options: [ChoiceOption(id: "ChoiceA", text: "50 Hz"), ChoiceOption(id: "ChoiceB", text: "60 Hz"), ChoiceOption(id: "ChoiceC", text: "100 Hz")],
            correct: "ChoiceA"))
        // No score in the item: the type's default
        #expect(question.points == TypeDefaults.standard.points(for: .singleChoice))
    }

    @Test func aQTI30TextEntryItemBecomesAFillInTheBlankQuestion() throws {
        let result = try readBank(try fixture("qti30-text-entry.xml"), .qti30)
        #expect(result.problems == [])
        let question = try #require(result.questions.first?.question)
        #expect(question.id == "ohm-law")
        #expect(question.stem == "欧姆定律的表达式为 I = ____，电阻的单位是 ____。")
        #expect(question.content == .fillBlank(blanks: [Blank(accepted: ["U/R", "U÷R"]), Blank(accepted: ["欧姆", "Ω"])]))
        #expect(question.points == 4)
        #expect(question.knowledgePoints == ["1.1"])
    }

    @Test func everyItemOfAQTIPackageIsReadAndBadOnesAreNamed() throws {
        let result = try readBank(try fixture("qti21-package.zip"), .qti21)
        #expect(result.questions.map(\.question.id.rawValue) == ["order-steps", "essay", "choiceMultiple"])
        #expect(result.question("order-steps")?.content == .flowchart(
            steps: [FlowStep(id: "DriverA", text: "固定元件并布线"), FlowStep(id: "DriverB", text: "识读电气原理图"), FlowStep(id: "DriverC", text: "通电试车")],
            correct: ["DriverB", "DriverA", "DriverC"], asksDescription: false))
        #expect(result.question("order-steps")?.stem == "将安装步骤按正确顺序排列。")
        #expect(result.question("essay")?.content == .shortAnswer(
            reference: nil, scheme: [ScoringPoint(description: "使触电者脱离电源", points: 4), ScoringPoint(description: "判断伤情", points: 6)]))
        #expect(result.question("essay")?.points == 10)
        #expect(result.question("choiceMultiple")?.content == .multipleChoice(
            options: [ChoiceOption(id: "H", text: "停电"), ChoiceOption(id: "O", text: "验电"), ChoiceOption(id: "X", text: "口头通知即可送电")],
            correct: ["H", "O"]))
        #expect(result.question("choiceMultiple")?.points == 3)
        #expect(result.places == [Place(row: 4, column: "interaction"), Place(row: 5, column: nil)])
        #expect(result.problems.first { $0.row == 4 }?.message.en == "the interaction hotspotInteraction is not supported")
        #expect(result.problems.first { $0.row == 5 }?.message.zh == "清单中列出的文件 items/missing.xml 不在压缩包中")
    }

    @Test func filesOfAnotherKindAreRefusedWhole() throws {
        func code(_ data: Data, _ format: BankFormat) -> String? {
            do throws(BankFileError) {
                _ = try readBank(data, format)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(Data("<quiz><question".utf8), .moodle) == "bank_not_xml")
        #expect(code(try fixture("qti21-choice.xml"), .moodle) == "bank_not_moodle")
        #expect(code(try fixture("moodle-bank.xml"), .qti30) == "bank_not_qti")
        #expect(code(Data("题型,题干".utf8), .qti21) == "bank_not_xml")
        #expect(code(try fixture("bank-good.xlsx"), .qti21) == "bank_not_qti")
    }

    @Test func htmlBecomesPlainTextWithItsLineBreaks() throws {
        let quiz = """
            <quiz><question type="truefalse"><questiontext format="html"><text><![CDATA[
            <div>第一行<br/>第二行</div><ul><li>甲 &lt;乙&gt;</li><li>&#20025;&#x4E39;</li></ul><script>alert(1)</script><p>  多个   空格  </p>
            ]]></text></questiontext><answer fraction="100"><text>false</text></answer></question></quiz>
            """
        let result = try readBank(Data(quiz.utf8), .moodle)
        #expect(result.questions.first?.question.stem == "第一行\n第二行\n甲 <乙>\n丹丹\n多个 空格")
    }
}
