import BankInterchange
import CentralStore
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuestionBank
import SyncProtocol
import VenuePackage

/// What central signs venue packages with, and when it releases sealed papers' keys.
public struct IssuerSettings: Sendable {
    /// The issuer id of a key made without one.
    public static let defaultIssuer = "kaodian-central"
    public var key: IssuerPrivateKey
    public var name: String
    /// How long before a sitting's scheduled start its paper's key is released to the venue.
    public var releaseLead: TimeInterval
    /// Where packages are written while they are built.
    public var workFolder: URL

    public init(key: IssuerPrivateKey, name: String, releaseLead: TimeInterval = 15 * 60, workFolder: URL) {
        self.key = key
        self.name = name
        self.releaseLead = releaseLead
        self.workFolder = workFolder
    }

    /// The key in `folder/issuer-key.json` (made on first use, readable by its owner only), its public half beside it.
    /// The issuer id is the key's: `issuer` names it when the key is made (nil: `defaultIssuer`); a different id
    /// for a key that exists is refused, since venues trust the key under the id it was made with.
    public static func load(folder: URL, issuer: String?, name: String, releaseLead: TimeInterval) throws -> IssuerSettings {
        let file = folder.appendingPathComponent("issuer-key.json")
        let key: IssuerPrivateKey
        if FileManager.default.fileExists(atPath: file.path) {
            key = try IssuerPrivateKey.load(from: file)
            if let issuer, issuer != key.issuer { throw IssuerMismatch(asked: issuer, key: key.issuer, file: file.path) }
        } else {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            key = IssuerPrivateKey.generate(issuer: issuer ?? defaultIssuer)
            try key.write(privateTo: file, publicTo: folder.appendingPathComponent("issuer-key.pub.json"))
        }
        return IssuerSettings(
            key: key, name: name, releaseLead: releaseLead, workFolder: folder.appendingPathComponent("package-work"))
    }
}

/// `--issuer-id` names another issuer than the signing key central already has.
public struct IssuerMismatch: Error, CustomStringConvertible {
    public var asked: String
    public var key: String
    public var file: String

    public var description: String {
        "the signing key in \(file) is issuer \(key)'s, not \(asked)'s: venues trust it under \(key). Start without --issuer-id (or with --issuer-id \(key)); to become another issuer, move the keys folder aside and enrol the venues again. "
            + "\(file) 中的签名密钥属于签发方 \(key)，不是 \(asked)：考点以 \(key) 的名义信任它。请去掉 --issuer-id（或用 --issuer-id \(key)）启动；若要改为其他签发方，请移走 keys 文件夹并让各考点重新注册。"
    }
}

/// The office's authoring API: question banks, skill tasks, bank files, papers and their approval, venue rooms, exam
/// plans, sittings and the packages built from them. Every call needs an office session.
struct OfficeAuthoring: Sendable {
    let database: CentralDatabase
    let issuer: IssuerSettings

