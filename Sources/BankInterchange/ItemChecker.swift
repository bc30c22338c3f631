import ExamCore
import Foundation
import QuestionBank

/// One question of an XML file as read, before ids, default points and checks.
struct ItemDraft {
    /// The item's number in the file, 1-based.
    var number: Int
    /// The identifier the file gives it, if any (Moodle's idnumber, QTI's identifier).
    var identifier: String?
    /// Nil when the item cannot become a question (its problems say why).
    var question: Question?
    var pointsGiven: Bool
    var problems: [RowProblem] = []
}

/// The checks every XML format shares: ids, default points, duplicates, knowledge points, `Question.problems()`.
struct ItemChecker {
    var defaults: TypeDefaults
    var idPrefix: String
    var known: Set<String>?

    func check(_ items: [ItemDraft]) -> ImportResult {
        var questions: [ImportedQuestion] = []
        var problems: [RowProblem] = []
        var firstItem: [String: Int] = [:]
        for var item in items {
            guard var question = item.question else {
                problems += item.problems
                continue
            }
            let id = item.identifier.flatMap(Self.sanitise) ?? "\(idPrefix)-\(item.number)"
            question.id = Question.ID(id)
            if !item.pointsGiven { question.points = defaults.points(for: question.type) }
            if let earlier = firstItem[id] {
                item.problems.append(RowProblem(
                    row: item.number, column: "identifier", zh: "编号 \(id) 与第 \(earlier) 题重复",
                    en: "the id \(id) is already used by item \(earlier)"))
            } else {
                firstItem[id] = item.number
            }
            if let known {
                for code in question.knowledgePoints where !known.contains(code) {
                    item.problems.append(RowProblem(
                        row: item.number, column: "knowledgePoints", zh: "知识点 \(code) 不在知识点表中",
                        en: "the knowledge point \(code) is not in the knowledge point list"))
                }
            }
            for message in question.problems() where !item.problems.contains(where: { $0.message == message }) {
                item.problems.append(RowProblem(row: item.number, column: nil, message: message))
            }
            problems += item.problems
            if item.problems.isEmpty { questions.append(ImportedQuestion(row: item.number, question: question)) }
        }
        return ImportResult(questions: questions, problems: problems, knowledgePoints: [])
    }

    /// An identifier from another system made well-formed: other characters become "-", at most 64 characters.
    static func sanitise(_ identifier: String) -> String? {
        let trimmed = identifier.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        var out = ""
        for scalar in trimmed.unicodeScalars {
            let ok = (scalar.value < 128) && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
            out.unicodeScalars.append(ok ? scalar : "-")
        }
        out = String(out.utf8.prefix(64)) ?? out
        return out.allSatisfy({ $0 == "-" }) ? nil : out
    }
}

/// Tags that carry what an XML format has no place for: `kp:2.1.3`, `difficulty:3`, `kaodian:essay`.
enum ItemTags {
    static func make(_ question: Question) -> [String] {
        var tags = question.knowledgePoints.map { "kp:\($0)" }
        if let difficulty = question.difficulty { tags.append("difficulty:\(difficulty)") }
        return tags
    }

    /// Knowledge points, difficulty, and `kaodian:` markers from tags; a bad difficulty is reported.
    static func read(_ tags: [String], item: Int) -> (kps: [String], difficulty: Int?, markers: Set<String>, problems: [RowProblem]) {
        var kps: [String] = []
        var difficulty: Int?
        var markers: Set<String> = []
        var problems: [RowProblem] = []
        for tag in tags.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) {
            let lower = tag.lowercased()
            if lower.hasPrefix("kp:") {
                let code = String(tag.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                if !code.isEmpty { kps.append(code) }
            } else if lower.hasPrefix("difficulty:") {
                let text = String(tag.dropFirst(11)).trimmingCharacters(in: .whitespaces)
                if let value = Int(text), (1...5).contains(value) {
                    difficulty = value
                } else {
                    problems.append(RowProblem(
                        row: item, column: "difficulty", zh: "难度“\(text)”必须是 1 到 5 的整数",
                        en: "difficulty '\(text)' must be a whole number from 1 to 5"))
                }
            } else if lower.hasPrefix("kaodian:") {
                markers.insert(String(lower.dropFirst(8)))
            }
        }
        return (kps, difficulty, markers, problems)
    }
}
