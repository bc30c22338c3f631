import CentralStore
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuestionBank
import VenuePackage

extension OfficeAuthoring {
    // MARK: Papers

    struct AssembleRequest: Decodable {
        var title: String
        var rule: AssemblyRule
    }

    struct Assembled: Encodable {
        var papers: [PaperDetail]
    }

    /// Assembles one paper, or parallel papers (A/B …), by rule from the bank's active questions, and saves them as
    /// drafts; an impossible rule is answered with every reason.
    @Sendable func assemble(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let bankID = try parameter(context, "bankId")
        let body = try await request.decode(as: AssembleRequest.self, context: context)
        let detail = try await database.bank(bankID)
        guard detail.bank.subject == .theory else {
            throw OfficeError(.conflict, "bank_is_skill", zh: "技能操作试卷请手工选择试题", en: "skill papers are made by choosing tasks")
        }
        let ruleProblems = Assembler.check(body.rule)
        guard ruleProblems.isEmpty else {
            throw OfficeError(.invalid, "rule_invalid", zh: "组卷规则有误", en: "the assembly rule is not valid", problems: ruleProblems)
        }
        let title = body.title.trimmingCharacters(in: .whitespacesAndNewlines)
        let recent = try await database.recentlyUsedQuestions(bankID: bankID, papers: body.rule.excludeRecentPapers ?? 0)
        let bank = try await database.bankQuestions(bankID)
        let tree = KnowledgeTree(detail.knowledgePoints)
        let rule = body.rule
        // The search is CPU work: keep it off the event loop.
        let result = await Task.detached { Assembler.assemble(rule: rule, bank: bank, tree: tree, recentlyUsed: recent) }.value
        switch result {
        case .failure(let failure):
            throw OfficeError(.invalid, "assembly_impossible", zh: "无法按规则组卷", en: "no paper meets the rule", problems: failure.problems)
        case .success(let drafts):
            var saved: [PaperDetail] = []
            var seeded = rule
            for (index, draft) in drafts.enumerated() {
                seeded.seed = draft.seed
                let name = drafts.count > 1 ? "\(title) \(String(UnicodeScalar(UInt8(65 + index))))卷" : title
                let sections = draft.sections.map { section in
                    PaperBody.Section(
                        title: section.title, pointsEach: section.type == .caseAnalysis ? nil : section.pointsEach,
                        questions: section.questions.map(\.rawValue))
                }
                saved.append(
                    try await database.createPaper(bankID: bankID, title: name, body: PaperBody(sections: sections), rule: seeded, by: account.username))
            }
            return try json(Assembled(papers: saved), status: .created)
        }
    }

    struct PaperRequest: Decodable {
        var title: String
        var sections: [PaperBody.Section]?
        var tasks: [String]?
        var note: String?
    }

    @Sendable func createPaper(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let body = try await request.decode(as: PaperRequest.self, context: context)
        return try json(
            try await database.createPaper(
                bankID: try parameter(context, "bankId"), title: body.title, body: PaperBody(sections: body.sections, tasks: body.tasks),
                by: account.username),
            status: .created)
    }

    @Sendable func papers(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(
            try await database.papers(bankID: query(request, "bankId"), state: query(request, "state").flatMap(PaperState.init(rawValue:))))
    }