    func register(on router: Router<BasicRequestContext>) {
        router.get("api/office/banks", use: banks)
        router.post("api/office/banks", use: createBank)
        router.get("api/office/banks/:bankId", use: bank)
        router.put("api/office/banks/:bankId", use: updateBank)
        router.put("api/office/banks/:bankId/knowledge-points", use: setKnowledgePoints)
        router.put("api/office/banks/:bankId/type-defaults", use: setTypeDefaults)
        router.get("api/office/banks/:bankId/questions", use: questions)
        router.post("api/office/banks/:bankId/questions", use: addQuestion)
        router.get("api/office/questions/:questionId", use: question)
        router.put("api/office/questions/:questionId", use: updateQuestion)
        router.delete("api/office/questions/:questionId", use: removeQuestion)
        router.post("api/office/questions/:questionId/reactivate", use: reactivateQuestion)
        router.get("api/office/banks/:bankId/duplicates", use: duplicates)
        router.get("api/office/banks/:bankId/statistics", use: statistics)
        router.post("api/office/banks/:bankId/import", use: importFile)
        router.get("api/office/banks/:bankId/export", use: exportFile)
        router.get("api/office/import-template.xlsx", use: template)
        router.get("api/office/banks/:bankId/tasks", use: tasks)
        router.post("api/office/banks/:bankId/tasks", use: addTask)
        router.put("api/office/tasks/:taskId", use: updateTask)
        router.delete("api/office/tasks/:taskId", use: removeTask)
        router.post("api/office/banks/:bankId/assemble", use: assemble)
        router.post("api/office/banks/:bankId/papers", use: createPaper)
        router.get("api/office/papers", use: papers)
        router.get("api/office/papers/:paperId", use: paper)
        router.put("api/office/papers/:paperId", use: updatePaper)
        router.post("api/office/papers/:paperId/request", use: requestApproval)
        router.post("api/office/papers/:paperId/approve", use: approve)
        router.post("api/office/papers/:paperId/reject", use: reject)
        router.get("api/office/papers/:paperId/print", use: printPaper)
        router.get("api/office/venues/:venueId/rooms", use: rooms)
        router.put("api/office/venues/:venueId/rooms", use: setRooms)
        router.get("api/office/plans", use: plans)
        router.post("api/office/plans", use: createPlan)
        router.get("api/office/plans/:planId", use: plan)
        router.post("api/office/plans/:planId/sittings", use: addSitting)
        router.get("api/office/sittings/:sittingId", use: sitting)
        router.get("api/office/sittings/:sittingId/results", use: sittingResults)
        router.put("api/office/sittings/:sittingId/candidates", use: setCandidates)
        router.put("api/office/sittings/:sittingId/candidates/:admissionNumber/photo", use: setCandidatePhoto)
        router.post("api/office/sittings/:sittingId/seats", use: allocateSeats)
        router.put("api/office/sittings/:sittingId/staff", use: setStaff)
        router.post("api/office/sittings/:sittingId/release-key", use: releaseKey)
        router.post("api/office/plans/:planId/packages", use: issuePackage)
        router.get("api/office/venues/:venueId/packages", use: venuePackages)
        router.get("api/office/venues/:venueId/packages/:packageId/file", use: packageFile)
        router.get("api/office/issuer-key", use: issuerKey)
    }

    // MARK: Plumbing

