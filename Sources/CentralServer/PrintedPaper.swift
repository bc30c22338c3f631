import CentralStore
import ExamCore
import Foundation
import QuestionBank

/// Printable pages of a paper, rendered on the server: the theory paper as candidates see it and its answers, and
/// for skill papers the tasks, the scoring sheet (评分表) and the preparation notices for candidates (考生准备通知单)
/// and for the room (考场准备通知单). The browser prints them (or saves them as PDF).
enum PrintedPaper {
    enum Part: String {
        case paper, answers, scoring
        case candidateNotice = "candidate-notice"
        case roomNotice = "room-notice"
    }

    static func html(_ detail: PaperDetail, bank: Bank, part: Part) throws -> String {
        let title: String
        var body = ""
        switch (detail.summary.subject, part) {
        case (.theory, .paper):
            title = detail.summary.title
            body += sectionsHTML(detail, answers: false)
        case (.theory, .answers):
            title = detail.summary.title + "　参考答案及评分标准"
            body += sectionsHTML(detail, answers: true)
        case (.skill, .paper):
            title = detail.summary.title
            for (index, task) in detail.tasks.enumerated() {
                body += "<section><h2>试题 \(index + 1)：\(e(task.title))</h2><p class=\"meta\">考核时间：\(task.durationMinutes) 分钟　配分：\(number(task.points)) 分</p>"
                body += "<div class=\"text\">\(e(task.description))</div></section>"
            }
        case (.skill, .scoring):
            title = detail.summary.title + "　评分表"
            for task in detail.tasks {
                body += "<section class=\"sheet\"><h2>\(e(task.title))</h2><p class=\"meta\">准考证号：＿＿＿＿＿＿　姓名：＿＿＿＿＿＿　考核时间：\(task.durationMinutes) 分钟</p>"
                body += "<table><thead><tr><th>序号</th><th>考核内容</th><th>配分</th><th>评分标准</th><th>扣分</th><th>得分</th></tr></thead><tbody>"
                for (index, item) in task.scoringItems.enumerated() {
                    body += "<tr><td>\(index + 1)</td><td>\(e(item.description))</td><td class=\"num\">\(number(item.points))</td><td>\(e(item.deduction))</td><td></td><td></td></tr>"
                }
                body += "<tr><td colspan=\"2\">合计</td><td class=\"num\">\(number(task.points))</td><td></td><td></td><td></td></tr></tbody></table>"
                body += "<p class=\"sign\">考评员（签名）：＿＿＿＿＿＿＿＿　　考评员（签名）：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日</p></section>"
            }
        case (.skill, .candidateNotice), (.skill, .roomNotice):
            let forCandidate = part == .candidateNotice
            title = detail.summary.title + (forCandidate ? "　考生准备通知单" : "　考场准备通知单")
            body += "<p>\(forCandidate ? "请考生按下表自备物品，考试时带到考场。" : "请考点在考试前按下表准备考场设备与材料，并在考前检查完好。")</p>"
            for task in detail.tasks {
                let items = forCandidate ? task.candidatePreparation : task.roomPreparation
                body += "<section><h2>\(e(task.title))</h2>"
                if items.isEmpty {
                    body += "<p class=\"meta\">无需准备。</p>"
                } else {
                    body += "<table><thead><tr><th>序号</th><th>名称</th><th>规格</th><th>数量</th><th>备注</th></tr></thead><tbody>"
                    for (index, item) in items.enumerated() {
                        body += "<tr><td>\(index + 1)</td><td>\(e(item.name))</td><td>\(e(item.specification ?? ""))</td><td>\(e(item.quantity ?? ""))</td><td>\(e(item.note ?? ""))</td></tr>"
                    }
                    body += "</tbody></table>"
                }
                body += "</section>"
            }
        default:
            throw OfficeError(
                .invalid, "part_unknown", zh: "该试卷没有这一打印内容（理论试卷：paper、answers；技能试卷：paper、scoring、candidate-notice、room-notice）",
                en: "this paper has no such part (theory: paper, answers; skill: paper, scoring, candidate-notice, room-notice)")
        }
        let state = detail.summary.state == .approved || detail.summary.state == .issued ? "" : "<p class=\"draft\">未经用卷审批 · not approved for use</p>"
        return """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title>
            <style>
            body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 52em; padding: 0 1em; line-height: 1.6; }
            h1 { text-align: center; font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
            .meta { color: #444; } .text { white-space: pre-wrap; } .draft { color: #b00; text-align: center; font-weight: bold; }
            table { border-collapse: collapse; width: 100%; margin: .5em 0; } th, td { border: 1px solid #333; padding: .3em .5em; vertical-align: top; }
            td.num { text-align: right; } ol.options { list-style: upper-alpha; } .answer { color: #064; }
            .question { break-inside: avoid; margin: .6em 0; } .sign { margin-top: 2em; }
            @media print { .noprint { display: none; } body { margin: 0; } .sheet { break-after: page; } .sheet:last-child { break-after: auto; } }
            </style></head><body>
            <p class="noprint"><button type="button" onclick="window.print()">打印 / Print</button></p>
            \(state)<h1>\(e(title))</h1>
            <p class="meta">\(e(bank.occupation))　\(e(bank.level))　\(detail.summary.subject == .theory ? "理论知识" : "技能操作")　总分 \(number(detail.summary.points)) 分　试卷编号 \(e(detail.summary.id)) 第 \(detail.version) 版</p>
            \(body)
            </body></html>
            """
    }

