import ExamCore
import Foundation

/// Reading the values an editor types into cells, leniently where it costs nothing (full-width digits and letters,
/// Chinese punctuation, a trailing 分).
enum CellText {
    static func trimmed(_ text: String?) -> String {
        (text ?? "").replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func nonEmpty(_ text: String?) -> String? {
        let value = trimmed(text)
        return value.isEmpty ? nil : value
    }

    /// Full-width ASCII (Ａ, １, ．) as plain ASCII.
    static func halfWidth(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (0xFF01...0xFF5E).contains(scalar.value) ? Unicode.Scalar(scalar.value - 0xFEE0)! : scalar
        }))
    }

    /// A finite number, or nil. "2", "2.0", "２", "2 分" are all 2.
    static func number(_ text: String) -> Double? {
        var value = halfWidth(trimmed(text)).replacingOccurrences(of: " ", with: "")
        if value.hasSuffix("分") { value.removeLast() }
        guard let number = Double(value), number.isFinite else { return nil }
        return number
    }

    /// A number the way a spreadsheet cell shows it: 2, not 2.0; 0.1, not 0.1000000000001.
    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    /// Option letters in "ABD", "A,B,D", "A、B", "a b d": the letters, and whatever else was found.
    static func letters(_ text: String) -> (letters: [Int], unreadable: String?) {
        var indices: [Int] = []
        var unreadable = ""
        for char in halfWidth(text).uppercased() {
            if char.isWhitespace || ",，、;；/".contains(char) { continue }
            if let index = Column.optionLetters.firstIndex(of: char) { indices.append(index) } else { unreadable.append(char) }
        }
        return (indices, unreadable.isEmpty ? nil : unreadable)
    }

    static func letter(_ index: Int) -> String { String(Column.optionLetters[index]) }

    /// 对/错, 正确/错误, √/×, T/F, true/false, 是/否 (and 1/0 from a number cell).
    static func truth(_ text: String) -> Bool? {
        switch halfWidth(trimmed(text)).lowercased() {
        case "对", "正确", "√", "✓", "✔", "t", "true", "是", "y", "yes", "1": true
        case "错", "错误", "×", "✗", "✘", "f", "false", "否", "n", "no", "0": false
        default: nil
        }
    }

    /// Knowledge point codes separated by ；;，,、 or white space.
    static func codes(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace || "；;，,、".contains($0) }).map(String.init)
    }

    /// Fill-in-the-blank answers: blanks separated by ；or ;, alternatives within a blank by |.
    static func blanks(_ text: String) -> [Blank] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ";" || $0 == "；" }).map { blank in
            Blank(accepted: blank.split(whereSeparator: { $0 == "|" || $0 == "｜" }).map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }.filter { !$0.isEmpty })
        }
    }

    static func blanksText(_ blanks: [Blank]) -> String {
        blanks.map { $0.accepted.joined(separator: "|") }.joined(separator: "；")
    }

    /// One scoring point per line, "要点：分值" or "point: points"; the line numbers (1-based) that could not be read.
    static func scheme(_ text: String) -> (points: [ScoringPoint], badLines: [Int]) {
        var points: [ScoringPoint] = []
        var bad: [Int] = []
        let lines = trimmed(text).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let colon = line.lastIndex(where: { $0 == ":" || $0 == "：" }),
                let value = number(String(line[line.index(after: colon)...]))
            else {
                bad.append(index + 1)
                continue
            }
            points.append(ScoringPoint(description: line[..<colon].trimmingCharacters(in: .whitespaces), points: value))
        }
        return (points, bad)
    }

    static func schemeText(_ scheme: [ScoringPoint]) -> String {
        scheme.map { "\($0.description)：\(format($0.points))" }.joined(separator: "\n")
    }

    static let defaultAttachmentBytes = 10 * 1024 * 1024

    /// "pdf、docx；10MB": file kinds and a size limit (10 MB when none is given); nil when a token cannot be read.
    static func attachment(_ text: String) -> AttachmentRule? {
        var types: [String] = []
        var bytes: Int?
        for token in halfWidth(text).split(whereSeparator: { $0.isWhitespace || ",，、;；".contains($0) }) {
            let token = token.lowercased()
            if let size = byteSize(token) {
                bytes = size
            } else if token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) {
                types.append(token.hasPrefix(".") ? String(token.dropFirst()) : token)
            } else {
                return nil
            }
        }
        return AttachmentRule(types: types, maxBytes: bytes ?? defaultAttachmentBytes)
    }

    private static func byteSize(_ token: String) -> Int? {
        let units: [(String, Double)] = [("mb", 1_048_576), ("m", 1_048_576), ("kb", 1024), ("k", 1024), ("b", 1)]
        for (unit, factor) in units where token.hasSuffix(unit) {
            guard let value = Double(token.dropLast(unit.count)), value.isFinite, value > 0 else { return nil }
            return Int((value * factor).rounded())
        }
        return nil
    }

    static func attachmentText(_ rule: AttachmentRule) -> String {
        let size: String
        if rule.maxBytes % 1_048_576 == 0 {
            size = "\(rule.maxBytes / 1_048_576)MB"
        } else if rule.maxBytes % 1024 == 0 {
            size = "\(rule.maxBytes / 1024)KB"
        } else {
            size = "\(rule.maxBytes)B"
        }
        return rule.types.joined(separator: "、") + "；" + size
    }
}
