import ExamCore
import Foundation
import SWXMLHash

/// The two QTI versions: 2.1 (`assessmentItem`, camelCase) and 3.0 (`qti-assessment-item`, kebab-case with a prefix).
enum QTIVersion {
    case v21, v30

    var namespace: String {
        switch self {
        case .v21: "http://www.imsglobal.org/xsd/imsqti_v2p1"
        case .v30: "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
        }
    }

    var schemaLocation: String {
        switch self {
        case .v21: "http://www.imsglobal.org/xsd/imsqti_v2p1 http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
        case .v30: "http://www.imsglobal.org/xsd/imsqtiasi_v3p0 https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
        }
    }

    var manifestNamespace: String {
        switch self {
        case .v21: "http://www.imsglobal.org/xsd/imscp_v1p1"
        case .v30: "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
        }
    }

    var resourceType: String {
        switch self {
        case .v21: "imsqti_item_xmlv2p1"
        case .v30: "imsqti_item_xmlv3p0"
        }
    }

    func template(_ name: String) -> String {
        switch self {
        case .v21: "http://www.imsglobal.org/question/qti_v2p1/rptemplates/\(name)"
        case .v30: "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/\(name)"
        }
    }

    /// An element's name in this version, from its QTI 2.1 name.
    func element(_ name: String) -> String { self == .v21 ? name : "qti-" + kebab(name) }
    /// An attribute's name in this version, from its QTI 2.1 name.
    func attribute(_ name: String) -> String { self == .v21 ? name : kebab(name) }
}

/// "responseIdentifier" → "response-identifier".
private func kebab(_ name: String) -> String {
    var out = ""
    for char in name {
        if char.isUppercase { out += "-" + char.lowercased() } else { out.append(char) }
    }
    return out
}

/// QTI 3.0 names read as QTI 2.1 names: "qti-choice-interaction" → "choiceInteraction".
private func camel(_ name: String) -> String {
    guard name.hasPrefix("qti-") else { return name }
    let parts = name.dropFirst(4).split(separator: "-")
    return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
}

/// Reading elements of either version by their QTI 2.1 names.
extension XMLHashXMLElement {
    fileprivate var qti: String { camel(localName) }
    fileprivate func qtiElements(_ name: String) -> [XElement] { elements.filter { $0.qti == name } }
    fileprivate func qtiFirst(_ name: String) -> XElement? { elements.first { $0.qti == name } }
    fileprivate func qtiDescendants(_ name: String) -> [XElement] {
        var found: [XElement] = []
        for child in elements {
            if child.qti == name { found.append(child) }
            found += child.qtiDescendants(name)
        }
        return found
    }
    fileprivate func qtiAttr(_ name: String) -> String? { attr(name) ?? attr(kebab(name)) }
    fileprivate var classes: Set<String> { Set((attr("class") ?? "").split(separator: " ").map(String.init)) }
}

// MARK: - Reading

/// QTI items: one item file, or a content package whose imsmanifest.xml lists item resources (every one is read).
enum QTIReader {
    static let interactions: Set<String> = ["choiceInteraction", "orderInteraction", "textEntryInteraction", "extendedTextInteraction"]

    static func items(_ data: Data) throws(BankFileError) -> [ItemDraft] {
        if let archive = ZipParts.open(data) {
            guard let manifestData = try ZipParts.read(archive, "imsmanifest.xml") else { throw .notQTI }
            guard let manifest = ParsedXML.root(manifestData), manifest.localName == "manifest" else { throw .damaged("imsmanifest.xml") }
            var hrefs: [String] = []
            for resources in manifest.elements("resources") {
                let base = resources.attr("base") ?? ""
                for resource in resources.elements("resource") where resource.attr("type")?.hasPrefix("imsqti_item") == true {
                    guard let href = resource.attr("href") else { continue }
                    let resourceBase = resource.attr("base") ?? ""
                    hrefs.append(ZipParts.normalise(base + resourceBase + href))
                }
            }
            if hrefs.isEmpty { throw .emptyPackage }
            var items: [ItemDraft] = []
            for (index, href) in hrefs.enumerated() {
                let number = index + 1
                guard let itemData = try ZipParts.read(archive, href.removingPercentEncoding ?? href) else {
                    items.append(ItemDraft(number: number, identifier: nil, question: nil, pointsGiven: false, problems: [
                        RowProblem(row: number, column: nil, zh: "清单中列出的文件 \(href) 不在压缩包中", en: "the file \(href) listed in the manifest is not in the package"),
                    ]))
                    continue
                }
                guard let root = ParsedXML.root(itemData), root.qti == "assessmentItem" else {
                    items.append(ItemDraft(number: number, identifier: nil, question: nil, pointsGiven: false, problems: [
                        RowProblem(row: number, column: nil, zh: "文件 \(href) 不是 QTI 试题", en: "the file \(href) is not a QTI item"),
                    ]))
                    continue
                }
                items.append(item(root, number: number))
            }
            return items
        }
        guard let root = ParsedXML.root(data) else { throw .notXML }
        guard root.qti == "assessmentItem" else { throw .notQTI }
        return [item(root, number: 1)]
    }

