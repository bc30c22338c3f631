import ExamCore
import Foundation
import Logging
import PostgresNIO
import QuestionBank

/// A bank with its counts, as the bank list shows it.
public struct BankSummary: Sendable, Codable, Equatable {
    public var bank: Bank
    public var questions: Int
    public var active: Int
    public var retired: Int
    public var tasks: Int
    public var knowledgePoints: Int
}

/// A bank with its knowledge-point tree and per-type default points.
public struct BankDetail: Sendable, Codable, Equatable {
    public var bank: Bank
    public var knowledgePoints: [KnowledgePoint]
    public var typeDefaults: TypeDefaults
}

/// A question as the office pages show it.
public struct QuestionView: Sendable, Codable, Equatable {
    public var question: Question
    public var bankId: String
    public var status: QuestionStatus
    public var usageCount: Int
    public var updatedAt: Date
}

/// A skill task as the office pages show it.
public struct TaskView: Sendable, Codable, Equatable {
    public var task: SkillTask
    public var bankId: String
    public var status: QuestionStatus
    public var usageCount: Int
    public var updatedAt: Date
}

/// Which questions of a bank a list shows.
public struct QuestionFilter: Sendable {
    public var text: String?
    public var type: QuestionType?
    public var difficulty: Int?
    public var knowledgePoint: String?
    public var status: QuestionStatus?
    public var offset: Int = 0
    public var limit: Int = 50
    public init(
        text: String? = nil, type: QuestionType? = nil, difficulty: Int? = nil, knowledgePoint: String? = nil,
        status: QuestionStatus? = nil, offset: Int = 0, limit: Int = 50
    ) {
        self.text = text
        self.type = type
        self.difficulty = difficulty
        self.knowledgePoint = knowledgePoint
        self.status = status
        self.offset = offset
        self.limit = limit
    }
}

/// What deleting a question or task did: destroyed it, or retired it because a paper uses it.
public enum RemovalOutcome: String, Sendable, Codable {
    case deleted, retired
}

