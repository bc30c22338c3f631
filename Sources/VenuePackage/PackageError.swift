import ExamCore

/// One thing wrong with a venue package.
public struct PackageProblem: Sendable, Hashable, Codable {
    public var code: String
    public var message: Message
    public init(_ code: String, zh: String, en: String) {
        self.code = code
        self.message = Message(zh: zh, en: en)
    }
    public init(_ code: String, _ message: Message) {
        self.code = code
        self.message = message
    }
}

/// A package refused at import, with every problem found. Nothing of it has been written.
public struct PackageError: CodedError, Equatable {
    public var problems: [PackageProblem]

    public init(_ problems: [PackageProblem]) {
        precondition(!problems.isEmpty)
        self.problems = problems
    }

    public init(_ code: String, zh: String, en: String) {
        self.init([PackageProblem(code, zh: zh, en: en)])
    }

    /// The first problem's code; every problem keeps its own code in `problems`.
    public var code: String { problems[0].code }

    public var message: Message {
        let shown = problems.prefix(20)
        let more = problems.count - shown.count
        // Opening a sealed paper is not an import: its messages stand on their own.
        let opening = problems.allSatisfy { $0.code.hasPrefix("paper_seal_") }
        var zh = (opening ? "" : "考点数据包被拒绝：") + shown.map(\.message.zh).joined(separator: "；")
        var en = (opening ? "" : "the venue package was refused: ") + shown.map(\.message.en).joined(separator: "; ")
        if more > 0 {
            zh += "；另有 \(more) 个问题"
            en += "; and \(more) more problems"
        }
        return Message(zh: zh, en: en)
    }

    public func contains(_ code: String) -> Bool { problems.contains { $0.code == code } }

    static func unreadable(_ detail: String) -> PackageError {
        PackageError("package_unreadable", zh: "文件不是可读取的考点数据包（\(detail)）", en: "the file is not a readable venue package (\(detail))")
    }

    static func missingPart(_ path: String) -> PackageError {
        PackageError("package_missing_part", zh: "缺少组成部分 \(path)", en: "the part \(path) is missing")
    }

    static func malformed(_ path: String, _ detail: String) -> PackageError {
        PackageError("package_malformed_part", zh: "组成部分 \(path) 格式错误：\(detail)", en: "the part \(path) is malformed: \(detail)")
    }
}