    static let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]

    static func sectionsHTML(_ detail: PaperDetail, answers: Bool) -> String {
        var html = ""
        var number = 0
        for section in detail.sections {
            html += "<section><h2>\(e(section.title))（共 \(section.questions.count) 题，\(Self.number(section.points)) 分）</h2>"
            for view in section.questions {
                number += 1
                html += questionHTML(view.question, number: "\(number)", answers: answers)
            }
            html += "</section>"
        }
        return html
    }

    static func questionHTML(_ question: Question, number: String, answers: Bool) -> String {
        var html = "<div class=\"question\"><p>\(number). \(e(question.stem))（\(Self.number(question.points)) 分）</p>"
        switch question.content {
        case .singleChoice(let options, let correct):
            html += optionsHTML(options)
            if answers { html += answerHTML(letters(options, [correct])) }
        case .multipleChoice(let options, let correct):
            html += optionsHTML(options)
            if answers { html += answerHTML(letters(options, correct)) }
        case .trueFalse(let correct):
            html += answers ? answerHTML(correct ? "正确（√）" : "错误（×）") : "<p>（　　）</p>"
        case .fillBlank(let blanks):
            if answers { html += answerHTML(blanks.enumerated().map { "空\($0.offset + 1)：\($0.element.accepted.joined(separator: " 或 "))" }.joined(separator: "；")) }
        case .shortAnswer(let reference, let scheme), .essay(let reference, let scheme):
            if answers {
                if let reference { html += answerHTML(reference) }
                html += schemeHTML(scheme)
            }
        case .calculation(let correct, let tolerance, let unit):
            if answers { html += answerHTML("\(Self.number(correct))\(unit ?? "")（允许误差 ±\(Self.number(tolerance))）") }
        case .flowchart(let steps, let correct, _):
            html += "<ol class=\"options\">" + steps.map { "<li>\(e($0.text))</li>" }.joined() + "</ol>"
            if answers {
                let letter = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($0.element.id, String(UnicodeScalar(UInt8(65 + $0.offset)))) })
                html += answerHTML(correct.compactMap { letter[$0] }.joined(separator: " → "))
            }
        case .caseAnalysis(let material, let subs):
            html += "<div class=\"text\">\(e(material))</div>"
            for (index, sub) in subs.enumerated() { html += questionHTML(sub, number: "(\(index + 1))", answers: answers) }
        case .thesis(let requirements, _):
            if let requirements { html += "<div class=\"text\">\(e(requirements))</div>" }
        }
        if answers, let explanation = question.explanation, !explanation.isEmpty {
            html += "<p class=\"meta\">解析：\(e(explanation))</p>"
        }
        return html + "</div>"
    }

    static func optionsHTML(_ options: [ChoiceOption]) -> String {
        "<ol class=\"options\">" + options.map { "<li>\(e($0.text))</li>" }.joined() + "</ol>"
    }

    static func letters(_ options: [ChoiceOption], _ ids: [String]) -> String {
        options.enumerated().filter { ids.contains($0.element.id) }.map { String(UnicodeScalar(UInt8(65 + $0.offset))) }.joined()
    }

    static func answerHTML(_ text: String) -> String { "<p class=\"answer\">答案：\(e(text))</p>" }

    static func schemeHTML(_ scheme: [ScoringPoint]) -> String {
        guard !scheme.isEmpty else { return "" }
        return "<table><thead><tr><th>评分要点</th><th>分值</th></tr></thead><tbody>"
            + scheme.map { "<tr><td>\(e($0.description))</td><td class=\"num\">\(number($0.points))</td></tr>" }.joined() + "</tbody></table>"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }

    static func e(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