extension CentralDatabase {
    /// Migration 7: question banks, skill tasks, papers and their versions, exam plans, venue rooms, seals.
    static let authoringStatements: [String] = [
        """
        CREATE TABLE bank (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, occupation TEXT NOT NULL, occupation_code TEXT, level TEXT NOT NULL,
            subject TEXT NOT NULL CHECK (subject IN ('theory', 'skill')), type_defaults TEXT NOT NULL DEFAULT '{}',
            created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE knowledge_point (
            bank_id TEXT NOT NULL REFERENCES bank(id), code TEXT NOT NULL, name TEXT NOT NULL, parent TEXT,
            weight DOUBLE PRECISION, position INTEGER NOT NULL, PRIMARY KEY (bank_id, code)
        )
        """,
        """
        CREATE TABLE bank_question (
            id TEXT PRIMARY KEY, bank_id TEXT NOT NULL REFERENCES bank(id), type TEXT NOT NULL, difficulty INTEGER,
            knowledge_points TEXT[] NOT NULL, search_text TEXT NOT NULL, body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')), usage_count INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX bank_question_bank ON bank_question (bank_id, type, status)",
        """
        CREATE TABLE skill_task (
            id TEXT PRIMARY KEY, bank_id TEXT NOT NULL REFERENCES bank(id), title TEXT NOT NULL, body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')), usage_count INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE paper (
            id TEXT PRIMARY KEY, bank_id TEXT NOT NULL REFERENCES bank(id), subject TEXT NOT NULL, title TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('draft', 'requested', 'approved', 'rejected', 'issued')),
            version INTEGER NOT NULL, rule TEXT, requested_by TEXT, decided_by TEXT, reason TEXT,
            approved_at TIMESTAMPTZ, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE paper_version (
            paper_id TEXT NOT NULL REFERENCES paper(id), version INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
            question_ids TEXT[] NOT NULL, points DOUBLE PRECISION NOT NULL, item_count INTEGER NOT NULL, snapshot TEXT,
            saved_by TEXT NOT NULL, saved_at TIMESTAMPTZ NOT NULL, note TEXT,
            PRIMARY KEY (paper_id, version)
        )
        """,
        """
        CREATE TABLE paper_event (
            paper_id TEXT NOT NULL REFERENCES paper(id), at TIMESTAMPTZ NOT NULL, by TEXT NOT NULL, state TEXT NOT NULL, reason TEXT
        )
        """,
        """
        CREATE TABLE venue_room (
            venue_id TEXT NOT NULL REFERENCES venue(id), id TEXT NOT NULL, name TEXT NOT NULL, seats TEXT[] NOT NULL,
            position INTEGER NOT NULL, PRIMARY KEY (venue_id, id)
        )
        """,
        "CREATE TABLE exam_plan (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
        """
        CREATE TABLE plan_sitting (
            id TEXT PRIMARY KEY, plan_id TEXT NOT NULL REFERENCES exam_plan(id), venue_id TEXT NOT NULL REFERENCES venue(id),
            paper_id TEXT NOT NULL REFERENCES paper(id), paper_version INTEGER NOT NULL, body TEXT NOT NULL,
            scheduled_start TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE plan_candidate (
            sitting_id TEXT NOT NULL REFERENCES plan_sitting(id), admission_number TEXT NOT NULL, name TEXT NOT NULL,
            id_number TEXT NOT NULL, organisation TEXT, room_id TEXT, seat TEXT, position INTEGER NOT NULL, photo BYTEA,
            PRIMARY KEY (sitting_id, admission_number)
        )
        """,
        """
        CREATE TABLE plan_staff (
            sitting_id TEXT NOT NULL REFERENCES plan_sitting(id), username TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
            rooms TEXT[] NOT NULL, password_hash TEXT NOT NULL, PRIMARY KEY (sitting_id, username)
        )
        """,
        """
        CREATE TABLE sitting_seal (
            sitting_id TEXT PRIMARY KEY REFERENCES plan_sitting(id), venue_id TEXT NOT NULL, package_id TEXT NOT NULL,
            code TEXT NOT NULL, release_at TIMESTAMPTZ NOT NULL, released_at TIMESTAMPTZ
        )
        """,
        "ALTER TABLE venue_package ADD COLUMN plan_id TEXT, ADD COLUMN sittings TEXT[]",
    ]

    // MARK: Banks

    public func createBank(_ proposed: Bank, now: Date = Date()) async throws -> Bank {
        var bank = proposed
        if bank.id.rawValue.isEmpty { bank.id = Bank.ID(FreshID.make("bank")) }
        var problems: [Message] = []
        if !isWellFormedIdentifier(bank.id.rawValue) {
            problems.append(Message(zh: "题库编号只能包含字母、数字、-、_、.", en: "a bank id may only hold letters, digits, '-', '_', '.'"))
        }
        problems += Self.bankProblems(bank)
        guard problems.isEmpty else {
            throw OfficeError.invalid("bank_invalid", problems, zh: "题库信息不完整", en: "the bank is not complete")
        }
        var inserted = false
        for try await _ in try await client.query(
            """
            INSERT INTO bank (id, name, occupation, occupation_code, level, subject, created_at, updated_at)
            VALUES (\(bank.id.rawValue), \(bank.name), \(bank.occupation), \(bank.occupationCode), \(bank.level), \(bank.subject.rawValue), \(now), \(now))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        {
            inserted = true
        }
        guard inserted else {
            throw OfficeError(.conflict, "bank_exists", zh: "题库 \(bank.id) 已存在", en: "bank \(bank.id) already exists")
        }
        return bank
    }

    static func bankProblems(_ bank: Bank) -> [Message] {
        var problems: [Message] = []
        for (value, zh, en) in [(bank.name, "名称", "name"), (bank.occupation, "职业（工种）", "occupation"), (bank.level, "等级", "level")]
        where value.trimmingCharacters(in: .whitespaces).isEmpty || value.count > 200 {
            problems.append(Message(zh: "题库的\(zh)不能为空（不超过 200 字）", en: "the bank's \(en) must be 1 to 200 characters"))
        }
        return problems
    }

    public func updateBank(_ id: String, name: String, occupation: String, occupationCode: String?, level: String, now: Date = Date()) async throws -> Bank {
        var bank = try await bank(id).bank
        bank.name = name
        bank.occupation = occupation
        bank.occupationCode = occupationCode
        bank.level = level
        let problems = Self.bankProblems(bank)
        guard problems.isEmpty else {
            throw OfficeError.invalid("bank_invalid", problems, zh: "题库信息不完整", en: "the bank is not complete")
        }
        try await client.query(
            """
            UPDATE bank SET name = \(name), occupation = \(occupation), occupation_code = \(occupationCode), level = \(level),
                updated_at = \(now) WHERE id = \(id)
            """, logger: logger)
        return bank
    }

    public func banks() async throws -> [BankSummary] {
        var list: [BankSummary] = []
        for try await (id, name, occupation, code, level, subject, total, active, tasks, points) in try await client.query(
            """
            SELECT b.id, b.name, b.occupation, b.occupation_code, b.level, b.subject,
                (SELECT count(*) FROM bank_question q WHERE q.bank_id = b.id)::INT,
                (SELECT count(*) FROM bank_question q WHERE q.bank_id = b.id AND q.status = 'active')::INT,
                (SELECT count(*) FROM skill_task t WHERE t.bank_id = b.id)::INT,
                (SELECT count(*) FROM knowledge_point k WHERE k.bank_id = b.id)::INT
            FROM bank b ORDER BY b.occupation, b.level, b.name
            """, logger: logger
        ).decode((String, String, String, String?, String, String, Int, Int, Int, Int).self) {
            let bank = Bank(
                id: Bank.ID(id), name: name, occupation: occupation, occupationCode: code, level: level,
                subject: Subject(rawValue: subject) ?? .theory)
            list.append(BankSummary(bank: bank, questions: total, active: active, retired: total - active, tasks: tasks, knowledgePoints: points))
        }
        return list
    }

    public func bank(_ id: String) async throws -> BankDetail {
        var found: (String, String, String?, String, String, String)?
        for try await row in try await client.query(
            "SELECT name, occupation, occupation_code, level, subject, type_defaults FROM bank WHERE id = \(id)", logger: logger
        ).decode((String, String, String?, String, String, String).self) {
            found = row
        }
        guard let (name, occupation, code, level, subject, defaults) = found else {
            throw OfficeError.notFound(("题库", "bank"), id)
        }
        var points: [KnowledgePoint] = []
        for try await (code, name, parent, weight) in try await client.query(
            "SELECT code, name, parent, weight FROM knowledge_point WHERE bank_id = \(id) ORDER BY position", logger: logger
        ).decode((String, String, String?, Double?).self) {
            points.append(KnowledgePoint(code: code, name: name, parent: parent, weight: weight))
        }
        let bank = Bank(
            id: Bank.ID(id), name: name, occupation: occupation, occupationCode: code, level: level,
            subject: Subject(rawValue: subject) ?? .theory)
        return BankDetail(
            bank: bank, knowledgePoints: points, typeDefaults: (try? StoredJSON.value(TypeDefaults.self, defaults)) ?? .standard)
    }

    /// Replaces the bank's knowledge-point tree whole; a code still used by a question cannot go.
    public func setKnowledgePoints(_ bankID: String, _ points: [KnowledgePoint]) async throws -> [KnowledgePoint] {
        _ = try await bank(bankID)
        let problems = KnowledgeTree.problems(points)
        guard problems.isEmpty else {
            throw OfficeError.invalid("knowledge_points_invalid", problems, zh: "知识点有误", en: "the knowledge points are not valid")
        }
        let codes = points.map(\.code)
        return try await transaction { connection in
            var stillUsed: [Message] = []
            for try await (id, code) in try await connection.query(
                """
                SELECT q.id, k FROM bank_question q, unnest(q.knowledge_points) AS k
                WHERE q.bank_id = \(bankID) AND NOT (k = ANY(\(codes))) ORDER BY q.id LIMIT 50
                """, logger: logger
            ).decode((String, String).self) {
                stillUsed.append(Message(zh: "试题 \(id) 仍使用知识点 \(code)", en: "question \(id) still uses knowledge point \(code)"))
            }
            guard stillUsed.isEmpty else {
                throw OfficeError(
                    .conflict, "knowledge_point_in_use", zh: "要删除的知识点仍被试题使用", en: "knowledge points to remove are still used by questions",
                    problems: stillUsed)
            }
            try await connection.query("DELETE FROM knowledge_point WHERE bank_id = \(bankID)", logger: logger)
            for (position, point) in points.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO knowledge_point (bank_id, code, name, parent, weight, position)
                    VALUES (\(bankID), \(point.code), \(point.name), \(point.parent), \(point.weight), \(position))
                    """, logger: logger)
            }
            return points
        }
    }

    public func setTypeDefaults(_ bankID: String, _ defaults: TypeDefaults) async throws -> TypeDefaults {
        _ = try await bank(bankID)
        let bad = defaults.points.filter { !($0.value.isFinite && $0.value > 0 && $0.value <= 1000) }.map(\.key)
        guard bad.isEmpty else {
            throw OfficeError.invalid(
                "type_defaults_invalid", bad.map { Message(zh: "\($0.nameZH)的默认分值须大于 0 且不超过 1000", en: "the default points of \($0.rawValue) must be above 0 and at most 1000") },
                zh: "题型默认分值有误", en: "the default points are not valid")
        }
        try await client.query("UPDATE bank SET type_defaults = \(try StoredJSON.text(defaults)) WHERE id = \(bankID)", logger: logger)
        return defaults
    }

    // MARK: Questions

    /// Everything wrong with a question for this bank: its own problems, and knowledge points the tree lacks.
    static func problems(of question: Question, tree: KnowledgeTree) -> [Message] {
        var problems = question.problems()
        for sub in [question] + question.subQuestions {
            for code in sub.knowledgePoints where tree.points[code] == nil {
                problems.append(Message(zh: "试题 \(sub.id)：知识点 \(code) 不在本题库的知识点中", en: "question \(sub.id): knowledge point \(code) is not in this bank's tree"))
            }
        }
        return problems
    }

    static func searchText(_ question: Question) -> String {
        DuplicateIndex.text(of: question)
    }

    /// The question's text as duplicate detection compares it, normalised once when it is written.
    static func duplicateText(_ question: Question) -> String {
        DuplicateIndex.normalised(DuplicateIndex.text(of: question))
    }

    /// Migration 9: the duplicate text of the questions written before it, from their search text; then the column
    /// is required.
    @Sendable static func fillDuplicateTexts(_ connection: PostgresConnection, _ logger: Logger) async throws {
        var rows: [(id: String, text: String)] = []
        for try await (id, text) in try await connection.query(
            "SELECT id, search_text FROM bank_question WHERE duplicate_text IS NULL", logger: logger
        ).decode((String, String).self) {
            rows.append((id, DuplicateIndex.normalised(text)))
        }
        for start in stride(from: 0, to: rows.count, by: 1000) {
            let batch = rows[start..<min(start + 1000, rows.count)]
            try await connection.query(
                """
                UPDATE bank_question q SET duplicate_text = v.text
                FROM unnest(\(batch.map(\.id))::TEXT[], \(batch.map(\.text))::TEXT[]) AS v(id, text) WHERE q.id = v.id
                """, logger: logger)
        }
        try await connection.query("ALTER TABLE bank_question ALTER COLUMN duplicate_text SET NOT NULL", logger: logger)
    }

    /// Adds questions to a bank in one transaction: all of them, or none when any is wrong or its id is taken.
    @discardableResult
    public func addQuestions(_ bankID: String, _ questions: [Question], now: Date = Date()) async throws -> [QuestionView] {
        let detail = try await bank(bankID)
        guard detail.bank.subject == .theory else {
            throw OfficeError(.conflict, "bank_is_skill", zh: "技能操作题库只收技能操作试题", en: "a skill bank holds skill tasks, not questions")
        }
        let tree = KnowledgeTree(detail.knowledgePoints)
        var problems: [Message] = []
        var ids = Set<String>()
        for question in questions {
            problems += Self.problems(of: question, tree: tree)
            if !ids.insert(question.id.rawValue).inserted {
                problems.append(Message(zh: "试题编号 \(question.id) 重复", en: "question id \(question.id) appears twice"))
            }
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("question_invalid", problems, zh: "试题有误，未保存", en: "the questions are not valid; nothing was saved")
        }
        return try await transaction { connection in
            var taken: [String] = []
            for try await id in try await connection.query(
                "SELECT id FROM bank_question WHERE id = ANY(\(Array(ids))) ORDER BY id LIMIT 50", logger: logger
            ).decode(String.self) {
                taken.append(id)
            }
            guard taken.isEmpty else {
                throw OfficeError(
                    .conflict, "question_exists", zh: "试题编号已被使用：\(taken.joined(separator: "、"))",
                    en: "question ids already in use: \(taken.joined(separator: ", "))")
            }
            for question in questions {
                try await connection.query(
                    """
                    INSERT INTO bank_question (
                        id, bank_id, type, difficulty, knowledge_points, search_text, duplicate_text, body, created_at, updated_at)
                    VALUES (\(question.id.rawValue), \(bankID), \(question.type.rawValue), \(question.difficulty),
                        \(Self.allKnowledgePoints(question)), \(Self.searchText(question)), \(Self.duplicateText(question)),
                        \(try StoredJSON.text(question)), \(now), \(now))
                    """, logger: logger)
            }
            return questions.map { QuestionView(question: $0, bankId: bankID, status: .active, usageCount: 0, updatedAt: now) }
        }
    }

    static func allKnowledgePoints(_ question: Question) -> [String] {
        var seen = Set<String>()
        return ([question] + question.subQuestions).flatMap(\.knowledgePoints).filter { seen.insert($0).inserted }
    }

    public func updateQuestion(_ question: Question, now: Date = Date()) async throws -> QuestionView {
        let current = try await questionView(question.id.rawValue)
        let tree = KnowledgeTree(try await bank(current.bankId).knowledgePoints)
        let problems = Self.problems(of: question, tree: tree)
        guard problems.isEmpty else {
            throw OfficeError.invalid("question_invalid", problems, zh: "试题有误，未保存", en: "the question is not valid; nothing was saved")
        }
        try await client.query(
            """
            UPDATE bank_question SET type = \(question.type.rawValue), difficulty = \(question.difficulty),
                knowledge_points = \(Self.allKnowledgePoints(question)), search_text = \(Self.searchText(question)),
                duplicate_text = \(Self.duplicateText(question)), body = \(try StoredJSON.text(question)), updated_at = \(now)
            WHERE id = \(question.id.rawValue)
            """, logger: logger)
        return try await questionView(question.id.rawValue)
    }

    public func questionView(_ id: String) async throws -> QuestionView {
        for try await (bank, body, status, usage, updated) in try await client.query(
            "SELECT bank_id, body, status, usage_count, updated_at FROM bank_question WHERE id = \(id)", logger: logger
        ).decode((String, String, String, Int, Date).self) {
            return QuestionView(
                question: try StoredJSON.value(Question.self, body), bankId: bank, status: QuestionStatus(rawValue: status) ?? .active,
                usageCount: usage, updatedAt: updated)
        }
        throw OfficeError.notFound(("试题", "question"), id)
    }

    /// Deletes a question no paper has used; retires one a paper has used (it stays for those papers, out of new ones).
    public func removeQuestion(_ id: String, now: Date = Date()) async throws -> RemovalOutcome {
        _ = try await questionView(id)
        return try await transaction { connection in
            var used = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM paper_version WHERE \(id) = ANY(question_ids) LIMIT 1", logger: logger)
            {
                used = true
            }
            if used {
                try await connection.query(
                    "UPDATE bank_question SET status = 'retired', updated_at = \(now) WHERE id = \(id)", logger: logger)
                return .retired
            }
            try await connection.query("DELETE FROM bank_question WHERE id = \(id)", logger: logger)
            return .deleted
        }
    }

    public func reactivateQuestion(_ id: String, now: Date = Date()) async throws -> QuestionView {
        _ = try await questionView(id)
        try await client.query("UPDATE bank_question SET status = 'active', updated_at = \(now) WHERE id = \(id)", logger: logger)
        return try await questionView(id)
    }

    /// A page of a bank's questions: search in the text, by type, difficulty, knowledge point (and below), status.
    public func questions(_ bankID: String, filter: QuestionFilter) async throws -> (total: Int, questions: [QuestionView]) {
        let detail = try await bank(bankID)
        var points: [String] = []
        if let point = filter.knowledgePoint, !point.isEmpty {
            let tree = KnowledgeTree(detail.knowledgePoints)
            points = detail.knowledgePoints.map(\.code).filter { tree.isUnder($0, point) }
            if points.isEmpty { points = [point] }
        }
        let pattern = filter.text.map { text in
            "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
        } ?? ""
        let type = filter.type?.rawValue ?? ""
        let status = filter.status?.rawValue ?? ""
        let difficulty = filter.difficulty ?? 0
        let limit = max(1, min(filter.limit, 500))
        let offset = max(0, filter.offset)
        var total = 0
        var list: [QuestionView] = []
        for try await (body, status, usage, updated, count) in try await client.query(
            """
            SELECT body, status, usage_count, updated_at, (count(*) OVER ())::INT FROM bank_question
            WHERE bank_id = \(bankID) AND (\(pattern) = '' OR search_text ILIKE \(pattern) OR id ILIKE \(pattern))
              AND (\(type) = '' OR type = \(type)) AND (\(status) = '' OR status = \(status))
              AND (\(difficulty) = 0 OR difficulty = \(difficulty))
              AND (cardinality(\(points)::TEXT[]) = 0 OR knowledge_points && \(points)::TEXT[])
            ORDER BY created_at, id LIMIT \(limit) OFFSET \(offset)
            """, logger: logger
        ).decode((String, String, Int, Date, Int).self) {
            total = count
            list.append(
                QuestionView(
                    question: try StoredJSON.value(Question.self, body), bankId: bankID, status: QuestionStatus(rawValue: status) ?? .active,
                    usageCount: usage, updatedAt: updated))
        }
        if list.isEmpty && offset > 0 {
            for try await count in try await client.query(
                "SELECT count(*)::INT FROM bank_question WHERE bank_id = \(bankID)", logger: logger
            ).decode(Int.self) {
                total = count
            }
        }
        return (total, list)
    }

    /// Every question of a bank (for assembly, duplicates, statistics and export).
    public func bankQuestions(_ bankID: String) async throws -> [BankQuestion] {
        var list: [BankQuestion] = []
        for try await (body, status, usage) in try await client.query(
            "SELECT body, status, usage_count FROM bank_question WHERE bank_id = \(bankID) ORDER BY created_at, id", logger: logger
        ).decode((String, String, Int).self) {
            list.append(
                BankQuestion(question: try StoredJSON.value(Question.self, body), status: QuestionStatus(rawValue: status) ?? .active, usageCount: usage))
        }
        return list
    }

    /// Each question of a bank as duplicate detection compares it, already normalised (kept when the question is
    /// written), without reading the questions themselves: for `DuplicateIndex(_:normalised: true)`.
    public func duplicateTexts(_ bankID: String) async throws -> [(id: String, text: String)] {
        var texts: [(id: String, text: String)] = []
        for try await (id, text) in try await client.query(
            "SELECT id, duplicate_text FROM bank_question WHERE bank_id = \(bankID) ORDER BY created_at, id", logger: logger
        ).decode((String, String).self) {
            texts.append((id, text))
        }
        return texts
    }

    /// The stems of these questions, by id.
    public func stems(_ ids: [String]) async throws -> [String: String] {
        var stems: [String: String] = [:]
        for try await (id, body) in try await client.query("SELECT id, body FROM bank_question WHERE id = ANY(\(ids))", logger: logger)
            .decode((String, String).self)
        {
            stems[id] = try StoredJSON.value(Question.self, body).stem
        }
        return stems
    }

    /// Which of these question ids the central office already holds, in any bank.
    public func questionIDsTaken(_ ids: [String]) async throws -> Set<String> {
        var taken = Set<String>()
        for try await id in try await client.query("SELECT id FROM bank_question WHERE id = ANY(\(ids))", logger: logger).decode(String.self) {
            taken.insert(id)
        }
        return taken
    }

    // MARK: Skill tasks

    public func addTask(_ bankID: String, _ proposed: SkillTask, now: Date = Date()) async throws -> TaskView {
        let detail = try await bank(bankID)
        guard detail.bank.subject == .skill else {
            throw OfficeError(.conflict, "bank_is_theory", zh: "理论知识题库不收技能操作试题", en: "a theory bank holds questions, not skill tasks")
        }
        var task = proposed
        if task.id.rawValue.isEmpty { task.id = SkillTask.ID(FreshID.make("task")) }
        try Self.check(task, tree: KnowledgeTree(detail.knowledgePoints))
        var inserted = false
        for try await _ in try await client.query(
            """
            INSERT INTO skill_task (id, bank_id, title, body, created_at, updated_at)
            VALUES (\(task.id.rawValue), \(bankID), \(task.title), \(try StoredJSON.text(task)), \(now), \(now))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        {
            inserted = true
        }
        guard inserted else {
            throw OfficeError(.conflict, "task_exists", zh: "试题编号 \(task.id) 已被使用", en: "task id \(task.id) is already in use")
        }
        return TaskView(task: task, bankId: bankID, status: .active, usageCount: 0, updatedAt: now)
    }

    static func check(_ task: SkillTask, tree: KnowledgeTree) throws {
        var problems = task.problems()
        for code in task.knowledgePoints where tree.points[code] == nil {
            problems.append(Message(zh: "试题 \(task.id)：知识点 \(code) 不在本题库的知识点中", en: "task \(task.id): knowledge point \(code) is not in this bank's tree"))
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("task_invalid", problems, zh: "技能操作试题有误，未保存", en: "the skill task is not valid; nothing was saved")
        }
    }

    public func updateTask(_ task: SkillTask, now: Date = Date()) async throws -> TaskView {
        let current = try await taskView(task.id.rawValue)
        try Self.check(task, tree: KnowledgeTree(try await bank(current.bankId).knowledgePoints))
        try await client.query(
            "UPDATE skill_task SET title = \(task.title), body = \(try StoredJSON.text(task)), updated_at = \(now) WHERE id = \(task.id.rawValue)",
            logger: logger)
        return try await taskView(task.id.rawValue)
    }

    public func taskView(_ id: String) async throws -> TaskView {
        for try await (bank, body, status, usage, updated) in try await client.query(
            "SELECT bank_id, body, status, usage_count, updated_at FROM skill_task WHERE id = \(id)", logger: logger
        ).decode((String, String, String, Int, Date).self) {
            return TaskView(
                task: try StoredJSON.value(SkillTask.self, body), bankId: bank, status: QuestionStatus(rawValue: status) ?? .active,
                usageCount: usage, updatedAt: updated)
        }
        throw OfficeError.notFound(("技能操作试题", "skill task"), id)
    }

    public func tasks(_ bankID: String) async throws -> [TaskView] {
        _ = try await bank(bankID)
        var list: [TaskView] = []
        for try await (body, status, usage, updated) in try await client.query(
            "SELECT body, status, usage_count, updated_at FROM skill_task WHERE bank_id = \(bankID) ORDER BY created_at, id", logger: logger
        ).decode((String, String, Int, Date).self) {
            list.append(
                TaskView(
                    task: try StoredJSON.value(SkillTask.self, body), bankId: bankID, status: QuestionStatus(rawValue: status) ?? .active,
                    usageCount: usage, updatedAt: updated))
        }
        return list
    }

    public func removeTask(_ id: String, now: Date = Date()) async throws -> RemovalOutcome {
        _ = try await taskView(id)
        return try await transaction { connection in
            var used = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM paper_version WHERE \(id) = ANY(question_ids) LIMIT 1", logger: logger)
            {
                used = true
            }
            if used {
                try await connection.query("UPDATE skill_task SET status = 'retired', updated_at = \(now) WHERE id = \(id)", logger: logger)
                return .retired
            }
            try await connection.query("DELETE FROM skill_task WHERE id = \(id)", logger: logger)
            return .deleted
        }
    }
}
