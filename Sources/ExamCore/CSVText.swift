import Foundation

/// Results and statistics as CSV that spreadsheet programs open right: UTF-8 with a byte-order mark (so the Chinese
/// text reads), CRLF line ends, fields quoted when needed, and formulas neutralised.
public enum CSVText {
    /// A field, quoted when it holds a comma, quote or line break; a leading = + @ (or - before anything but a
    /// number) gets a ' so a spreadsheet never runs it as a formula.
    public static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+@".contains(first) || (first == "-" && Double(value) == nil) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One line of fields.
    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }

    /// A whole file: the byte-order mark, then each line ended by CRLF.
    public static func document(_ lines: [String]) -> String { "\u{FEFF}" + lines.map { $0 + "\r\n" }.joined() }

    /// Points as results write them: whole numbers bare, others to two places.
    public static func points(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