    private struct Declaration {
        var cardinality: String
        var baseType: String
        var correct: [String]
        var mapped: [String]
    }

    private static func item(_ root: XElement, number: Int) -> ItemDraft {
        var problems: [RowProblem] = []
        func problem(_ column: String?, _ zh: String, _ en: String) {
            problems.append(RowProblem(row: number, column: column, zh: zh, en: en))
        }
        let identifier = root.attr("identifier")
        var declarations: [String: Declaration] = [:]
        for declaration in root.qtiElements("responseDeclaration") {
            guard let id = declaration.attr("identifier") else { continue }
            let correct = declaration.qtiFirst("correctResponse")?.qtiElements("value").map(\.text) ?? []
            let mapped = declaration.qtiFirst("mapping")?.qtiElements("mapEntry").filter {
                (Double($0.qtiAttr("mappedValue") ?? "0") ?? 0) > 0
            }.compactMap { $0.qtiAttr("mapKey") } ?? []
            declarations[id] = Declaration(
                cardinality: declaration.attr("cardinality") ?? "single", baseType: declaration.qtiAttr("baseType") ?? "", correct: correct,
                mapped: mapped)
        }
        var points: Double?
        var difficulty: Int?
        var knowledgePoints: [String] = []
        for outcome in root.qtiElements("outcomeDeclaration") {
            let values = outcome.qtiFirst("defaultValue")?.qtiElements("value").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } ?? []
            switch outcome.attr("identifier") {
            case "MAXSCORE": points = values.first.flatMap(CellText.number) ?? points
            case "SCORE": if points == nil { points = outcome.qtiAttr("normalMaximum").flatMap(CellText.number) }
            case "DIFFICULTY":
                if let text = values.first {
                    if let value = Int(text), (1...5).contains(value) {
                        difficulty = value
                    } else {
                        problem("DIFFICULTY", "难度“\(text)”必须是 1 到 5 的整数", "difficulty '\(text)' must be a whole number from 1 to 5")
                    }
                }
            case "KNOWLEDGE_POINTS": knowledgePoints = values.filter { !$0.isEmpty }
            default: break
            }
        }
        let explanation = root.qtiElements("modalFeedback").first { $0.attr("identifier") == "EXPLANATION" }.map { plainText($0, blanks: false) }

        guard let body = root.qtiFirst("itemBody") else {
            problem("itemBody", "试题没有 itemBody", "the item has no itemBody")
            return ItemDraft(number: number, identifier: identifier, question: nil, pointsGiven: false, problems: problems)
        }
        var found: [XElement] = []
        var unsupported: Set<String> = []
        func walk(_ element: XElement) {
            for child in element.elements {
                if interactions.contains(child.qti) {
                    found.append(child)
                } else if child.qti.hasSuffix("Interaction") {
                    unsupported.insert(child.localName)
                } else {
                    walk(child)
                }
            }
        }
        walk(body)
        if !unsupported.isEmpty {
            let names = unsupported.sorted().joined(separator: ", ")
            problem("interaction", "不支持的交互类型 \(names)", "the interaction \(names) is not supported")
        }
        let kinds = Set(found.map(\.qti))
        guard unsupported.isEmpty, let first = found.first, kinds.count == 1, kinds == ["textEntryInteraction"] || found.count == 1 else {
            if unsupported.isEmpty {
                problem("interaction", found.isEmpty ? "试题中没有作答区" : "一道题只能有一种作答方式（填空可有多个空）",
                        found.isEmpty ? "the item has no interaction" : "an item may hold one interaction (or several text entries)")
            }
            return ItemDraft(number: number, identifier: identifier, question: nil, pointsGiven: false, problems: problems)
        }
        func declaration(_ interaction: XElement) -> Declaration {
            declarations[interaction.qtiAttr("responseIdentifier") ?? ""] ?? Declaration(cardinality: "single", baseType: "", correct: [], mapped: [])
        }
        func missingAnswer() { problem("correctResponse", "缺少正确答案", "the correct response is missing") }
        func choices(_ interaction: XElement) -> [(id: String, text: String)] {
            interaction.qtiElements("simpleChoice").map { ($0.attr("identifier") ?? "", plainText($0, blanks: false)) }
        }

