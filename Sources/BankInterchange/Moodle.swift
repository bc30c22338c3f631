import ExamCore
import Foundation
import SWXMLHash

/// Moodle XML (`<quiz>`): multichoice, truefalse, shortanswer, numerical and essay questions.
enum MoodleReader {
    static func items(_ data: Data) throws(BankFileError) -> [ItemDraft] {
        guard let root = ParsedXML.root(data) else { throw .notXML }
        guard root.localName == "quiz" else { throw .notMoodle }
        var items: [ItemDraft] = []
        for element in root.elements("question") {
            let type = element.attr("type") ?? ""
            if type == "category" { continue }
            items.append(item(element, type: type, number: items.count + 1))
        }
        return items
    }

    /// The plain text of an element holding `<text>` in some `format` (html unless it says plain_text or markdown).
    static func text(_ element: XElement?) -> String {
        guard let element, let text = element.first("text")?.text else { return "" }
        switch element.attr("format") {
        case "plain_text", "markdown": return text.trimmingCharacters(in: .whitespacesAndNewlines)
        default: return HTMLText.plainText(text)
        }
    }

    private static func item(_ element: XElement, type: String, number: Int) -> ItemDraft {
        var problems: [RowProblem] = []
        func problem(_ column: String?, _ zh: String, _ en: String) {
            problems.append(RowProblem(row: number, column: column, zh: zh, en: en))
        }
        let identifier = element.first("idnumber")?.text
        let stem = text(element.first("questiontext"))
        let explanation = text(element.first("generalfeedback"))
        let tags = ItemTags.read(element.first("tags")?.elements("tag").map { $0.first("text")?.text ?? $0.text } ?? [], item: number)
        problems += tags.problems
        var points = 0.0
        var pointsGiven = false
        if let grade = element.first("defaultgrade")?.text, let value = CellText.number(grade) {
            points = value
            pointsGiven = true
        }
        let answers = element.elements("answer").map { answer in
            (fraction: CellText.number(answer.attr("fraction") ?? "0") ?? 0, element: answer)
        }
        func missingAnswer() { problem("answer", "没有得分为正的答案", "no answer has a positive fraction") }

        let content: QuestionContent
        switch type {
        case "multichoice":
            let single = ["true", "1"].contains(element.first("single")?.text.trimmingCharacters(in: .whitespaces).lowercased() ?? "true")
            let options = answers.enumerated().map { ChoiceOption(id: optionID($0.offset), text: text($0.element.element)) }
            if single {
                let best = answers.map(\.fraction).max() ?? 0
                let index = answers.firstIndex { $0.fraction == best && best > 0 }
                if index == nil { missingAnswer() }
                content = .singleChoice(options: options, correct: index.map(optionID) ?? "")
            } else {
                let correct = answers.indices.filter { answers[$0].fraction > 0 }.map(optionID)
                if correct.isEmpty { missingAnswer() }
                content = .multipleChoice(options: options, correct: correct)
            }
        case "truefalse":
            let right = answers.first { $0.fraction >= 100 } ?? answers.max { $0.fraction < $1.fraction }
            let value = right.flatMap { CellText.truth(text($0.element)) }
            if value == nil { missingAnswer() }
            content = .trueFalse(correct: value ?? false)
        case "shortanswer":
            let accepted = answers.filter { $0.fraction >= 100 }.map { rawText($0.element) }.filter { !$0.isEmpty }
            if accepted.isEmpty { missingAnswer() }
            content = .fillBlank(blanks: [Blank(accepted: accepted)])
        case "numerical":
            var correct = 0.0
            var tolerance = 0.0
            if let right = answers.first(where: { $0.fraction >= 100 }) {
                let valueText = rawText(right.element)
                if let value = CellText.number(valueText) {
                    correct = value
                } else {
                    problem("answer", "数值答案“\(valueText)”不是数字", "the numerical answer '\(valueText)' is not a number")
                }
                if let toleranceText = right.element.first("tolerance")?.text {
                    tolerance = CellText.number(toleranceText) ?? -1
                }
            } else {
                missingAnswer()
            }
            let unit = element.first("units")?.elements("unit").first { unit in
                CellText.number(unit.first("multiplier")?.text ?? "1") == 1
            }?.first("unit_name")?.text.trimmingCharacters(in: .whitespaces)
            content = .calculation(correct: correct, tolerance: tolerance, unit: unit?.isEmpty == false ? unit : nil)
        case "essay":
            let info = text(element.first("graderinfo"))
            if tags.markers.contains("thesis") {
                var rule: AttachmentRule?
                let attachments = Int(element.first("attachments")?.text.trimmingCharacters(in: .whitespaces) ?? "0") ?? 0
                if attachments != 0 {
                    let types = (element.first("filetypeslist")?.text ?? "").split(whereSeparator: { ",; ".contains($0) })
                        .map { $0.hasPrefix(".") ? String($0.dropFirst()) : String($0) }.map { $0.lowercased() }
                    let bytes = Int(element.first("maxbytes")?.text.trimmingCharacters(in: .whitespaces) ?? "0") ?? 0
                    rule = AttachmentRule(types: types, maxBytes: bytes > 0 ? bytes : CellText.defaultAttachmentBytes)
                }
                content = .thesis(requirements: info.isEmpty ? nil : info, attachment: rule)
            } else {
                let (reference, scheme, bad) = GraderInfo.split(info)
                if bad > 0 {
                    problem("graderinfo", "评分标准第 \(bad) 行应写成“要点：分值”", "line \(bad) of the marking scheme must read 'point: points'")
                }
                content = tags.markers.contains("essay") ? .essay(reference: reference, scheme: scheme) : .shortAnswer(reference: reference, scheme: scheme)
            }
        default:
            problem("type", "不支持的题型“\(type)”", "the question type '\(type)' is not supported")
            return ItemDraft(number: number, identifier: identifier, question: nil, pointsGiven: false, problems: problems)
        }
        let question = Question(
            id: "", stem: stem, points: points, content: content, explanation: explanation.isEmpty ? nil : explanation,
            knowledgePoints: tags.kps, difficulty: tags.difficulty)
        return ItemDraft(number: number, identifier: identifier, question: question, pointsGiven: pointsGiven, problems: problems)
    }

