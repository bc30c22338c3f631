import Foundation

extension Question {
    /// Everything wrong with this question as exam content, in words an editor can act on.
    /// Empty when the question can be delivered and graded.
    public func problems(isSubQuestion: Bool = false) -> [Message] {
        var found: [Message] = []
        func add(_ zh: String, _ en: String) {
            found.append(Message(zh: "试题 \(id)：\(zh)", en: "question \(id): \(en)"))
        }
        if !isWellFormedIdentifier(id.rawValue) {
            add("编号只能包含字母、数字、-、_、.，长度 1–64", "the id may only hold letters, digits, '-', '_', '.', 1 to 64 characters")
        }
        if stem.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && type != .caseAnalysis {
            add("题干为空", "the stem is empty")
        }
        if type != .caseAnalysis && !(points.isFinite && points > 0 && points <= 1000) {
            add("分值必须大于 0 且不超过 1000", "points must be above 0 and at most 1000")
        }
        if let difficulty, !(1...5).contains(difficulty) {
            add("难度必须在 1 到 5 之间", "difficulty must be between 1 and 5")
        }
        switch content {
        case .singleChoice(let options, let correct):
            optionProblems(options, add: add)
            if !options.contains(where: { $0.id == correct }) {
                add("答案 \(correct) 不在选项中", "the answer \(correct) is not one of its options")
            }
        case .multipleChoice(let options, let correct):
            optionProblems(options, add: add)
            if correct.isEmpty { add("没有正确答案", "it has no correct answer") }
            if Set(correct).count != correct.count { add("答案有重复项", "the answer lists an option twice") }
            for id in correct where !options.contains(where: { $0.id == id }) {
                add("答案 \(id) 不在选项中", "the answer \(id) is not one of its options")
            }
        case .trueFalse:
            break
        case .fillBlank(let blanks):
            if blanks.isEmpty || blanks.count > 20 { add("填空数量必须在 1 到 20 之间", "it must have 1 to 20 blanks") }
            for (index, blank) in blanks.enumerated()
            where blank.accepted.isEmpty || blank.accepted.contains(where: { FillBlankNormaliser.normalise($0).isEmpty }) {
                add("第 \(index + 1) 空没有可接受的答案", "blank \(index + 1) has no accepted answer")
            }
        case .shortAnswer(_, let scheme), .essay(_, let scheme):
            for point in scheme where !(point.points.isFinite && point.points >= 0) {
                add("评分要点“\(point.description)”的分值无效", "the scoring point '\(point.description)' has invalid points")
            }
        case .calculation(let correct, let tolerance, _):
            if !correct.isFinite { add("标准答案不是有限数值", "the correct value is not a finite number") }
            if !(tolerance.isFinite && tolerance >= 0) { add("允许误差必须是非负数", "the tolerance must be zero or more") }
        case .flowchart(let steps, let correct, _):
            if steps.count < 2 || steps.count > 30 { add("步骤数量必须在 2 到 30 之间", "it must have 2 to 30 steps") }
            let ids = steps.map(\.id)
            if Set(ids).count != ids.count { add("步骤编号重复", "two steps share an id") }
            if correct.sorted() != ids.sorted() {
                add("正确顺序必须恰好包含每个步骤一次", "the correct order must hold every step exactly once")
            }
            for step in steps where step.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                add("步骤 \(step.id) 内容为空", "step \(step.id) is empty")
            }
        case .caseAnalysis(let material, let subs):
            if isSubQuestion { add("案例分析题不能嵌套", "a case analysis cannot hold another case analysis") }
            if material.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { add("案例材料为空", "the case material is empty") }
            if subs.isEmpty { add("没有小题", "it has no sub-questions") }
            let subIDs = subs.map(\.id)
            if Set(subIDs).count != subIDs.count { add("小题编号重复", "two sub-questions share an id") }
            for sub in subs { found += sub.problems(isSubQuestion: true) }
        case .thesis(_, let rule):
            if let rule {
                if rule.types.isEmpty { add("附件类型列表为空", "the attachment rule allows no file type") }
                for type in rule.types where AttachmentKind(rawValue: type) == nil {
                    add("不支持的附件类型 \(type)", "the attachment type \(type) is not supported")
                }
                if !(1...AttachmentKind.largestAllowedBytes).contains(rule.maxBytes) {
                    add("附件大小上限必须在 1 字节到 50 MB 之间", "the attachment size limit must be between 1 byte and 50 MB")
                }
            }
        }
        return found
    }

    private func optionProblems(_ options: [ChoiceOption], add: (String, String) -> Void) {
        if options.count < 2 || options.count > 26 { add("选项数量必须在 2 到 26 之间", "it must have 2 to 26 options") }
        let ids = options.map(\.id)
        if Set(ids).count != ids.count { add("选项编号重复", "two options share an id") }
        for option in options where option.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            add("选项 \(option.id) 内容为空", "option \(option.id) is empty")
        }
    }
}

/// File kinds a thesis attachment may have, recognised by their first bytes, not by their name alone.
public enum AttachmentKind: String, CaseIterable, Sendable, Codable {
    case pdf, docx, doc, odt, txt, jpg, png

    public static let largestAllowedBytes = 50 * 1024 * 1024

    public var contentType: String {
        switch self {
        case .pdf: "application/pdf"
        case .docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case .doc: "application/msword"
        case .odt: "application/vnd.oasis.opendocument.text"
        case .txt: "text/plain; charset=utf-8"
        case .jpg: "image/jpeg"
        case .png: "image/png"
        }
    }

    /// The kind named by the file's extension, if its content agrees.
    public static func recognise(fileName: String, content: some Collection<UInt8>) -> AttachmentKind? {
        let ext = (fileName as NSString).pathExtension.lowercased()
        let kind: AttachmentKind? = ext == "jpeg" ? .jpg : AttachmentKind(rawValue: ext)
        guard let kind, kind.contentMatches(Array(content.prefix(8)), whole: content) else { return nil }
        return kind
    }

    private func contentMatches(_ head: [UInt8], whole: some Collection<UInt8>) -> Bool {
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
        switch self {
        case .pdf: return starts([0x25, 0x50, 0x44, 0x46, 0x2D])
        case .docx, .odt: return starts([0x50, 0x4B, 0x03, 0x04])
        case .doc: return starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        case .jpg: return starts([0xFF, 0xD8, 0xFF])
        case .png: return starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case .txt:
            return !whole.contains(0) && String(validating: Array(whole), as: UTF8.self) != nil
        }
    }
}