        let content: QuestionContent
        var stem = plainText(body, blanks: true)
        switch first.qti {
        case "choiceInteraction":
            let response = declaration(first)
            let options = choices(first)
            if response.correct.isEmpty { missingAnswer() }
            if response.cardinality == "single" {
                if Set(options.map(\.id)) == ["true", "false"], let value = response.correct.first {
                    content = .trueFalse(correct: value == "true")
                } else {
                    content = .singleChoice(options: options.map { ChoiceOption(id: $0.id, text: $0.text) }, correct: response.correct.first ?? "")
                }
            } else {
                content = .multipleChoice(options: options.map { ChoiceOption(id: $0.id, text: $0.text) }, correct: response.correct)
            }
        case "orderInteraction":
            let response = declaration(first)
            if response.correct.isEmpty { missingAnswer() }
            content = .flowchart(
                steps: choices(first).map { FlowStep(id: $0.id, text: $0.text) }, correct: response.correct,
                asksDescription: first.classes.contains("kaodian-describe"))
        case "extendedTextInteraction":
            let response = declaration(first)
            let reference = response.correct.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            var scheme: [ScoringPoint] = []
            if let rubric = body.qtiDescendants("rubricBlock").first(where: { ($0.attr("view") ?? "").contains("scorer") }) {
                let (points, bad) = CellText.scheme(plainText(rubric, blanks: false))
                scheme = points
                if let line = bad.first {
                    problem("rubricBlock", "评分标准第 \(line) 行应写成“要点：分值”", "line \(line) of the marking scheme must read 'point: points'")
                }
            }
            let essay = first.classes.contains("kaodian-essay")
            content = essay ? .essay(reference: reference.isEmpty ? nil : reference, scheme: scheme)
                : .shortAnswer(reference: reference.isEmpty ? nil : reference, scheme: scheme)
        default:  // textEntryInteraction
            let response = declaration(first)
            if found.count == 1 && ["float", "integer"].contains(response.baseType) {
                stem = plainText(body, blanks: false)
                var correct = 0.0
                if let text = response.correct.first {
                    if let value = CellText.number(text) {
                        correct = value
                    } else {
                        problem("correctResponse", "数值答案“\(text)”不是数字", "the numerical answer '\(text)' is not a number")
                    }
                } else {
                    missingAnswer()
                }
                var tolerance = 0.0
                if let equal = root.qtiFirst("responseProcessing")?.qtiDescendants("equal").first,
                    equal.qtiAttr("toleranceMode") == "absolute",
                    let first = equal.attr("tolerance")?.split(separator: " ").first
                {
                    tolerance = CellText.number(String(first)) ?? -1
                }
                let unit = body.descendants("span").first { $0.classes.contains("unit") }.map { plainText($0, blanks: false) }
                content = .calculation(correct: correct, tolerance: tolerance, unit: unit?.isEmpty == false ? unit : nil)
            } else {
                let blanks = found.map { interaction -> Blank in
                    let response = declaration(interaction)
                    var accepted: [String] = []
                    for value in response.correct + response.mapped where !accepted.contains(value) { accepted.append(value) }
                    return Blank(accepted: accepted)
                }
                content = .fillBlank(blanks: blanks)
            }
        }
        let question = Question(
            id: "", stem: stem, points: points ?? 0, content: content, explanation: explanation?.isEmpty == false ? explanation : nil,
            knowledgePoints: knowledgePoints, difficulty: difficulty)
        return ItemDraft(number: number, identifier: identifier, question: question, pointsGiven: points != nil, problems: problems)
    }

    /// The text of the item body: interactions left out except their prompts, a text entry as "____" when `blanks`,
    /// units, rubrics and feedback left out.
    private static func plainText(_ element: XElement, blanks: Bool) -> String {
        var builder = PlainTextBuilder()
        func walk(_ element: XElement) {
            for child in element.children {
                if let text = child as? TextElement { builder.append(text.text); continue }
                guard let child = child as? XElement else { continue }
                let name = child.qti
                switch name {
                case "textEntryInteraction": if blanks { builder.append("____") }
                case "rubricBlock", "feedbackBlock", "feedbackInline", "modalFeedback", "templateBlock", "templateInline":
                    continue
                case "prompt":
                    builder.softBreak()
                    walk(child)
                    builder.softBreak()
                case _ where name.hasSuffix("Interaction"):
                    if let prompt = child.qtiFirst("prompt") {
                        builder.softBreak()
                        walk(prompt)
                        builder.softBreak()
                    }
                case "span" where child.classes.contains("unit"):
                    continue
                case _ where child.classes.contains(QTIWriter.blanksClass):
                    continue  // blanks written apart from a stem that does not mark them
                case "br":
                    builder.hardBreak()
                default:
                    let block = PlainTextBuilder.blockElements.contains(name) || name == "contentBody"
                    if block { builder.softBreak() }
                    walk(child)
                    if block { builder.softBreak() }
                }
            }
        }
        walk(element)
        return builder.result
    }
}

