import ExamCore
import Foundation
import Logging
import PostgresNIO
import QuestionBank

/// Where a paper is in its life: assembled or edited (draft), waiting for approval (用卷申请), approved or rejected,
/// and issued to a sitting in a venue package.
public enum PaperState: String, Sendable, Codable {
    case draft, requested, approved, rejected, issued
}

/// A paper's content as the library keeps each version: theory sections of question ids, or skill tasks.
public struct PaperBody: Sendable, Codable, Equatable {
    public struct Section: Sendable, Codable, Equatable {
        public var title: String
        /// Points of each question in the section; nil keeps the bank's points (and always for case analysis).
        public var pointsEach: Double?
        public var questions: [String]
        /// Points given to single questions by hand, by question id, before `pointsEach` (never for case analysis).
        public var questionPoints: [String: Double]?
        public init(title: String, pointsEach: Double? = nil, questions: [String], questionPoints: [String: Double]? = nil) {
            self.title = title
            self.pointsEach = pointsEach
            self.questions = questions
            self.questionPoints = questionPoints
        }

        /// A question's points in this paper: set by hand, else the section's, else the bank's.
        func points(of question: Question) -> Double {
            if question.type == .caseAnalysis { return question.points }
            return questionPoints?[question.id.rawValue] ?? pointsEach ?? question.points
        }
    }
    public var sections: [Section]?
    public var tasks: [String]?
    public init(sections: [Section]? = nil, tasks: [String]? = nil) {
        self.sections = sections
        self.tasks = tasks
    }

    var ids: [String] { (sections ?? []).flatMap(\.questions) + (tasks ?? []) }
}

/// What an approved paper holds for good: the paper as the venue gets it, and its questions or tasks as they were
/// at approval (editing the bank later changes no approved paper).
public struct PaperSnapshot: Sendable, Codable, Equatable {
    public var paper: Paper?
    public var questions: [Question]
    public var tasks: [SkillTask]
}

public struct PaperSummary: Sendable, Codable, Equatable {
    public var id: String
    public var bankId: String
    public var title: String
    public var subject: Subject
    public var state: PaperState
    public var version: Int
    public var points: Double
    public var questions: Int
    public var updatedAt: Date
    public var requestedBy: String?
    public var decidedBy: String?
    public var reason: String?
}

public struct PaperDetail: Sendable, Codable, Equatable {
    public struct Section: Sendable, Codable, Equatable {
        public var title: String
        public var pointsEach: Double?
        /// Points set by hand on single questions (the questions' own points already show them).
        public var questionPoints: [String: Double]?
        public var points: Double
        public var questions: [QuestionView]
    }
    public struct Version: Sendable, Codable, Equatable {
        public var version: Int
        public var savedAt: Date
        public var savedBy: String
        public var note: String?
    }
    public struct Event: Sendable, Codable, Equatable {
        public var state: PaperState
        public var at: Date
        public var by: String
        public var reason: String?
    }
    public var summary: PaperSummary
    /// The version shown (the current one unless an older was asked for).
    public var version: Int
    public var sections: [Section]
    public var tasks: [SkillTask]
    public var report: [ConstraintReport]
    public var rule: AssemblyRule?
    public var versions: [Version]
    public var history: [Event]
}