    func signedIn(_ request: Request) async throws -> OfficeAccount {
        guard let token = OfficeAPI.token(request) else { throw CentralError.signInRequired }
        return try await database.officeAccount(token: token)
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try SyncBatch.encoder.encode(value))))
    }

    func file(_ data: Data, type: String, name: String) -> Response {
        let ascii = name.unicodeScalars.allSatisfy(\.isASCII) ? name : "download"
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        return Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        try context.parameters.require(name)
    }

    func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: Banks

    @Sendable func banks(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.banks())
    }

    struct NewBank: Decodable {
        var id: String?
        var name: String
        var occupation: String
        var occupationCode: String?
        var level: String
        /// Needed to create a bank; a bank's subject never changes.
        var subject: Subject?
    }

    @Sendable func createBank(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let body = try await request.decode(as: NewBank.self, context: context)
        guard let subject = body.subject else {
            throw OfficeError(.invalid, "bank_invalid", zh: "请选择题库类型：理论知识或技能操作", en: "say whether the bank is for theory or skill")
        }
        let bank = try await database.createBank(
            Bank(
                id: Bank.ID(body.id ?? ""), name: body.name, occupation: body.occupation,
                occupationCode: body.occupationCode.flatMap { $0.isEmpty ? nil : $0 }, level: body.level, subject: subject))
        return try json(bank, status: .created)
    }

    @Sendable func bank(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.bank(try parameter(context, "bankId")))
    }

    @Sendable func updateBank(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let body = try await request.decode(as: NewBank.self, context: context)
        return try json(
            try await database.updateBank(
                try parameter(context, "bankId"), name: body.name, occupation: body.occupation,
                occupationCode: body.occupationCode.flatMap { $0.isEmpty ? nil : $0 }, level: body.level))
    }

    @Sendable func setKnowledgePoints(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let points = try await request.decode(as: [KnowledgePoint].self, context: context)
        return try json(try await database.setKnowledgePoints(try parameter(context, "bankId"), points))
    }

    @Sendable func setTypeDefaults(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let defaults = try await request.decode(as: TypeDefaults.self, context: context)
        return try json(try await database.setTypeDefaults(try parameter(context, "bankId"), defaults))
    }

    // MARK: Questions

    struct QuestionPage: Encodable {
        var total: Int
        var questions: [QuestionView]
    }

    @Sendable func questions(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        var filter = QuestionFilter()
        filter.text = query(request, "q")
        filter.type = query(request, "type").flatMap(QuestionType.init(rawValue:))
        filter.difficulty = query(request, "difficulty").flatMap { Int($0) }
        filter.knowledgePoint = query(request, "knowledgePoint")
        filter.status = query(request, "status").flatMap(QuestionStatus.init(rawValue:))
        filter.offset = query(request, "offset").flatMap { Int($0) } ?? 0
        filter.limit = query(request, "limit").flatMap { Int($0) } ?? 50
        let page = try await database.questions(try parameter(context, "bankId"), filter: filter)
        return try json(QuestionPage(total: page.total, questions: page.questions))
    }

    struct DuplicateView: Encodable {
        var id: String
        var stem: String
        var similarity: Double
    }

    struct SavedQuestion: Encodable {
        var question: QuestionView
        var duplicates: [DuplicateView]
    }

    /// Near-duplicates of a question among the other questions of its bank.
    func duplicates(of question: Question, bankID: String) async throws -> [DuplicateView] {
        let index = DuplicateIndex(try await database.duplicateTexts(bankID), normalised: true)
        let matches = index.matches(for: DuplicateIndex.text(of: question), threshold: 0.8, excluding: question.id.rawValue)
        guard !matches.isEmpty else { return [] }
        let stems = try await database.stems(matches.map(\.id))
        return matches.map { DuplicateView(id: $0.id, stem: stems[$0.id] ?? "", similarity: $0.similarity) }
    }

    @Sendable func addQuestion(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let bankID = try parameter(context, "bankId")
        var question = try await request.decode(as: Question.self, context: context)
        if question.id.rawValue.isEmpty { question.id = Question.ID(Self.freshQuestionID(bankID)) }
        let saved = try await database.addQuestions(bankID, [question])
        return try json(SavedQuestion(question: saved[0], duplicates: try await duplicates(of: question, bankID: bankID)), status: .created)
    }

    static func freshQuestionID(_ bankID: String) -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
        return String(bankID.prefix(50)) + "-q" + suffix
    }

    @Sendable func question(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let view = try await database.questionView(try parameter(context, "questionId"))
        return try json(SavedQuestion(question: view, duplicates: try await duplicates(of: view.question, bankID: view.bankId)))
    }

    @Sendable func updateQuestion(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        var question = try await request.decode(as: Question.self, context: context)
        question.id = Question.ID(try parameter(context, "questionId"))
        let view = try await database.updateQuestion(question)
        return try json(SavedQuestion(question: view, duplicates: try await duplicates(of: view.question, bankID: view.bankId)))
    }

    struct Removal: Encodable {
        var outcome: RemovalOutcome
    }

    @Sendable func removeQuestion(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(Removal(outcome: try await database.removeQuestion(try parameter(context, "questionId"))))
    }

    @Sendable func reactivateQuestion(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.reactivateQuestion(try parameter(context, "questionId")))
    }

    struct PairView: Encodable {
        struct Side: Encodable {
            var id: String
            var stem: String
        }
        var first: Side
        var second: Side
        var similarity: Double
    }

    @Sendable func duplicates(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let threshold = query(request, "threshold").flatMap { Double($0) }.map { min(max($0, 0.5), 1) } ?? 0.8
        let pairs = DuplicateIndex(try await database.duplicateTexts(try parameter(context, "bankId")), normalised: true).pairs(threshold: threshold)
        let stems = try await database.stems(Array(Set(pairs.flatMap { [$0.first, $0.second] })))
        return try json(pairs.map {
            PairView(first: .init(id: $0.first, stem: stems[$0.first] ?? ""), second: .init(id: $0.second, stem: stems[$0.second] ?? ""), similarity: $0.similarity)
        })
    }

    @Sendable func statistics(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let bankID = try parameter(context, "bankId")
        let detail = try await database.bank(bankID)
        let statistics = BankStatistics(questions: try await database.bankQuestions(bankID), tree: KnowledgeTree(detail.knowledgePoints))
        if query(request, "format") == "csv" {
            return file(Data(("\u{FEFF}" + statistics.csv()).utf8), type: "text/csv; charset=utf-8", name: "\(bankID)-statistics.csv")
        }
        return try json(statistics)
    }

    // MARK: Bank files

    struct ImportReport: Codable {
        struct Duplicate: Codable {
            var row: Int
            var id: String
            var stem: String
            var match: DuplicateMatchView
        }
        struct DuplicateMatchView: Codable {
            var id: String
            var stem: String
            var similarity: Double
        }
        var format: BankFormat
        var rows: Int
        var good: Int
        var problems: [RowProblem]
        var duplicates: [Duplicate]
        var written: Int
        var knowledgePointsAdded: Int
    }

    /// The largest bank file central reads.
    static let maxImportBytes = 32 << 20

    /// A bank file, checked whole: every bad row with its number and reason, near-duplicates of questions already in
    /// the bank or earlier in the file. `mode=check` writes nothing; `all` writes everything or nothing; `good` writes
    /// the good rows only.
    @Sendable func importFile(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let bankID = try parameter(context, "bankId")
        guard let format = query(request, "format").flatMap(BankFormat.init(rawValue:)) else {
            throw OfficeError(.invalid, "format_unknown", zh: "请指定文件格式：xlsx、moodle、qti21 或 qti30", en: "give the file format: xlsx, moodle, qti21 or qti30")
        }
        let mode = query(request, "mode") ?? "check"
        guard ["check", "all", "good"].contains(mode) else {
            throw OfficeError(.invalid, "mode_unknown", zh: "导入方式须为 check、all 或 good", en: "mode must be check, all or good")
        }
        let body = try await request.body.collect(upTo: Self.maxImportBytes)
        let detail = try await database.bank(bankID)
        guard detail.bank.subject == .theory else {
            throw OfficeError(.conflict, "bank_is_skill", zh: "技能操作题库不能导入理论试题", en: "a skill bank does not take theory questions")
        }
        let result: ImportResult
        do {
            result = try BankImport.read(
                Data(body.readableBytesView), format: format, defaults: detail.typeDefaults, idPrefix: bankID,
                knownKnowledgePoints: Set(detail.knowledgePoints.map(\.code)))
        } catch {
            throw OfficeError(.invalid, error.code, zh: error.message.zh, en: error.message.en)
        }
        // Ids the central office already holds (in any bank).
        var problems = result.problems
        let existing = try await database.bankQuestions(bankID)
        let existingIDs = Set(existing.map(\.id))
        var taken = Set<Int>()
        for imported in result.questions where existingIDs.contains(imported.question.id) {
            taken.insert(imported.row)
            problems.append(
                RowProblem(
                    row: imported.row, column: "编号",
                    message: Message(zh: "编号 \(imported.question.id) 已在题库中", en: "id \(imported.question.id) is already in the bank")))
        }
        let elsewhere = try await database.questionIDsTaken(result.questions.map(\.question.id.rawValue).filter { !existingIDs.contains(Question.ID($0)) })
        for imported in result.questions where elsewhere.contains(imported.question.id.rawValue) {
            taken.insert(imported.row)
            problems.append(
                RowProblem(
                    row: imported.row, column: "编号",
                    message: Message(zh: "编号 \(imported.question.id) 已被其他题库使用", en: "id \(imported.question.id) is used by another bank")))
        }
        problems.sort { ($0.row, $0.column ?? "") < ($1.row, $1.column ?? "") }
        // Near-duplicates: against the bank, and against earlier rows of the same file.
        let stems = Dictionary(uniqueKeysWithValues: existing.map { ($0.id.rawValue, $0.question.stem) })
        var duplicates: [ImportReport.Duplicate] = []
        let fileIndex = DuplicateIndex(result.questions.map { (id: $0.question.id.rawValue, text: DuplicateIndex.text(of: $0.question)) })
        let bankIndex = DuplicateIndex(try await database.duplicateTexts(bankID), normalised: true)
        let rowOf = Dictionary(result.questions.map { ($0.question.id.rawValue, $0.row) }, uniquingKeysWith: { first, _ in first })
        for imported in result.questions {
            let text = DuplicateIndex.text(of: imported.question)
            var matches = bankIndex.matches(for: text, threshold: 0.8)
            matches += fileIndex.matches(for: text, threshold: 0.8, excluding: imported.question.id.rawValue).filter {
                (rowOf[$0.id] ?? .max) < imported.row
            }
            if let best = matches.max(by: { $0.similarity < $1.similarity }) {
                let stem = stems[best.id] ?? result.questions.first { $0.question.id.rawValue == best.id }?.question.stem ?? ""
                duplicates.append(
                    .init(
                        row: imported.row, id: imported.question.id.rawValue, stem: imported.question.stem,
                        match: .init(id: best.id, stem: stem, similarity: best.similarity)))
            }
        }
        let badRows = Set(problems.map(\.row))
        let good = result.questions.filter { !badRows.contains($0.row) && !taken.contains($0.row) }
        let known = Set(detail.knowledgePoints.map(\.code))
        let newPoints = result.knowledgePoints.filter { !known.contains($0.code) }
        var report = ImportReport(
            // Rows read: the good questions and every row with a problem.
            format: format, rows: Set(result.questions.map(\.row)).union(result.problems.map(\.row)).count,
            good: good.count, problems: problems, duplicates: duplicates, written: 0, knowledgePointsAdded: 0)
        if mode == "check" { return try json(report) }
        if mode == "all" && !problems.isEmpty {
            return try importRejected(report)
        }
        if !newPoints.isEmpty {
            _ = try await database.setKnowledgePoints(bankID, detail.knowledgePoints + newPoints)
            report.knowledgePointsAdded = newPoints.count
        }
        try await database.addQuestions(bankID, good.map(\.question))
        report.written = good.count
        return try json(report)
    }

    func importRejected(_ report: ImportReport) throws -> Response {
        struct Body: Encodable {
            struct Failure: Encodable {
                var code = "import_rejected"
                var message: String
                var messageZh: String
                var report: ImportReport
            }
            var error: Failure
        }
        return try json(
            Body(
                error: .init(
                    message: "The file has \(report.problems.count) problems; nothing was imported. Fix them, or import the good rows only.",
                    messageZh: "文件中有 \(report.problems.count) 处错误，未导入任何试题。请改正后重新导入，或选择只导入正确的行。", report: report)),
            status: .unprocessableContent)
    }

    @Sendable func exportFile(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let bankID = try parameter(context, "bankId")
        guard let format = query(request, "format").flatMap(BankFormat.init(rawValue:)) else {
            throw OfficeError(.invalid, "format_unknown", zh: "请指定文件格式：xlsx、moodle、qti21 或 qti30", en: "give the file format: xlsx, moodle, qti21 or qti30")
        }
        let detail = try await database.bank(bankID)
        let questions = try await database.bankQuestions(bankID).filter { $0.status == .active }.map(\.question)
        let (data, skipped) = try BankExport.write(questions, knowledgePoints: detail.knowledgePoints, format: format)
        var response = file(
            data, type: format == .xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : format == .moodle ? "application/xml" : "application/zip",
            name: "\(bankID).\(format.fileExtension)")
        response.headers[HTTPField.Name("Kaodian-Skipped")!] = String(skipped.count)
        return response
    }

    @Sendable func template(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return file(BankExport.template(), type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name: "kaodian-question-template.xlsx")
    }

    // MARK: Skill tasks

    @Sendable func tasks(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.tasks(try parameter(context, "bankId")))
    }

    @Sendable func addTask(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let task = try await request.decode(as: SkillTask.self, context: context)
        return try json(try await database.addTask(try parameter(context, "bankId"), task), status: .created)
    }

    @Sendable func updateTask(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        var task = try await request.decode(as: SkillTask.self, context: context)
        task.id = SkillTask.ID(try parameter(context, "taskId"))
        return try json(try await database.updateTask(task))
    }

    @Sendable func removeTask(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(Removal(outcome: try await database.removeTask(try parameter(context, "taskId"))))
    }
}

extension IssuerSettings {
    /// A key made for this process only (tests, and a server started without a storage folder for it).
    public static func ephemeral() -> IssuerSettings {
        IssuerSettings(
            key: .generate(issuer: "kaodian-central"), name: "职业技能等级认定中心",
            workFolder: FileManager.default.temporaryDirectory.appendingPathComponent("kaodian-central-packages"))
    }
}