// MARK: - Writing

/// A zip content package of QTI items with imsmanifest.xml; case analysis and thesis are skipped.
enum QTIWriter {
    /// The class of the paragraph that holds a fill-in-the-blank item's entries when its stem does not mark them.
    static let blanksClass = "kaodian-blanks"

    static func write(_ questions: [Question], version: QTIVersion) throws -> (data: Data, skipped: [RowProblem]) {
        var parts: [(path: String, data: Data)] = []
        var resources = ""
        var skipped: [RowProblem] = []
        var usedPaths: Set<String> = []
        for (index, question) in questions.enumerated() {
            switch item(question, version: version) {
            case .failure(let reason):
                skipped.append(RowProblem(row: index + 1, column: nil, message: reason.message))
            case .success(let xml):
                var name = ItemChecker.sanitise(question.id.rawValue) ?? "item-\(index + 1)"
                if usedPaths.contains(name.lowercased()) { name += "-\(index + 1)" }
                usedPaths.insert(name.lowercased())
                let path = "items/\(name).xml"
                parts.append((path, Data(xml.utf8)))
                resources += #"    <resource identifier="R\#(index + 1)" type="\#(version.resourceType)" href="\#(xmlEscape(path, attribute: true))">"#
                resources += #"<file href="\#(xmlEscape(path, attribute: true))"/></resource>"# + "\n"
            }
        }
        var manifest = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        manifest += #"<manifest xmlns="\#(version.manifestNamespace)" identifier="KAODIAN-BANK">"# + "\n"
        manifest += "  <metadata><schema>QTI Package</schema><schemaversion>\(version == .v21 ? "2.1" : "3.0.0")</schemaversion></metadata>\n"
        manifest += "  <organizations/>\n  <resources>\n" + resources + "  </resources>\n</manifest>\n"
        return (try ZipParts.write([("imsmanifest.xml", Data(manifest.utf8))] + parts), skipped)
    }

    /// Plain text as XHTML: lines kept with `<br/>`.
    private static func xhtml(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { xmlEscape(String($0)) }.joined(separator: "<br/>")
    }