extension CentralDatabase {
    /// Saves new draft papers; `rule` is kept so an edited paper can be checked against it again.
    public func createPaper(
        bankID: String, title: String, body: PaperBody, rule: AssemblyRule? = nil, by: String, now: Date = Date()
    ) async throws -> PaperDetail {
        let detail = try await bank(bankID)
        let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw OfficeError.invalid("paper_invalid", [], zh: "试卷名称不能为空（不超过 200 字）", en: "a paper needs a title of 1 to 200 characters")
        }
        let totals = try await checkBody(body, bank: detail)
        let id = FreshID.make("paper")
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO paper (id, bank_id, subject, title, state, version, rule, created_at, updated_at)
                VALUES (\(id), \(bankID), \(detail.bank.subject.rawValue), \(trimmed), 'draft', 1, \(try rule.map { try StoredJSON.text($0) }), \(now), \(now))
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO paper_version (paper_id, version, title, body, question_ids, points, item_count, saved_by, saved_at, note)
                VALUES (\(id), 1, \(trimmed), \(try StoredJSON.text(body)), \(body.ids), \(totals.points), \(totals.count), \(by), \(now),
                    \(rule == nil ? "手工组卷" : "按规则组卷"))
                """, logger: logger)
            try await connection.query(
                "INSERT INTO paper_event (paper_id, at, by, state) VALUES (\(id), \(now), \(by), 'draft')", logger: logger)
        }
        return try await paper(id)
    }

    /// A paper's content must fit its bank: theory sections of this bank's active questions, no question twice,
    /// sensible points; skill papers of this bank's tasks. Answers the paper's points and number of questions or tasks.
    func checkBody(_ body: PaperBody, bank: BankDetail) async throws -> (points: Double, count: Int) {
        var points = 0.0
        var problems: [Message] = []
        let bankID = bank.bank.id.rawValue
        switch bank.bank.subject {
        case .theory:
            let sections = body.sections ?? []
            if sections.isEmpty || body.tasks?.isEmpty == false {
                problems.append(Message(zh: "理论试卷须由大题组成", en: "a theory paper is made of sections of questions"))
            }
            let questions = Dictionary(
                try await bankQuestions(bankID).map { ($0.id.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
            var seen = Set<String>()
            for (index, section) in sections.enumerated() {
                if section.title.trimmingCharacters(in: .whitespaces).isEmpty {
                    problems.append(Message(zh: "第 \(index + 1) 大题没有标题", en: "section \(index + 1) has no title"))
                }
                if section.questions.isEmpty {
                    problems.append(Message(zh: "第 \(index + 1) 大题没有试题", en: "section \(index + 1) holds no questions"))
                }
                if let points = section.pointsEach, !(points.isFinite && points > 0 && points <= 1000) {
                    problems.append(Message(zh: "第 \(index + 1) 大题的每题分值无效", en: "the points of section \(index + 1) are not valid"))
                }
                for (id, points) in (section.questionPoints ?? [:]).sorted(by: { $0.key < $1.key }) {
                    if !section.questions.contains(id) {
                        problems.append(
                            Message(zh: "第 \(index + 1) 大题为不在本大题的试题 \(id) 设了分值", en: "section \(index + 1) sets points for question \(id), which it does not hold"))
                    } else if questions[id]?.question.type == .caseAnalysis {
                        problems.append(
                            Message(zh: "案例分析题 \(id) 的分值由小题决定，不能单独设定", en: "case analysis \(id) takes its points from its sub-questions; they cannot be set here"))
                    } else if !(points.isFinite && points > 0 && points <= 1000) {
                        problems.append(Message(zh: "试题 \(id) 的分值无效（须大于 0，不超过 1000）", en: "the points of question \(id) are not valid (more than 0, at most 1000)"))
                    }
                }
                for id in section.questions {
                    if !seen.insert(id).inserted {
                        problems.append(Message(zh: "试题 \(id) 在试卷中出现了两次", en: "question \(id) appears twice in the paper"))
                    }
                    guard let question = questions[id] else {
                        problems.append(Message(zh: "试题 \(id) 不在本题库中", en: "question \(id) is not in this bank"))
                        continue
                    }
                    if question.status == .retired {
                        problems.append(Message(zh: "试题 \(id) 已停用", en: "question \(id) is retired"))
                    }
                    points += section.points(of: question.question)
                }
            }
        case .skill:
            let tasks = body.tasks ?? []
            if tasks.isEmpty || body.sections?.isEmpty == false {
                problems.append(Message(zh: "技能操作试卷须由技能操作试题组成", en: "a skill paper is made of skill tasks"))
            }
            let known = Dictionary(try await self.tasks(bankID).map { ($0.task.id.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
            var seen = Set<String>()
            for id in tasks {
                if !seen.insert(id).inserted { problems.append(Message(zh: "试题 \(id) 出现了两次", en: "task \(id) appears twice")) }
                if let task = known[id] {
                    points += task.task.points
                    if task.status == .retired { problems.append(Message(zh: "试题 \(id) 已停用", en: "task \(id) is retired")) }
                } else {
                    problems.append(Message(zh: "试题 \(id) 不在本题库中", en: "task \(id) is not in this bank"))
                }
            }
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("paper_invalid", problems, zh: "试卷有误，未保存", en: "the paper is not valid; nothing was saved")
        }
        return (points, body.ids.count)
    }

    /// Saves an edited paper as a new version; only drafts and rejected papers can change.
    public func updatePaper(_ id: String, title: String, body: PaperBody, note: String?, by: String, now: Date = Date()) async throws -> PaperDetail {
        let current = try await paper(id)
        guard [.draft, .rejected].contains(current.summary.state) else {
            throw OfficeError(
                .conflict, "paper_locked", zh: "试卷已\(Self.stateZH(current.summary.state))，不能再修改", en: "the paper is \(current.summary.state.rawValue) and can no longer change")
        }
        let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw OfficeError.invalid("paper_invalid", [], zh: "试卷名称不能为空（不超过 200 字）", en: "a paper needs a title of 1 to 200 characters")
        }
        let totals = try await checkBody(body, bank: try await bank(current.summary.bankId))
        let version = current.summary.version + 1
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO paper_version (paper_id, version, title, body, question_ids, points, item_count, saved_by, saved_at, note)
                VALUES (\(id), \(version), \(trimmed), \(try StoredJSON.text(body)), \(body.ids), \(totals.points), \(totals.count), \(by),
                    \(now), \(note))
                """, logger: logger)
            try await connection.query(
                "UPDATE paper SET title = \(trimmed), version = \(version), state = 'draft', updated_at = \(now) WHERE id = \(id)",
                logger: logger)
            if current.summary.state != .draft {
                try await connection.query(
                    "INSERT INTO paper_event (paper_id, at, by, state) VALUES (\(id), \(now), \(by), 'draft')", logger: logger)
            }
        }
        return try await paper(id)
    }

    static func stateZH(_ state: PaperState) -> String {
        switch state {
        case .draft: "草稿"
        case .requested: "提交用卷申请"
        case .approved: "审批通过"
        case .rejected: "被驳回"
        case .issued: "下发"
        }
    }

    /// The approval workflow (用卷审批): a draft or rejected paper is requested; someone else approves or rejects it.
    public func requestApproval(_ id: String, note: String?, by: String, now: Date = Date()) async throws -> PaperDetail {
        try await move(id, from: [.draft, .rejected], to: .requested, by: by, reason: note, now: now)
    }

    public func approvePaper(_ id: String, by: String, now: Date = Date()) async throws -> PaperDetail {
        let current = try await paper(id)
        guard current.summary.requestedBy != by else {
            throw OfficeError(
                .conflict, "paper_self_approval", zh: "提交用卷申请的人不能自己审批，请由另一位负责人审批",
                en: "the person who requested the paper cannot approve it; another office user must")
        }
        let snapshot = try await snapshot(current)
        return try await move(id, from: [.requested], to: .approved, by: by, reason: nil, now: now, snapshot: snapshot)
    }

    public func rejectPaper(_ id: String, reason: String, by: String, now: Date = Date()) async throws -> PaperDetail {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw OfficeError.invalid("reason_required", [], zh: "驳回须写明原因", en: "a rejection needs a reason")
        }
        return try await move(id, from: [.requested], to: .rejected, by: by, reason: trimmed, now: now)
    }

    private func move(
        _ id: String, from: Set<PaperState>, to state: PaperState, by: String, reason: String?, now: Date, snapshot: PaperSnapshot? = nil
    ) async throws -> PaperDetail {
        let current = try await paper(id)
        guard from.contains(current.summary.state) else {
            throw OfficeError(
                .conflict, "paper_state", zh: "试卷当前为「\(Self.stateZH(current.summary.state))」，不能\(Self.stateZH(state))",
                en: "the paper is \(current.summary.state.rawValue); it cannot become \(state.rawValue)")
        }
        try await transaction { connection in
            let requestedBy: String? = state == .requested ? by : current.summary.requestedBy
            let decidedBy: String? = [.approved, .rejected].contains(state) ? by : nil
            try await connection.query(
                """
                UPDATE paper SET state = \(state.rawValue), requested_by = \(requestedBy), decided_by = \(decidedBy),
                    reason = \(state == .rejected ? reason : nil), updated_at = \(now),
                    approved_at = CASE WHEN \(state.rawValue) = 'approved' THEN \(now) ELSE approved_at END
                WHERE id = \(id)
                """, logger: logger)
            if let snapshot {
                try await connection.query(
                    "UPDATE paper_version SET snapshot = \(try StoredJSON.text(snapshot)) WHERE paper_id = \(id) AND version = \(current.summary.version)",
                    logger: logger)
            }
            try await connection.query(
                "INSERT INTO paper_event (paper_id, at, by, state, reason) VALUES (\(id), \(now), \(by), \(state.rawValue), \(reason))",
                logger: logger)
        }
        return try await paper(id)
    }

    /// The paper as it will travel: ExamCore's paper and the questions (or tasks) as they are now.
    func snapshot(_ detail: PaperDetail) async throws -> PaperSnapshot {
        if detail.summary.subject == .skill {
            return PaperSnapshot(paper: nil, questions: [], tasks: detail.tasks)
        }
        let sections = detail.sections.enumerated().map { index, section in
            PaperSection(
                id: PaperSection.ID("s\(index + 1)"), title: section.title,
                items: section.questions.map { view in
                    PaperItem(
                        question: view.question.id,
                        points: view.question.type == .caseAnalysis ? nil : section.questionPoints?[view.question.id.rawValue] ?? section.pointsEach)
                })
        }
        let paper = Paper(id: Paper.ID(detail.summary.id), title: detail.summary.title, sections: sections)
        let questions = detail.sections.flatMap { $0.questions.map(\.question) }
        do {
            _ = try AssembledPaper(paper: paper, questions: Dictionary(uniqueKeysWithValues: questions.map { ($0.id, $0) }))
        } catch {
            throw OfficeError.invalid("paper_invalid", [error.message], zh: "试卷不能下发到考点", en: "the paper could not be delivered to a venue")
        }
        return PaperSnapshot(paper: paper, questions: questions, tasks: [])
    }

    /// The paper library: every paper of a bank (or all), newest change first, optionally in one state.
    public func papers(bankID: String? = nil, state: PaperState? = nil) async throws -> [PaperSummary] {
        var list: [PaperSummary] = []
        for try await (id, bank, subject, title, stateText, version, requestedBy, decidedBy, reason, updated, points, count) in try await client.query(
            """
            SELECT p.id, p.bank_id, p.subject, p.title, p.state, p.version, p.requested_by, p.decided_by, p.reason, p.updated_at,
                v.points, v.item_count
            FROM paper p JOIN paper_version v ON v.paper_id = p.id AND v.version = p.version
            WHERE (\(bankID ?? "") = '' OR p.bank_id = \(bankID ?? "")) AND (\(state?.rawValue ?? "") = '' OR p.state = \(state?.rawValue ?? ""))
            ORDER BY p.updated_at DESC, p.id
            """, logger: logger
        ).decode((String, String, String, String, String, Int, String?, String?, String?, Date, Double, Int).self) {
            list.append(
                PaperSummary(
                    id: id, bankId: bank, title: title, subject: Subject(rawValue: subject) ?? .theory,
                    state: PaperState(rawValue: stateText) ?? .draft, version: version, points: points, questions: count, updatedAt: updated,
                    requestedBy: requestedBy, decidedBy: decidedBy, reason: reason))
        }
        return list
    }

    /// A paper with its content resolved for preview: the questions of the version asked for (an approved paper's
    /// own copy), the constraint report against its rule, its versions and history.
    public func paper(_ id: String, version wanted: Int? = nil) async throws -> PaperDetail {
        var row: (String, String, String, String, Int, String?, String?, String?, String?, Date, Date)?
        for try await found in try await client.query(
            """
            SELECT bank_id, subject, title, state, version, rule, requested_by, decided_by, reason, updated_at, created_at
            FROM paper WHERE id = \(id)
            """, logger: logger
        ).decode((String, String, String, String, Int, String?, String?, String?, String?, Date, Date).self) {
            row = found
        }
        guard let (bankID, subjectText, title, stateText, current, ruleText, requestedBy, decidedBy, reason, updated, created) = row else {
            throw OfficeError.notFound(("试卷", "paper"), id)
        }
        let version = wanted ?? current
        var versions: [PaperDetail.Version] = []
        var body: PaperBody?
        var snapshot: PaperSnapshot?
        var shownTitle = title
        for try await (number, savedAt, savedBy, note, bodyText, snapshotText, versionTitle) in try await client.query(
            "SELECT version, saved_at, saved_by, note, body, snapshot, title FROM paper_version WHERE paper_id = \(id) ORDER BY version DESC",
            logger: logger
        ).decode((Int, Date, String, String?, String, String?, String).self) {
            versions.append(.init(version: number, savedAt: savedAt, savedBy: savedBy, note: note))
            if number == version {
                body = try StoredJSON.value(PaperBody.self, bodyText)
                snapshot = try snapshotText.map { try StoredJSON.value(PaperSnapshot.self, $0) }
                shownTitle = versionTitle
            }
        }
        guard let body else { throw OfficeError.notFound(("试卷版本", "paper version"), "\(id) v\(version)") }
        var history: [PaperDetail.Event] = []
        for try await (state, at, by, why) in try await client.query(
            "SELECT state, at, by, reason FROM paper_event WHERE paper_id = \(id) ORDER BY at, state", logger: logger
        ).decode((String, Date, String, String?).self) {
            history.append(.init(state: PaperState(rawValue: state) ?? .draft, at: at, by: by, reason: why))
        }
        let subject = Subject(rawValue: subjectText) ?? .theory
        let rule = try ruleText.map { try StoredJSON.value(AssemblyRule.self, $0) }
        var sections: [PaperDetail.Section] = []
        var tasks: [SkillTask] = []
        var report: [ConstraintReport] = []
        if subject == .theory {
            var byID: [String: QuestionView] = [:]
            if let snapshot {
                for question in snapshot.questions {
                    byID[question.id.rawValue] = QuestionView(question: question, bankId: bankID, status: .active, usageCount: 0, updatedAt: updated)
                }
            } else {
                for try await (qid, bodyText, status, usage, qUpdated) in try await client.query(
                    "SELECT id, body, status, usage_count, updated_at FROM bank_question WHERE id = ANY(\(body.ids))", logger: logger
                ).decode((String, String, String, Int, Date).self) {
                    byID[qid] = QuestionView(
                        question: try StoredJSON.value(Question.self, bodyText), bankId: bankID,
                        status: QuestionStatus(rawValue: status) ?? .active, usageCount: usage, updatedAt: qUpdated)
                }
            }
            for section in body.sections ?? [] {
                var views: [QuestionView] = []
                for qid in section.questions {
                    guard var view = byID[qid] else { continue }
                    view.question.points = section.points(of: view.question)
                    views.append(view)
                }
                sections.append(
                    .init(
                        title: section.title, pointsEach: section.pointsEach, questionPoints: section.questionPoints,
                        points: views.reduce(0) { $0 + $1.question.points }, questions: views))
            }
            if let rule {
                let bankQuestions = try await bankQuestions(bankID)
                let tree = KnowledgeTree(try await bank(bankID).knowledgePoints)
                let drafts = (body.sections ?? []).map { section in
                    let type = section.questions.compactMap { byID[$0]?.question.type }.first ?? .singleChoice
                    return PaperDraft.Section(
                        title: section.title, type: type,
                        pointsEach: section.pointsEach ?? section.questions.compactMap { byID[$0]?.question.points }.first ?? 0,
                        questions: section.questions.map { Question.ID($0) }, questionPoints: section.questionPoints)
                }
                let recent = try await recentlyUsedQuestions(
                    bankID: bankID, papers: rule.excludeRecentPapers ?? 0, approvedBefore: created, excluding: id)
                report = Assembler.evaluate(
                    drafts, rule: rule, bank: Dictionary(bankQuestions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }), tree: tree,
                    recentlyUsed: recent)
            }
        } else {
            if let snapshot {
                tasks = snapshot.tasks
            } else {
                let known = Dictionary(try await self.tasks(bankID).map { ($0.task.id.rawValue, $0.task) }, uniquingKeysWith: { first, _ in first })
                tasks = (body.tasks ?? []).compactMap { known[$0] }
            }
        }
        let points = subject == .theory ? sections.reduce(0) { $0 + $1.points } : tasks.reduce(0) { $0 + $1.points }
        let count = subject == .theory ? sections.reduce(0) { $0 + $1.questions.count } : tasks.count
        let summary = PaperSummary(
            id: id, bankId: bankID, title: shownTitle, subject: subject, state: PaperState(rawValue: stateText) ?? .draft,
            version: current, points: points, questions: count, updatedAt: updated, requestedBy: requestedBy, decidedBy: decidedBy,
            reason: reason)
        return PaperDetail(
            summary: summary, version: version, sections: sections, tasks: tasks, report: report, rule: rule, versions: versions,
            history: history)
    }

    /// The approved paper's own copy, for issuing.
    public func paperSnapshot(_ id: String) async throws -> PaperSnapshot {
        let detail = try await paper(id)
        guard [.approved, .issued].contains(detail.summary.state) else {
            throw OfficeError(
                .conflict, "paper_not_approved", zh: "试卷 \(id) 尚未通过用卷审批", en: "paper \(id) has not been approved for use")
        }
        for try await text in try await client.query(
            "SELECT snapshot FROM paper_version WHERE paper_id = \(id) AND version = \(detail.summary.version)", logger: logger
        ).decode(String?.self) {
            if let text { return try StoredJSON.value(PaperSnapshot.self, text) }
        }
        return try await snapshot(detail)
    }

    /// Questions of the bank's last `count` approved or issued papers (to leave out of a new one); for a paper
    /// already made, `approvedBefore` its creation and other than itself (the papers its assembly left out).
    public func recentlyUsedQuestions(
        bankID: String, papers count: Int, approvedBefore: Date = .distantFuture, excluding paperID: String = ""
    ) async throws -> Set<Question.ID> {
        guard count > 0 else { return [] }
        var ids = Set<Question.ID>()
        for try await list in try await client.query(
            """
            SELECT v.question_ids FROM paper p JOIN paper_version v ON v.paper_id = p.id AND v.version = p.version
            WHERE p.bank_id = \(bankID) AND p.state IN ('approved', 'issued') AND p.approved_at < \(approvedBefore)
                AND p.id <> \(paperID)
            ORDER BY p.approved_at DESC LIMIT \(count)
            """, logger: logger
        ).decode([String].self) {
            for id in list { ids.insert(Question.ID(id)) }
        }
        return ids
    }
}