    @Sendable func paper(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.paper(try parameter(context, "paperId"), version: query(request, "version").flatMap { Int($0) }))
    }

    @Sendable func updatePaper(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let body = try await request.decode(as: PaperRequest.self, context: context)
        return try json(
            try await database.updatePaper(
                try parameter(context, "paperId"), title: body.title, body: PaperBody(sections: body.sections, tasks: body.tasks),
                note: body.note, by: account.username))
    }

    struct Note: Decodable {
        var note: String?
        var reason: String?
    }

    func optionalNote(_ request: Request, context: BasicRequestContext) async throws -> Note {
        let body = try await request.body.collect(upTo: 1 << 16)
        guard body.readableBytes > 0 else { return Note() }
        return try JSONDecoder().decode(Note.self, from: Data(body.readableBytesView))
    }

    @Sendable func requestApproval(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let note = try await optionalNote(request, context: context)
        return try json(try await database.requestApproval(try parameter(context, "paperId"), note: note.note, by: account.username))
    }

    @Sendable func approve(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        return try json(try await database.approvePaper(try parameter(context, "paperId"), by: account.username))
    }

    @Sendable func reject(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let note = try await optionalNote(request, context: context)
        return try json(try await database.rejectPaper(try parameter(context, "paperId"), reason: note.reason ?? "", by: account.username))
    }

    @Sendable func printPaper(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let detail = try await database.paper(try parameter(context, "paperId"), version: query(request, "version").flatMap { Int($0) })
        let part = query(request, "part") ?? "paper"
        guard let kind = PrintedPaper.Part(rawValue: part) else {
            throw OfficeError(
                .invalid, "part_unknown", zh: "打印内容须为 paper、answers、scoring、candidate-notice 或 room-notice",
                en: "part must be paper, answers, scoring, candidate-notice or room-notice")
        }
        let bank = try await database.bank(detail.summary.bankId).bank
        let html = try PrintedPaper.html(detail, bank: bank, part: kind)
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Rooms, plans, sittings

    @Sendable func rooms(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.rooms(venueID: try parameter(context, "venueId")))
    }

    @Sendable func setRooms(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let rooms = try await request.decode(as: [Room].self, context: context)
        return try json(try await database.setRooms(venueID: try parameter(context, "venueId"), rooms))
    }

    @Sendable func plans(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.plans())
    }

    struct NewPlan: Decodable {
        var name: String
    }

    @Sendable func createPlan(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let account = try await signedIn(request)
        let body = try await request.decode(as: NewPlan.self, context: context)
        return try json(try await database.createPlan(name: body.name, by: account.username), status: .created)
    }

    struct PlanView: Encodable {
        var plan: ExamPlan
        var sittings: [SittingDetail]
    }

    @Sendable func plan(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let (plan, sittings) = try await database.plan(try parameter(context, "planId"))
        return try json(PlanView(plan: plan, sittings: sittings))
    }

    struct NewSitting: Decodable {
        var id: String?
        var name: String
        var venueId: String
        var subject: Subject
        var occupation: String?
        var level: String?
        var paperId: String
        var rooms: [String]
        var scheduledStart: Date
        var durationMinutes: Int
        var lateEntryMinutes: Int?
        var instructions: String?
        var faceChecks: FaceChecks?
    }

    @Sendable func addSitting(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let body = try await request.decode(as: NewSitting.self, context: context)
        let sitting = PlanSitting(
            id: body.id ?? "", planId: try parameter(context, "planId"), venueId: body.venueId, name: body.name, subject: body.subject,
            occupation: body.occupation, level: body.level, paperId: body.paperId, rooms: body.rooms, scheduledStart: body.scheduledStart,
            durationMinutes: body.durationMinutes, lateEntryMinutes: body.lateEntryMinutes,
            instructions: body.instructions ?? "", faceChecks: body.faceChecks)
        return try json(try await database.addSitting(sitting), status: .created)
    }

    @Sendable func sitting(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.sittingDetail(try parameter(context, "sittingId")))
    }

    /// The sitting's results as the venue reported them; `?format=csv` for a spreadsheet.
    @Sendable func sittingResults(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let results = try await database.sittingResults(try parameter(context, "sittingId"))
        if query(request, "format") == "csv" {
            return file(Data(results.csv().utf8), type: "text/csv; charset=utf-8", name: "\(results.sittingId)-results.csv")
        }
        return try json(results)
    }

    @Sendable func setCandidates(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let candidates = try await request.decode(as: [PlanCandidate].self, context: context)
        return try json(try await database.setCandidates(sittingID: try parameter(context, "sittingId"), candidates))
    }

    @Sendable func setCandidatePhoto(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let body = try await request.body.collect(upTo: PhotoKind.maxBytes + 1)
        let sittingID = try parameter(context, "sittingId")
        try await database.setCandidatePhoto(
            sittingID: sittingID, admissionNumber: try parameter(context, "admissionNumber"), photo: Data(body.readableBytesView))
        return try json(try await database.sittingDetail(sittingID))
    }

    @Sendable func allocateSeats(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.allocateSeats(sittingID: try parameter(context, "sittingId")))
    }

    struct StaffAnswer: Encodable {
        struct Password: Encodable {
            var username: String
            var password: String
        }
        var sitting: SittingDetail
        var passwords: [Password]
    }

    @Sendable func setStaff(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let staff = try await request.decode(as: [PlanStaff].self, context: context)
        let (sitting, passwords) = try await database.setStaff(sittingID: try parameter(context, "sittingId"), staff)
        return try json(StaffAnswer(sitting: sitting, passwords: passwords.map { .init(username: $0.username, password: $0.password) }))
    }

    @Sendable func releaseKey(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.releaseKey(sittingID: try parameter(context, "sittingId")))
    }

    struct IssueRequest: Decodable {
        var venueId: String
        var seal: Bool?
    }

    @Sendable func issuePackage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let body = try await request.decode(as: IssueRequest.self, context: context)
        let package = try await database.issuePlanPackage(
            planID: try parameter(context, "planId"), venueID: body.venueId, seal: body.seal ?? true, key: issuer.key,
            issuerName: issuer.name, releaseLead: issuer.releaseLead, workFolder: issuer.workFolder)
        return try json(package, status: .created)
    }

    @Sendable func venuePackages(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try await database.packages(venueID: try parameter(context, "venueId")))
    }

    @Sendable func packageFile(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        let packageID = try parameter(context, "packageId")
        let data = try await database.packageFileForOffice(venueID: try parameter(context, "venueId"), packageID: packageID)
        return file(data, type: "application/zip", name: "\(packageID).zip")
    }

    @Sendable func issuerKey(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await signedIn(request)
        return try json(try issuer.key.publicKey())
    }
}