    /// The text of an answer that Moodle keeps as typed (short answers, numbers), not as HTML.
    private static func rawText(_ answer: XElement) -> String {
        let text = answer.first("text")?.text ?? ""
        return (answer.attr("format") == "html" ? HTMLText.plainText(text) : text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func optionID(_ index: Int) -> String {
        index < 26 ? String(UnicodeScalar(UInt8(97 + index))) : "o\(index + 1)"
    }
}

/// A reference answer and a marking scheme in one text (Moodle's graderinfo): the scheme follows a line "评分标准：".
enum GraderInfo {
    static let marker = "评分标准："

    static func join(reference: String?, scheme: [ScoringPoint]) -> String {
        var parts: [String] = []
        if let reference, !reference.isEmpty { parts.append(reference) }
        if !scheme.isEmpty { parts.append(marker + "\n" + CellText.schemeText(scheme)) }
        return parts.joined(separator: "\n")
    }

    /// The reference (nil when empty), the scheme, and the first line of the scheme that could not be read (0 if none).
    static func split(_ text: String) -> (String?, [ScoringPoint], Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let index = lines.firstIndex(where: { ["评分标准：", "评分标准:"].contains($0.trimmingCharacters(in: .whitespaces)) }) else {
            return (text.isEmpty ? nil : text, [], 0)
        }
        let reference = lines[..<index].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let (scheme, bad) = CellText.scheme(lines[(index + 1)...].joined(separator: "\n"))
        return (reference.isEmpty ? nil : reference, scheme, bad.first ?? 0)
    }
}

/// Writes Moodle XML; flowchart, case analysis and fill-in-the-blank with more than one blank are skipped.
enum MoodleWriter {
    static func write(_ questions: [Question]) -> (data: Data, skipped: [RowProblem]) {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n<quiz>\n"
        var skipped: [RowProblem] = []
        for (index, question) in questions.enumerated() {
            switch element(question) {
            case .success(let text): xml += text
            case .failure(let reason): skipped.append(RowProblem(row: index + 1, column: nil, message: reason.message))
            }
        }
        xml += "</quiz>\n"
        return (Data(xml.utf8), skipped)
    }

    private static func html(_ text: String) -> String { "<text>" + cdata(HTMLText.html(text)) + "</text>" }

    private static func fraction(_ value: Double) -> String {
        let rounded = (value * 100_000).rounded() / 100_000
        return CellText.format(rounded)
    }

    private static func element(_ question: Question) -> Result<String, SkipReason> {
        let id = question.id.rawValue
        let type: String
        var body = ""
        var tags = ItemTags.make(question)
        func answer(_ fraction: Double, _ inner: String, format: String = "html", extra: String = "") -> String {
            #"    <answer fraction="\#(self.fraction(fraction))" format="\#(format)">"# + inner + extra
                + #"<feedback format="html"><text></text></feedback></answer>"# + "\n"
        }
        switch question.content {
        case .singleChoice(let options, let correct):
            type = "multichoice"
            body += "    <single>true</single>\n    <shuffleanswers>true</shuffleanswers>\n    <answernumbering>ABCD</answernumbering>\n"
            for option in options { body += answer(option.id == correct ? 100 : 0, html(option.text)) }
        case .multipleChoice(let options, let correct):
            type = "multichoice"
            body += "    <single>false</single>\n    <shuffleanswers>true</shuffleanswers>\n    <answernumbering>ABCD</answernumbering>\n"
            let share = correct.isEmpty ? 0 : 100 / Double(Set(correct).count)
            for option in options { body += answer(correct.contains(option.id) ? share : 0, html(option.text)) }
        case .trueFalse(let correct):
            type = "truefalse"
            body += answer(correct ? 100 : 0, "<text>true</text>", format: "moodle_auto_format")
            body += answer(correct ? 0 : 100, "<text>false</text>", format: "moodle_auto_format")
        case .fillBlank(let blanks):
            guard blanks.count == 1 else {
                return .failure(SkipReason("试题 \(id)：Moodle 的简答题只能有一个空，此题有 \(blanks.count) 个空", "question \(id): a Moodle short answer has one blank, this one has \(blanks.count)"))
            }
            type = "shortanswer"
            body += "    <usecase>0</usecase>\n"
            for accepted in blanks[0].accepted { body += answer(100, "<text>\(xmlEscape(accepted))</text>", format: "moodle_auto_format") }
        case .calculation(let correct, let tolerance, let unit):
            type = "numerical"
            body += answer(100, "<text>\(CellText.format(correct))</text>", format: "moodle_auto_format", extra: "<tolerance>\(CellText.format(tolerance))</tolerance>")
            if let unit {
                body += "    <units><unit><multiplier>1</multiplier><unit_name>\(xmlEscape(unit))</unit_name></unit></units>\n"
                body += "    <unitgradingtype>0</unitgradingtype>\n    <unitpenalty>0.1</unitpenalty>\n    <showunits>3</showunits>\n    <unitsleft>0</unitsleft>\n"
            }
        case .shortAnswer(let reference, let scheme), .essay(let reference, let scheme):
            type = "essay"
            if question.type == .essay { tags.append("kaodian:essay") }
            body += essay(graderInfo: GraderInfo.join(reference: reference, scheme: scheme), attachment: nil)
        case .thesis(let requirements, let attachment):
            type = "essay"
            tags.append("kaodian:thesis")
            body += essay(graderInfo: requirements ?? "", attachment: attachment)
        case .flowchart:
            return .failure(SkipReason("试题 \(id)：Moodle XML 没有流程图（排序）题型", "question \(id): Moodle XML has no flowchart (ordering) type"))
        case .caseAnalysis:
            return .failure(SkipReason("试题 \(id)：Moodle XML 不能表示案例分析题", "question \(id): Moodle XML cannot carry a case analysis"))
        }
        var xml = "  <!-- question: \(xmlEscape(id).replacingOccurrences(of: "--", with: "- -")) -->\n"
        xml += #"  <question type="\#(type)">"# + "\n"
        xml += "    <name><text>\(xmlEscape(id))</text></name>\n"
        xml += #"    <questiontext format="html">"# + html(question.stem) + "</questiontext>\n"
        xml += #"    <generalfeedback format="html">"# + (question.explanation.map(html) ?? "<text></text>") + "</generalfeedback>\n"
        xml += "    <defaultgrade>\(CellText.format(question.points))</defaultgrade>\n"
        xml += "    <penalty>0</penalty>\n    <hidden>0</hidden>\n"
        xml += "    <idnumber>\(xmlEscape(id))</idnumber>\n"
        xml += body
        if !tags.isEmpty {
            xml += "    <tags>" + tags.map { "<tag><text>\(xmlEscape($0))</text></tag>" }.joined() + "</tags>\n"
        }
        xml += "  </question>\n"
        return .success(xml)
    }

    private static func essay(graderInfo: String, attachment: AttachmentRule?) -> String {
        var body = "    <responseformat>editor</responseformat>\n    <responserequired>\(attachment == nil ? 1 : 0)</responserequired>\n"
        body += "    <responsefieldlines>15</responsefieldlines>\n"
        if let attachment {
            body += "    <attachments>1</attachments>\n    <attachmentsrequired>0</attachmentsrequired>\n"
            body += "    <maxbytes>\(attachment.maxBytes)</maxbytes>\n"
            body += "    <filetypeslist>\(xmlEscape(attachment.types.map { "." + $0 }.joined(separator: ",")))</filetypeslist>\n"
        } else {
            body += "    <attachments>0</attachments>\n    <attachmentsrequired>0</attachmentsrequired>\n"
        }
        body += #"    <graderinfo format="html">"# + (graderInfo.isEmpty ? "<text></text>" : html(graderInfo)) + "</graderinfo>\n"
        body += #"    <responsetemplate format="html"><text></text></responsetemplate>"# + "\n"
        return body
    }
}
