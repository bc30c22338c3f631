import Foundation

/// Builds plain text from markup: runs of white space become one space, block elements start a new line, `<br>` is a
/// line break of its own (so an empty line survives as `<br><br>`).
struct PlainTextBuilder {
    private(set) var text = ""
    private var pendingSpace = false

    mutating func append(_ run: String) {
        for char in run {
            if char.isWhitespace && char != "\u{00A0}" {
                if !text.isEmpty && text.last != "\n" { pendingSpace = true }
            } else {
                if pendingSpace { text.append(" ") }
                pendingSpace = false
                text.append(char == "\u{00A0}" ? " " : char)
            }
        }
    }

    /// The end or start of a block: a new line unless one has just begun.
    mutating func softBreak() {
        pendingSpace = false
        if !text.isEmpty && text.last != "\n" { text.append("\n") }
    }

    mutating func hardBreak() {
        pendingSpace = false
        text.append("\n")
    }

    /// The text with each line trimmed and no blank lines at either end.
    var result: String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let blockElements: Set<String> = [
        "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
        "section", "article", "header", "footer", "dl", "dt", "dd", "hr", "figure", "caption",
    ]
}

/// HTML as Moodle stores it (a string, often not well-formed XML: `<br>`, `&nbsp;`) turned into plain text.
enum HTMLText {
    static func plainText(_ html: String) -> String {
        var builder = PlainTextBuilder()
        var index = html.startIndex
        var skipUntil: String?  // inside <script> or <style>
        while index < html.endIndex {
            let char = html[index]
            if char == "<", let close = html[index...].firstIndex(of: ">") {
                let inner = html[html.index(after: index)..<close]
                index = html.index(after: close)
                if inner.hasPrefix("!--") {
                    if let end = html[inner.startIndex...].range(of: "-->") { index = end.upperBound }
                    continue
                }
                let isEnd = inner.hasPrefix("/")
                let name = inner.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
                if let skip = skipUntil {
                    if isEnd && name == skip { skipUntil = nil }
                    continue
                }
                if !isEnd && (name == "script" || name == "style") { skipUntil = name; continue }
                if name == "br" { builder.hardBreak() } else if PlainTextBuilder.blockElements.contains(name) { builder.softBreak() }
                continue
            }
            let next = html[index...].firstIndex(of: "<") ?? html.endIndex
            let end = next == index ? html.index(after: index) : next
            if skipUntil == nil { builder.append(decodeEntities(String(html[index..<end]))) }
            index = end
        }
        return builder.result
    }

    /// Plain text as HTML: every line kept, in one paragraph.
    static func html(_ text: String) -> String {
        "<p>" + text.split(separator: "\n", omittingEmptySubsequences: false).map { xmlEscape(String($0)) }
            .joined(separator: "<br>") + "</p>"
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let char = text[index]
            if char == "&", let semi = text[index...].prefix(12).firstIndex(of: ";") {
                let entity = text[text.index(after: index)..<semi]
                if let decoded = decode(entity) {
                    out.append(decoded)
                    index = text.index(after: semi)
                    continue
                }
            }
            out.append(char)
            index = text.index(after: index)
        }
        return out
    }

    private static func decode(_ entity: Substring) -> String? {
        if entity.hasPrefix("#") {
            let digits = entity.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
        return named[String(entity)]
    }

    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "ldquo": "“", "rdquo": "”",
        "lsquo": "‘", "rsquo": "’", "hellip": "…", "mdash": "—", "ndash": "–", "middot": "·", "times": "×",
        "divide": "÷", "deg": "°", "plusmn": "±", "micro": "µ", "Omega": "Ω", "ohm": "Ω", "radic": "√", "le": "≤",
        "ge": "≥", "ne": "≠", "asymp": "≈", "infin": "∞", "sup2": "²", "sup3": "³", "frac12": "½", "copy": "©",
        "reg": "®", "laquo": "«", "raquo": "»", "bull": "•", "alpha": "α", "beta": "β", "pi": "π", "mu": "μ",
        "Delta": "Δ", "phi": "φ", "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "ensp": " ", "emsp": " ",
    ]
}