    static func item(_ question: Question, version: QTIVersion) -> Result<String, SkipReason> {
        let id = question.id.rawValue
        func e(_ name: String) -> String { version.element(name) }
        func a(_ name: String) -> String { version.attribute(name) }
        func open(_ name: String, _ attributes: [(String, String)] = [], empty: Bool = false) -> String {
            "<" + e(name) + attributes.map { " \(a($0.0))=\"\(xmlEscape($0.1, attribute: true))\"" }.joined() + (empty ? "/>" : ">")
        }
        func close(_ name: String) -> String { "</" + e(name) + ">" }
        func values(_ list: [String]) -> String { list.map { open("value") + xmlEscape($0) + close("value") }.joined() }
        func response(_ identifier: String, _ cardinality: String, _ baseType: String, correct: [String], mapping: String = "") -> String {
            open("responseDeclaration", [("identifier", identifier), ("cardinality", cardinality), ("baseType", baseType)])
                + (correct.isEmpty ? "" : open("correctResponse") + values(correct) + close("correctResponse")) + mapping
                + close("responseDeclaration") + "\n"
        }
        func contentBody(_ inner: String) -> String { version == .v30 ? open("contentBody") + inner + close("contentBody") : inner }
        func choiceList(_ items: [(String, String)]) -> String {
            items.map { open("simpleChoice", [("identifier", $0.0)]) + xhtml($0.1) + close("simpleChoice") }.joined()
        }

        var declarations = ""
        var body = "<p>" + xhtml(question.stem) + "</p>"
        var processing = open("responseProcessing", [("template", version.template("match_correct"))], empty: true)

        switch question.content {
        case .singleChoice(let options, let correct):
            declarations += response("RESPONSE", "single", "identifier", correct: [correct])
            body += open("choiceInteraction", [("responseIdentifier", "RESPONSE"), ("shuffle", "false"), ("maxChoices", "1")])
                + choiceList(options.map { ($0.id, $0.text) }) + close("choiceInteraction")
        case .multipleChoice(let options, let correct):
            declarations += response("RESPONSE", "multiple", "identifier", correct: correct)
            body += open("choiceInteraction", [("responseIdentifier", "RESPONSE"), ("shuffle", "false"), ("maxChoices", "0")])
                + choiceList(options.map { ($0.id, $0.text) }) + close("choiceInteraction")
        case .trueFalse(let correct):
            declarations += response("RESPONSE", "single", "identifier", correct: [correct ? "true" : "false"])
            body += open("choiceInteraction", [("responseIdentifier", "RESPONSE"), ("shuffle", "false"), ("maxChoices", "1")])
                + choiceList([("true", "正确"), ("false", "错误")]) + close("choiceInteraction")
        case .fillBlank(let blanks):
            let share = blanks.isEmpty ? 0 : question.points / Double(blanks.count)
            var entries: [String] = []
            for (index, blank) in blanks.enumerated() {
                let identifier = "RESPONSE\(index + 1)"
                let mapping = open("mapping", [("defaultValue", "0")])
                    + blank.accepted.map { open("mapEntry", [("mapKey", $0), ("mappedValue", CellText.format(share))], empty: true) }.joined()
                    + close("mapping")
                declarations += response(identifier, "single", "string", correct: Array(blank.accepted.prefix(1)), mapping: mapping)
                entries.append(open("textEntryInteraction", [("responseIdentifier", identifier), ("expectedLength", "12")], empty: true))
            }
            // The blanks go where the stem has runs of underscores, when it has one per blank; otherwise the stem
            // stays as written and the blanks follow in a paragraph of their own, which reading leaves out of the
            // stem (so a stem without markers, or with more or fewer, comes back as it was).
            let pieces = question.stem.components(separatedBy: "____")
            if pieces.count == blanks.count + 1 {
                var inner = ""
                for (index, piece) in pieces.enumerated() {
                    inner += xhtml(piece)
                    if index < entries.count { inner += entries[index] }
                }
                body = "<p>" + inner + "</p>"
            } else {
                body += "<p class=\"\(blanksClass)\">" + entries.joined(separator: " ") + "</p>"
            }
            processing = open("responseProcessing") + open("setOutcomeValue", [("identifier", "SCORE")]) + open("sum")
                + (1...max(blanks.count, 1)).map { open("mapResponse", [("identifier", "RESPONSE\($0)")], empty: true) }.joined()
                + close("sum") + close("setOutcomeValue") + close("responseProcessing")
        case .calculation(let correct, let tolerance, let unit):
            declarations += response("RESPONSE", "single", "float", correct: [CellText.format(correct)])
            body += "<p>" + open("textEntryInteraction", [("responseIdentifier", "RESPONSE"), ("expectedLength", "12")], empty: true)
                + (unit.map { " <span class=\"unit\">\(xmlEscape($0))</span>" } ?? "") + "</p>"
            let mode = tolerance > 0 ? [("toleranceMode", "absolute"), ("tolerance", "\(CellText.format(tolerance)) \(CellText.format(tolerance))")] : [("toleranceMode", "exact")]
            processing = open("responseProcessing") + open("responseCondition") + open("responseIf")
                + open("equal", mode) + open("variable", [("identifier", "RESPONSE")], empty: true)
                + open("correct", [("identifier", "RESPONSE")], empty: true) + close("equal")
                + open("setOutcomeValue", [("identifier", "SCORE")]) + open("variable", [("identifier", "MAXSCORE")], empty: true) + close("setOutcomeValue")
                + close("responseIf") + open("responseElse") + open("setOutcomeValue", [("identifier", "SCORE")])
                + open("baseValue", [("baseType", "float")]) + "0" + close("baseValue") + close("setOutcomeValue") + close("responseElse")
                + close("responseCondition") + close("responseProcessing")
        case .shortAnswer(let reference, let scheme), .essay(let reference, let scheme):
            declarations += response("RESPONSE", "single", "string", correct: reference.map { [$0] } ?? [])
            var attributes = [("responseIdentifier", "RESPONSE"), ("expectedLines", question.type == .essay ? "20" : "8")]
            if question.type == .essay { attributes.append(("class", "kaodian-essay")) }
            body += open("extendedTextInteraction", attributes, empty: true)
            if !scheme.isEmpty {
                let lines = scheme.map { "<p>" + xmlEscape("\($0.description)：\(CellText.format($0.points))") + "</p>" }.joined()
                let rubricAttributes = version == .v30 ? [("use", "scoring"), ("view", "scorer")] : [("view", "scorer")]
                body += open("rubricBlock", rubricAttributes) + contentBody(lines) + close("rubricBlock")
            }
            processing = ""
        case .flowchart(let steps, let correct, let asksDescription):
            declarations += response("RESPONSE", "ordered", "identifier", correct: correct)
            var attributes = [("responseIdentifier", "RESPONSE"), ("shuffle", "true")]
            if asksDescription { attributes.append(("class", "kaodian-describe")) }
            body += open("orderInteraction", attributes) + choiceList(steps.map { ($0.id, $0.text) }) + close("orderInteraction")
        case .caseAnalysis:
            return .failure(SkipReason("试题 \(id)：QTI 导出不包括案例分析题", "question \(id): case analyses are not exported to QTI"))
        case .thesis:
            return .failure(SkipReason("试题 \(id)：QTI 导出不包括论文题", "question \(id): theses are not exported to QTI"))
        }

        var outcomes = open("outcomeDeclaration", [("identifier", "SCORE"), ("cardinality", "single"), ("baseType", "float"), ("normalMaximum", CellText.format(question.points))])
            + open("defaultValue") + values(["0"]) + close("defaultValue") + close("outcomeDeclaration") + "\n"
        outcomes += open("outcomeDeclaration", [("identifier", "MAXSCORE"), ("cardinality", "single"), ("baseType", "float")])
            + open("defaultValue") + values([CellText.format(question.points)]) + close("defaultValue") + close("outcomeDeclaration") + "\n"
        if let difficulty = question.difficulty {
            outcomes += open("outcomeDeclaration", [("identifier", "DIFFICULTY"), ("cardinality", "single"), ("baseType", "integer")])
                + open("defaultValue") + values([String(difficulty)]) + close("defaultValue") + close("outcomeDeclaration") + "\n"
        }
        if !question.knowledgePoints.isEmpty {
            outcomes += open("outcomeDeclaration", [("identifier", "KNOWLEDGE_POINTS"), ("cardinality", "multiple"), ("baseType", "string")])
                + open("defaultValue") + values(question.knowledgePoints) + close("defaultValue") + close("outcomeDeclaration") + "\n"
        }
        var feedback = ""
        if let explanation = question.explanation {
            outcomes += open("outcomeDeclaration", [("identifier", "FEEDBACK"), ("cardinality", "single"), ("baseType", "identifier")], empty: true) + "\n"
            feedback = open("modalFeedback", [("outcomeIdentifier", "FEEDBACK"), ("showHide", "hide"), ("identifier", "EXPLANATION"), ("title", "解析")])
                + contentBody("<p>" + xhtml(explanation) + "</p>") + close("modalFeedback") + "\n"
        }
        let title = String(question.stem.split(separator: "\n").first?.prefix(40) ?? Substring(id))
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += "<" + e("assessmentItem") + #" xmlns="\#(version.namespace)" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#
        xml += #" xsi:schemaLocation="\#(version.schemaLocation)""#
        xml += #" identifier="\#(xmlEscape(id, attribute: true))" title="\#(xmlEscape(title, attribute: true))""#
        xml += #" adaptive="false" \#(a("timeDependent"))="false" xml:lang="zh-CN">"# + "\n"
        xml += declarations + outcomes
        xml += open("itemBody") + body + close("itemBody") + "\n"
        if !processing.isEmpty { xml += processing + "\n" }
        xml += feedback
        xml += close("assessmentItem") + "\n"
        return .success(xml)
    }
}
