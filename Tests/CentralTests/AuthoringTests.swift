import CentralServer
import Crypto
import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import QuestionBank
import SyncProtocol
import TestSupport
import Testing
import VenuePackage

@testable import CentralStore

/// Calls the office API as a signed-in office user would, and reads answers and errors.
struct OfficeClient {
    let client: any TestClientProtocol
    let token: String

    static func signIn(_ client: any TestClientProtocol, database: CentralDatabase, username: String) async throws -> OfficeClient {
        let password = try await database.setOfficeAccount(username: username, name: username)
        let response = try await client.execute(
            uri: "/api/office/login", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"username":"\#(username)","password":"\#(password)"}"#))
        struct Session: Decodable { var token: String }
        return OfficeClient(client: client, token: try JSONDecoder().decode(Session.self, from: Data(response.body.readableBytesView)).token)
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, data: Data? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        let body = json.map { ByteBuffer(string: $0) } ?? data.map { ByteBuffer(bytes: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body)
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, body: some Encodable) async throws -> TestResponse {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try await call(method, uri, json: String(decoding: try encoder.encode(body), as: UTF8.self))
    }

    func object(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(response.body.readableBytesView))
    }
}

struct Refusal: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
        var messageZh: String
        var problems: [Message]?
    }
    var error: Detail
}

func choice(_ id: String, _ stem: String, knowledge: String, difficulty: Int = 3) -> Question {
    Question(
        id: Question.ID(id), stem: stem, points: 1,
        content: .singleChoice(
            options: [ChoiceOption(id: "a", text: "甲"), ChoiceOption(id: "b", text: "乙"), ChoiceOption(id: "c", text: "丙")], correct: "b"),
        knowledgePoints: [knowledge], difficulty: difficulty)
}

@Suite("Central: question banks, papers and their approval, plans and sealed venue packages", .serialized, .timeLimit(.minutes(3)))
struct AuthoringTests {
    static let points = [
        KnowledgePoint(code: "1", name: "基础知识", weight: 40), KnowledgePoint(code: "1.1", name: "电工基础", parent: "1"),
        KnowledgePoint(code: "2", name: "专业知识", weight: 60), KnowledgePoint(code: "2.1", name: "安全用电", parent: "2"),
    ]

    @Test func aBankIsBuiltCheckedSearchedAndImportedWholeOrNotAtAll() async throws {
        try await withCentralDatabase { database, _ in
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                let unsigned = try await client.execute(uri: "/api/office/banks", method: .get)
                #expect(unsigned.status == .unauthorized)
                let office = try await OfficeClient.signIn(client, database: database, username: "editor")
                let created = try await office.call(
                    .post, "/api/office/banks", json: #"{"id":"ELEC-4","name":"电工四级理论","occupation":"电工","level":"四级/中级工","subject":"theory"}"#)
                #expect(created.status == .created)
                let again = try await office.call(
                    .post, "/api/office/banks", json: #"{"id":"ELEC-4","name":"x","occupation":"电工","level":"四级","subject":"theory"}"#)
                #expect(again.status == .conflict)
                let renamed = try await office.call(
                    .put, "/api/office/banks/ELEC-4", json: #"{"name":"电工四级理论知识","occupation":"电工","level":"四级/中级工"}"#)
                let renamedBank = try await database.bank("ELEC-4").bank
                #expect(renamed.status == .ok && renamedBank.name == "电工四级理论知识" && renamedBank.subject == .theory)
                let noSubject = try await office.call(.post, "/api/office/banks", json: #"{"name":"x","occupation":"电工","level":"四级"}"#)
                #expect(noSubject.status == .unprocessableContent)

                // The tree is checked whole.
                let loop = try await office.call(
                    .put, "/api/office/banks/ELEC-4/knowledge-points",
                    body: [KnowledgePoint(code: "a", name: "A", parent: "b"), KnowledgePoint(code: "b", name: "B", parent: "a")])
                #expect(loop.status == .unprocessableContent)
                #expect(try office.decode(Refusal.self, loop).error.problems?.contains { $0.en.contains("form a loop") } == true)
                #expect(try await office.call(.put, "/api/office/banks/ELEC-4/knowledge-points", body: Self.points).status == .ok)

                // A bad question is refused with every reason; a good one is saved and a near-duplicate is flagged.
                var bad = choice("Q-BAD", "", knowledge: "9.9")
                bad.difficulty = 7
                let refused = try await office.call(.post, "/api/office/banks/ELEC-4/questions", body: bad)
                #expect(refused.status == .unprocessableContent)
                let reasons = try office.decode(Refusal.self, refused).error.problems?.map(\.en) ?? []
                #expect(reasons.contains { $0.contains("stem is empty") } && reasons.contains { $0.contains("difficulty") }
                    && reasons.contains { $0.contains("knowledge point 9.9") }, "\(reasons)")
                let first = try await office.call(.post, "/api/office/banks/ELEC-4/questions", body: choice("Q1", "安全电压的上限是多少伏？", knowledge: "2.1"))
                #expect(first.status == .created)
                let near = try await office.call(.post, "/api/office/banks/ELEC-4/questions", body: choice("Q2", "安全电压的上限是多少伏", knowledge: "2.1"))
                struct Saved: Decodable {
                    struct Duplicate: Decodable { var id: String; var stem: String; var similarity: Double }
                    var duplicates: [Duplicate]
                }
                let flagged = try office.decode(Saved.self, near).duplicates
                #expect(flagged.map(\.id) == ["Q1"] && flagged.first?.stem == "安全电压的上限是多少伏？" && flagged[0].similarity >= 0.8)
                _ = try await office.call(.post, "/api/office/banks/ELEC-4/questions", body: choice("Q3", "欧姆定律说明了什么关系？", knowledge: "1.1"))

                // Search by text and by knowledge point (and below it).
                struct Page: Decodable {
                    struct View: Decodable { var question: Question }
                    var total: Int
                    var questions: [View]
                }
                let underTwo = try office.decode(Page.self, try await office.call(.get, "/api/office/banks/ELEC-4/questions?knowledgePoint=2"))
                #expect(underTwo.total == 2 && Set(underTwo.questions.map(\.question.id.rawValue)) == ["Q1", "Q2"])
                let ohm = try office.decode(Page.self, try await office.call(.get, "/api/office/banks/ELEC-4/questions?q=%E6%AC%A7%E5%A7%86"))
                #expect(ohm.questions.map(\.question.id.rawValue) == ["Q3"])
                // Removing a point still in use is refused and names the question.
                let inUse = try await office.call(.put, "/api/office/banks/ELEC-4/knowledge-points", body: Array(Self.points.prefix(2)))
                #expect(inUse.status == .conflict)
                #expect(try await office.call(.delete, "/api/office/questions/Q2").status == .ok)
                #expect(try await database.bankQuestions("ELEC-4").count == 2)

                // A Moodle file with one bad item: checked, refused whole, then its good items on request.
                let moodle = """
                    <?xml version="1.0" encoding="UTF-8"?>
                    <quiz>
                      <question type="truefalse"><name><text>T1</text></name><questiontext format="html"><text><![CDATA[<p>漏电保护器应定期试验。</p>]]></text></questiontext>
                        <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question>
                      <question type="multichoice"><name><text>M1</text></name><questiontext format="html"><text><![CDATA[<p>下列哪项是绝缘材料？</p>]]></text></questiontext>
                        <single>true</single><answer fraction="0"><text>铜</text></answer><answer fraction="0"><text>铝</text></answer></question>
                    </quiz>
                    """
                struct Report: Decodable {
                    struct Problem: Decodable { var row: Int; var message: Message }
                    var rows: Int
                    var good: Int
                    var problems: [Problem]
                    var written: Int
                }
                let checked = try office.decode(
                    Report.self, try await office.call(.post, "/api/office/banks/ELEC-4/import?format=moodle&mode=check", data: Data(moodle.utf8)))
                #expect(checked.good == 1 && Set(checked.problems.map(\.row)) == [2] && checked.written == 0, "\(checked)")
                let all = try await office.call(.post, "/api/office/banks/ELEC-4/import?format=moodle&mode=all", data: Data(moodle.utf8))
                #expect(all.status == .unprocessableContent)
                #expect(try await database.bankQuestions("ELEC-4").count == 2)
                let good = try office.decode(
                    Report.self, try await office.call(.post, "/api/office/banks/ELEC-4/import?format=moodle&mode=good", data: Data(moodle.utf8)))
                #expect(good.written == 1)
                #expect(try await database.bankQuestions("ELEC-4").count == 3)
                let notAFile = try await office.call(.post, "/api/office/banks/ELEC-4/import?format=xlsx&mode=check", data: Data("hello".utf8))
                #expect(notAFile.status == .unprocessableContent)

                // Export and statistics answer with files a spreadsheet opens.
                let export = try await office.call(.get, "/api/office/banks/ELEC-4/export?format=xlsx")
                #expect(export.status == .ok && Array(export.body.readableBytesView.prefix(2)) == [0x50, 0x4B])
                let csv = try await office.call(.get, "/api/office/banks/ELEC-4/statistics?format=csv")
                #expect(String(buffer: csv.body).contains("2.1"))
            }
        }
    }

    @Test func aPaperIsAssembledApprovedByAnotherPersonPlannedAndIssuedSealed() async throws {
        try await withCentralDatabase { database, _ in
            let issuer = IssuerSettings(
                key: .generate(issuer: "test-central"), name: "测试中心",
                workFolder: FileManager.default.temporaryDirectory.appendingPathComponent("kd-auth-\(UUID().uuidString)"))
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"), issuer: issuer)
            _ = try await database.createBank(Bank(id: "B", name: "电工四级", occupation: "电工", level: "四级", subject: .theory))
            _ = try await database.setKnowledgePoints("B", Self.points)
            var questions: [Question] = []
            for index in 0..<60 {
                questions.append(choice("S\(index)", "单选题第 \(index) 题：关于\(["电压", "电流", "电阻", "功率"][index % 4])的说法\(index * 7919)", knowledge: index % 2 == 0 ? "1.1" : "2.1", difficulty: 1 + index % 5))
            }
            for index in 0..<20 {
                questions.append(
                    Question(id: Question.ID("T\(index)"), stem: "判断题第 \(index) 题：绝缘电阻\(index * 104729)", points: 1, content: .trueFalse(correct: index % 2 == 0),
                        knowledgePoints: [index % 2 == 0 ? "1" : "2"], difficulty: 1 + index % 5))
            }
            try await database.addQuestions("B", questions)
            let (_, enrolmentCode) = try await database.addVenue(id: "V1", name: "城东考点")
            let venueKey = Curve25519.Signing.PrivateKey()
            _ = try await database.enrol(venueID: "V1", code: enrolmentCode, publicKey: venueKey.publicKey.rawRepresentation)

            try await Application(router: router).test(.router) { client in
                let editor = try await OfficeClient.signIn(client, database: database, username: "editor")
                let chief = try await OfficeClient.signIn(client, database: database, username: "chief")

                // Impossible: more single-choice questions than the bank holds, said in numbers.
                let tooMany = try await editor.call(
                    .post, "/api/office/banks/B/assemble",
                    json: #"{"title":"x","rule":{"sections":[{"type":"singleChoice","count":70,"pointsEach":1}]}}"#)
                #expect(tooMany.status == .unprocessableContent)
                let why = try editor.decode(Refusal.self, tooMany).error
                #expect(why.code == "assembly_impossible" && why.problems?.contains { $0.zh.contains("70") && $0.zh.contains("60") } == true, "\(why)")

                // A/B papers with no shared question.
                let rule = #"{"sections":[{"type":"singleChoice","count":20,"pointsEach":2},{"type":"trueFalse","count":5,"pointsEach":2}],"useStandardWeights":true,"coverageTolerancePercent":10,"papers":2,"seed":7}"#
                let assembled = try await editor.call(.post, "/api/office/banks/B/assemble", json: #"{"title":"电工四级理论 2026","rule":\#(rule)}"#)
                #expect(assembled.status == .created)
                struct Assembled: Decodable { var papers: [PaperDetail] }
                let papers = try editor.decode(Assembled.self, assembled).papers
                #expect(papers.map(\.summary.title) == ["电工四级理论 2026 A卷", "电工四级理论 2026 B卷"])
                let idsA = Set(papers[0].sections.flatMap { $0.questions.map(\.question.id) })
                let idsB = Set(papers[1].sections.flatMap { $0.questions.map(\.question.id) })
                #expect(idsA.count == 25 && idsB.count == 25 && idsA.isDisjoint(with: idsB))
                #expect(papers[0].summary.points == 50 && papers[0].report.allSatisfy(\.met))
                let paperID = papers[0].summary.id

                // Edited by hand: a new version; the report shows the broken constraint.
                var sections = papers[0].sections.map { PaperBody.Section(title: $0.title, pointsEach: $0.pointsEach, questions: $0.questions.map(\.question.id.rawValue)) }
                let dropped = sections[1].questions.removeLast()
                let edited = try editor.decode(
                    PaperDetail.self, try await editor.call(.put, "/api/office/papers/\(paperID)", body: PaperBodyRequest(title: "电工四级理论 2026 A卷", sections: sections, note: "少一道判断题")))
                #expect(edited.summary.version == 2 && edited.versions.count == 2 && edited.report.contains { !$0.met })
                sections[1].questions.append(dropped)
                // Points set by hand on one question: checked (in the section, more than 0), counted in the paper's
                // points and shown against the rule.
                let onePoint = sections[1].questions[0]
                sections[1].questionPoints = [onePoint: 0, "S59": 2]
                let badPoints = try await editor.call(.put, "/api/office/papers/\(paperID)", body: PaperBodyRequest(title: "电工四级理论 2026 A卷", sections: sections, note: nil))
                let badWhy = try editor.decode(Refusal.self, badPoints).error.problems ?? []
                #expect(badPoints.status == .unprocessableContent && badWhy.count == 2, "\(badWhy)")
                #expect(badWhy.contains { $0.en.contains("S59") } && badWhy.contains { $0.en.contains(onePoint) })
                sections[1].questionPoints = [onePoint: 3]
                let pointed = try editor.decode(
                    PaperDetail.self, try await editor.call(.put, "/api/office/papers/\(paperID)", body: PaperBodyRequest(title: "电工四级理论 2026 A卷", sections: sections, note: "第 1 道判断题 3 分")))
                #expect(pointed.summary.points == 51 && pointed.sections[1].points == 11)
                #expect(pointed.sections[1].questions.map(\.question.points) == [3, 2, 2, 2, 2])
                let sectionReport = try #require(pointed.report.first { $0.constraint.en.hasPrefix("section 2") })
                #expect(!sectionReport.met && sectionReport.achieved == "5 × 2–3", "\(sectionReport)")

                // Approval: requested by the editor, not approvable by the editor, rejected with a reason, approved.
                #expect(try await editor.call(.post, "/api/office/papers/\(paperID)/request", json: "{}").status == .ok)
                let selfApproved = try await editor.call(.post, "/api/office/papers/\(paperID)/approve")
                #expect(try selfApproved.status == .conflict && editor.decode(Refusal.self, selfApproved).error.code == "paper_self_approval")
                #expect(try await chief.call(.post, "/api/office/papers/\(paperID)/reject", json: "{}").status == .unprocessableContent)
                let rejected = try chief.decode(PaperDetail.self, try await chief.call(.post, "/api/office/papers/\(paperID)/reject", json: #"{"reason":"第 3 题表述不清"}"#))
                #expect(rejected.summary.state == .rejected && rejected.summary.reason == "第 3 题表述不清")
                _ = try await editor.call(.post, "/api/office/papers/\(paperID)/request")
                let approved = try chief.decode(PaperDetail.self, try await chief.call(.post, "/api/office/papers/\(paperID)/approve"))
                #expect(approved.summary.state == .approved && approved.history.map(\.state) == [.draft, .requested, .rejected, .requested, .approved])
                #expect(try await editor.call(.put, "/api/office/papers/\(paperID)", body: PaperBodyRequest(title: "x", sections: sections, note: nil)).status == .conflict)
                // A later paper that leaves out the last approved paper's questions: its report says so, and still
                // does when one of them is put in by hand.
                let later = try editor.decode(
                    Assembled.self,
                    try await editor.call(
                        .post, "/api/office/banks/B/assemble",
                        json: #"{"title":"电工四级理论 2027","rule":{"sections":[{"type":"singleChoice","count":10,"pointsEach":2}],"excludeRecentPapers":1,"seed":3}}"#)
                ).papers[0]
                let recentRow = { (detail: PaperDetail) in detail.report.first { $0.constraint.en == "no question of the last 1 papers" } }
                #expect(recentRow(later)?.met == true && Set(later.sections[0].questions.map(\.question.id)).isDisjoint(with: idsA))
                #expect(try await database.paper(later.summary.id).report.map(\.met) == later.report.map(\.met), "the view re-checks as assembly did")
                let reused = sections[0].questions[1]
                var laterSections = later.sections.map { PaperBody.Section(title: $0.title, pointsEach: $0.pointsEach, questions: $0.questions.map(\.question.id.rawValue)) }
                laterSections[0].questions[0] = reused
                let reusedView = try editor.decode(
                    PaperDetail.self,
                    try await editor.call(.put, "/api/office/papers/\(later.summary.id)", body: PaperBodyRequest(title: "电工四级理论 2027", sections: laterSections, note: nil)))
                #expect(recentRow(reusedView).map { !$0.met && $0.achieved == "1: \(reused)" } == true, "\(String(describing: recentRow(reusedView)))")
                // Editing the bank afterwards does not change the approved paper; a used question is retired, not deleted.
                let firstID = sections[0].questions[0]
                var changed = try await database.questionView(firstID).question
                changed.stem = "改过的题干"
                _ = try await database.updateQuestion(changed)
                let kept = try await database.paper(paperID)
                #expect(kept.sections[0].questions[0].question.stem != "改过的题干")
                #expect(try await database.removeQuestion(firstID) == .retired)
                let printed = try await editor.call(.get, "/api/office/papers/\(paperID)/print?part=answers")
                #expect(String(buffer: printed.body).contains(kept.sections[0].questions[0].question.stem))

                // The plan: rooms, a sitting (only with an approved paper), candidates checked, seats spread, staff.
                let rooms = [Room(id: "R1", name: "第一考场", seats: (1...4).map { String(format: "%02d", $0) }), Room(id: "R2", name: "第二考场", seats: ["01", "02"])]
                #expect(try await editor.call(.put, "/api/office/venues/V1/rooms", body: rooms).status == .ok)
                let plan = try editor.decode(ExamPlan.self, try await editor.call(.post, "/api/office/plans", json: #"{"name":"2026 年 12 月电工认定"}"#))
                let start = Date().addingTimeInterval(3600)
                let unapproved = try await editor.call(
                    .post, "/api/office/plans/\(plan.id)/sittings",
                    body: SittingRequest(id: "S-X", name: "x", venueId: "V1", subject: .theory, paperId: papers[1].summary.id, rooms: ["R1"], scheduledStart: start, durationMinutes: 90))
                #expect(unapproved.status == .unprocessableContent)
                let sittingCreated = try await editor.call(
                    .post, "/api/office/plans/\(plan.id)/sittings",
                    body: SittingRequest(id: "S-1", name: "电工四级理论", venueId: "V1", subject: .theory, paperId: paperID, rooms: ["R1", "R2"], scheduledStart: start, durationMinutes: 90))
                #expect(sittingCreated.status == .created)
                let badList = try await editor.call(
                    .put, "/api/office/sittings/S-1/candidates",
                    body: [PlanCandidate(admissionNumber: "A1", name: "张三", idNumber: "110101199003070000")])
                #expect(try badList.status == .unprocessableContent && editor.decode(Refusal.self, badList).error.problems?.first?.zh.contains("第 1 行") == true)
                let organisations = ["甲公司", "甲公司", "甲公司", "乙公司", "乙公司", "丙学校"]
                let candidates = organisations.enumerated().map { index, organisation in
                    let stem = "11010119900307" + String(format: "%03d", index + 1)
                    return PlanCandidate(
                        admissionNumber: "A\(index + 1)", name: "考生\(index + 1)", idNumber: stem + String(IdentityNumber.checkDigit(stem)!),
                        organisation: organisation)
                }
                #expect(try await editor.call(.put, "/api/office/sittings/S-1/candidates", body: candidates).status == .ok)
                // A registered photo travels with the candidate (for face matching); anything but JPEG or PNG is refused.
                let photoFolder = Fixtures.sharedFace.appendingPathComponent("people/biden")
                let photoName = try #require(try FileManager.default.contentsOfDirectory(atPath: photoFolder.path).sorted().first { $0.hasSuffix(".jpg") })
                let photo = try Data(contentsOf: photoFolder.appendingPathComponent(photoName))
                #expect(try await editor.call(.put, "/api/office/sittings/S-1/candidates/A1/photo", data: photo).status == .ok)
                #expect(try await editor.call(.put, "/api/office/sittings/S-1/candidates/A2/photo", data: Data("<svg/>".utf8)).status == .unprocessableContent)
                #expect(try await editor.call(.put, "/api/office/sittings/S-1/candidates/NOBODY/photo", data: photo).status == .notFound)
                let notSeated = try await editor.call(.post, "/api/office/plans/\(plan.id)/packages", json: #"{"venueId":"V1"}"#)
                #expect(notSeated.status == .unprocessableContent)
                let seated = try editor.decode(SittingDetail.self, try await editor.call(.post, "/api/office/sittings/S-1/seats"))
                let r1 = seated.candidates.filter { $0.room == "R1" }.sorted { $0.seat! < $1.seat! }.map { $0.organisation }
                #expect(r1.count == 4 && zip(r1, r1.dropFirst()).allSatisfy { $0 != $1 }, "\(r1)")
                struct StaffAnswer: Decodable {
                    struct Password: Decodable { var username: String; var password: String }
                    var passwords: [Password]
                }
                let staff = try editor.decode(
                    StaffAnswer.self,
                    try await editor.call(.put, "/api/office/sittings/S-1/staff", body: [PlanStaff(username: "inv1", name: "李监考", role: .invigilator, rooms: ["R1"])]))
                #expect(staff.passwords.map(\.username) == ["inv1"])

                // The package: signed by central, the paper sealed; the key is released by hand.
                let issued = try editor.decode(PlanPackage.self, try await editor.call(.post, "/api/office/plans/\(plan.id)/packages", json: #"{"venueId":"V1","seal":true}"#))
                #expect(issued.sittings == ["S-1"] && issued.seals.count == 1)
                #expect(try await database.paper(paperID).summary.state == .issued)
                let library = try await database.papers(bankID: "B")
                #expect(library.count == 3 && library.first { $0.id == paperID }.map { $0.state == .issued && $0.points == 51 && $0.questions == 25 } == true)
                let file = issuer.workFolder.appendingPathComponent("check.zip")
                try await database.packageFileForOffice(venueID: "V1", packageID: issued.packageId).write(to: file)
                let verified = try PackageReader.read(file, trusting: [try issuer.key.publicKey()])
                #expect(verified.contents.papers.isEmpty && verified.sealed.map(\.sitting) == ["S-1"])
                #expect(verified.contents.candidates.count == 6 && verified.contents.staff.map(\.username) == ["inv1"])
                #expect(verified.contents.photos["photos/A1.jpg"] == photo && verified.contents.photos["photos/A2.svg"] != nil)
                #expect(throws: PackageError.self) { _ = try verified.sealed[0].open(code: SealCode.generate()) }
                let (paper, opened) = try verified.sealed[0].open(code: issued.seals[0].code)
                #expect(paper.id.rawValue == paperID && Set(opened.map(\.id)) == idsA)
                #expect(paper.sections[1].items.map(\.points) == [3, 2, 2, 2, 2] && paper.sections[0].items.allSatisfy { $0.points == 2 })
                #expect(opened.first { $0.id.rawValue == firstID }?.stem == kept.sections[0].questions[0].question.stem)

                #expect(try await database.releasedKeys(venueID: "V1").isEmpty)
                // Without anyone's help the key is released `releaseLead` before the start.
                #expect(try await database.releasedKeys(venueID: "V1", now: start.addingTimeInterval(-issuer.releaseLead - 60)).isEmpty)
                #expect(try await database.releasedKeys(venueID: "V1", now: start.addingTimeInterval(-issuer.releaseLead + 1)).count == 1)
                let released = try editor.decode(SittingDetail.self, try await editor.call(.post, "/api/office/sittings/S-1/release-key"))
                #expect(released.seal?.released == true)
                #expect(try await database.releasedKeys(venueID: "V1") == [ReleasedKey(packageId: issued.packageId, sittingId: "S-1", code: issued.seals[0].code)])


                // Completeness: before the start nothing is due; once started, the office sees the issued sitting with no
                // manifest (and that the venue has not fetched the package); an hour after its end its results are
                // overdue and an alert is raised, which the venue's manifest then replaces and clears.
                let policy = CompletenessPolicy()
                #expect(try await database.completeness(policy: policy, now: start.addingTimeInterval(-60)).isEmpty)
                let started = try #require(try await database.completeness(policy: policy, now: start.addingTimeInterval(60)).first)
                #expect(started.sittingId == "S-1" && started.venueId == "V1" && started.manifestAt == nil && started.candidates == 6)
                #expect(!started.resultsComplete && !started.resultsOverdue && !started.recordingsOverdue)
                #expect(started.missing == ["no sitting manifest from the venue", "package not fetched by the venue"])
                #expect(abs(started.scheduledEnd.timeIntervalSince(start.addingTimeInterval(90 * 60))) < 1, "whole seconds in the plan")
                let late = start.addingTimeInterval(90 * 60 + policy.resultsDueAfter + 1)
                #expect(try await database.completeness(policy: policy, now: late).first?.resultsOverdue == true)
                let raised = try await database.reconcileCompletenessAlerts(policy: policy, now: late)
                #expect(raised.map(\.kind) == ["results"] && raised.first?.sittingId == "S-1")
                #expect(raised.first?.detail.contains("no sitting manifest from the venue") == true)
                let end = Int64(start.addingTimeInterval(90 * 60).timeIntervalSince1970 * 1000)
                let empty = SyncDigest.hex(Data())
                let manifestItem = item("manifest", seq: 1, sitting: "S-1", [
                    "sittingId": "S-1", "scheduledStart": Int64(start.timeIntervalSince1970 * 1000), "scheduledEnd": end, "closedAt": end,
                    "candidates": 6, "attempts": 0, "submitted": 0, "answerLogEntries": 0, "answerLogSHA256": empty, "checkIns": 0,
                    "incidents": 0, "faceVerifications": 0, "segments": [[String: Any]](), "generatedAt": end,
                ])
                let batch = try signedBatch([manifestItem], venue: "V1", key: venueKey)
                _ = try await database.receive(body: batch.body, signature: batch.signature)
                let rows = try await database.completeness(policy: policy, now: late)
                #expect(rows.count == 1 && rows.first?.manifestAt != nil && rows.first?.resultsComplete == true)
                #expect(try await database.reconcileCompletenessAlerts(policy: policy, now: late).isEmpty)
                #expect(try await database.completenessAlerts().first.map { $0.sittingId == "S-1" && $0.clearedAt != nil } == true)

                // The results as they come in: one submitted (its score, 4 points still to mark), one still answering,
                // one marked absent at the desk, the rest with nothing reported; a later copy of an attempt wins.
                func attempt(_ id: String, _ number: String, seq: Int64, status: String, score: Double? = nil) -> SyncItem {
                    var payload: [String: Any] = [
                        "id": id, "sittingId": "S-1", "admissionNumber": number, "roomId": "R1", "status": status,
                        "createdAt": Int64(start.timeIntervalSince1970 * 1000), "logLength": 0, "extensionSeconds": 0,
                    ]
                    if let score {
                        payload["submittedAt"] = Int64(start.timeIntervalSince1970 * 1000) + 3_000_000
                        payload["submittedBy"] = "candidate"
                        let sections: [[String: Any]] = [
                            ["sectionId": "S-SINGLE", "title": "单项选择题", "position": 0, "maxPoints": 40.0, "score": 35.0, "pendingPoints": 0.0],
                            ["sectionId": "S-SHORT", "title": "简答题", "position": 1, "maxPoints": 11.0, "score": 3.5, "pendingPoints": 4.0],
                        ]
                        payload.merge(["score": score, "maxPoints": 51.0, "pendingPoints": 4.0, "answers": [Any](), "questionScores": [Any](), "sectionScores": sections]) { $1 }
                    }
                    return item(score == nil ? "attempt" : "attemptSubmitted", seq: seq, sitting: "S-1", payload)
                }
                let absentItem = item("checkIn", seq: 23, sitting: "S-1", [
                    "sittingId": "S-1", "admissionNumber": "A3", "status": "absent", "method": NSNull(), "at": end, "byUser": "inv1", "note": "未到场",
                ])
                let results = try signedBatch(
                    [attempt("T1", "A1", seq: 20, status: "answering"), attempt("T1", "A1", seq: 22, status: "submitted", score: 38.5),
                     attempt("T2", "A2", seq: 21, status: "answering"), absentItem], venue: "V1", key: venueKey)
                _ = try await database.receive(body: results.body, signature: results.signature)
                let sittingResults = try editor.decode(SittingResults.self, try await editor.call(.get, "/api/office/sittings/S-1/results"))
                #expect(sittingResults.subject == .theory && sittingResults.maxPoints == 51 && sittingResults.tasks == nil)
                #expect(sittingResults.rows.map(\.admissionNumber) == candidates.map(\.admissionNumber))
                #expect(sittingResults.rows.map(\.status) == ["submitted", "answering", "absent", "noAttempt", "noAttempt", "noAttempt"])
                #expect(sittingResults.rows[0].score == 38.5 && sittingResults.rows[0].pendingPoints == 4 && sittingResults.rows[0].submittedAt != nil)
                #expect(sittingResults.rows[1].score == nil && sittingResults.rows[0].room != nil && sittingResults.rows[0].organisation == "甲公司")
                #expect(sittingResults.sections?.map(\.title) == ["单项选择题", "简答题"] && sittingResults.sections?.map(\.points) == [40, 11])
                #expect(sittingResults.rows[0].sectionScores == [35, 3.5] && sittingResults.rows[1].sectionScores == [nil, nil])
                let csv = try await editor.call(.get, "/api/office/sittings/S-1/results?format=csv")
                #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
                let csvText = String(buffer: csv.body)
                let csvLines = csvText.components(separatedBy: "\r\n")
                #expect(csvText.hasPrefix("\u{FEFF}准考证号 admission number,") && csvLines.count == 8 && csvLines.last == "")
                #expect(csvLines[0].contains(",状态 status,单项选择题（40）,简答题（11）,得分 score,"), "\(csvLines[0])")
                #expect(csvLines[1].hasPrefix("A1,考生1,甲公司,R1,") && csvLines[1].contains(",submitted,35,3.50,38.50,51,4,"), "\(csvLines[1])")
                #expect(csvLines[3].hasPrefix("A3,考生3,") && csvLines[3].contains(",absent,,,,51,,"))
                #expect(try await editor.call(.get, "/api/office/sittings/NOPE/results").status == .notFound)
            }
            try? FileManager.default.removeItem(at: issuer.workFolder)
        }
    }
}

extension AuthoringTests {
    @Test func questionsWrittenBeforeTheDuplicateTextWasKeptGetItWhenTheDatabaseIsMigrated() async throws {
        try await withCentralDatabase { database, _ in
            _ = try await database.createBank(Bank(id: "OLD", name: "旧题库", occupation: "电工", level: "四级", subject: .theory))
            _ = try await database.setKnowledgePoints("OLD", [KnowledgePoint(code: "1", name: "基础知识")])
            let questions = [choice("OLD-1", "ＰＬＣ的中文全称是什么？", knowledge: "1"), choice("OLD-2", "PLC 的中文全称是什么", knowledge: "1")]
            try await database.addQuestions("OLD", questions)
            // A database from before migration 9: no duplicate text kept.
            for statement in ["ALTER TABLE bank_question DROP COLUMN duplicate_text", "DELETE FROM schema_migration WHERE version = 9"] {
                try await database.client.query(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test"))
            }
            try await database.migrate()
            let texts = try await database.duplicateTexts("OLD")
            #expect(texts.map(\.id) == ["OLD-1", "OLD-2"])
            #expect(texts.map(\.text) == questions.map { DuplicateIndex.normalised(DuplicateIndex.text(of: $0)) })
            // Full-width letters and punctuation aside, the two are the same question.
            let pairs = DuplicateIndex(texts, normalised: true).pairs(threshold: 0.8)
            #expect(pairs.map(\.first) == ["OLD-1"] && pairs.map(\.second) == ["OLD-2"])
        }
    }

    @Test func theSigningKeyKeepsTheIssuerIdItWasMadeWith() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kd-issuer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Made on first start under the id given (or the default one), then used as it is.
        let made = try IssuerSettings.load(folder: folder, issuer: "ks-zhongxin", name: "中心", releaseLead: 0)
        #expect(made.key.issuer == "ks-zhongxin")
        let again = try IssuerSettings.load(folder: folder, issuer: nil, name: "中心", releaseLead: 0)
        #expect(again.key.issuer == "ks-zhongxin" && again.key.privateKey == made.key.privateKey)
        #expect(try IssuerSettings.load(folder: folder, issuer: "ks-zhongxin", name: "", releaseLead: 0).key.privateKey == made.key.privateKey)
        // Another id for the same key is refused with what to do, not ignored.
        let refusal = #expect(throws: IssuerMismatch.self) { _ = try IssuerSettings.load(folder: folder, issuer: "other-id", name: "", releaseLead: 0) }
        #expect(refusal.map { $0.description.contains("ks-zhongxin") && $0.description.contains("other-id") } == true)
        let fresh = folder.appendingPathComponent("fresh")
        #expect(try IssuerSettings.load(folder: fresh, issuer: nil, name: "", releaseLead: 0).key.issuer == IssuerSettings.defaultIssuer)
    }

    @Test func aSkillPaperPrintsItsScoringSheetAndPreparationNoticesTravelsPlainAndItsScoresComeBack() async throws {
        try await withCentralDatabase { database, _ in
            let issuer = IssuerSettings(
                key: .generate(issuer: "test-central"), name: "测试中心",
                workFolder: FileManager.default.temporaryDirectory.appendingPathComponent("kd-skill-\(UUID().uuidString)"))
            defer { try? FileManager.default.removeItem(at: issuer.workFolder) }
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"), issuer: issuer)
            try await Application(router: router).test(.router) { client in
                let editor = try await OfficeClient.signIn(client, database: database, username: "editor")
                let chief = try await OfficeClient.signIn(client, database: database, username: "chief")
                #expect(try await editor.call(
                    .post, "/api/office/banks", json: #"{"id":"ELEC-4-SKILL","name":"电工四级技能","occupation":"电工","level":"四级","subject":"skill"}"#).status == .created)
                // A theory question does not go into a skill bank; a task without scoring items is refused with the reason.
                #expect(try await editor.call(.post, "/api/office/banks/ELEC-4-SKILL/questions", body: choice("Q1", "x", knowledge: "1")).status == .conflict)
                var task = SkillTask(
                    id: "", title: "三相异步电动机正反转控制线路安装", description: "按图完成主电路与控制电路的安装接线，并通电试车。", durationMinutes: 120,
                    scoringItems: [])
                let refused = try await editor.call(.post, "/api/office/banks/ELEC-4-SKILL/tasks", body: task)
                #expect(try refused.status == .unprocessableContent && editor.decode(Refusal.self, refused).error.problems?.contains { $0.en.contains("no scoring items") } == true)
                task.scoringItems = [
                    ScoringItem(id: "1", description: "元件安装", points: 20, deduction: "元件布置不整齐、不牢固，每处扣 2 分"),
                    ScoringItem(id: "2", description: "通电试车", points: 40, deduction: "一次试车不成功扣 20 分"),
                ]
                task.candidatePreparation = [PreparationItem(name: "电工常用工具", quantity: "1 套", note: "自备")]
                task.roomPreparation = [PreparationItem(name: "三相异步电动机", specification: "Y112M-4 4kW", quantity: "1 台")]
                struct TaskCreated: Decodable { var task: SkillTask }
                let created = try editor.decode(TaskCreated.self, try await editor.call(.post, "/api/office/banks/ELEC-4-SKILL/tasks", body: task)).task
                #expect(created.id.rawValue.hasPrefix("task-") && created.points == 60)

                let paper = try editor.decode(
                    PaperDetail.self, try await editor.call(.post, "/api/office/banks/ELEC-4-SKILL/papers", json: #"{"title":"电工四级技能操作","tasks":["\#(created.id)"]}"#))
                #expect(paper.summary.subject == .skill && paper.summary.points == 60 && paper.tasks.map(\.id) == [created.id])
                _ = try await editor.call(.post, "/api/office/papers/\(paper.summary.id)/request")
                _ = try await chief.call(.post, "/api/office/papers/\(paper.summary.id)/approve")
                let scoring = String(buffer: try await editor.call(.get, "/api/office/papers/\(paper.summary.id)/print?part=scoring").body)
                #expect(scoring.contains("评分表") && scoring.contains("一次试车不成功扣 20 分") && scoring.contains("考评员（签名）"))
                let candidateNotice = String(buffer: try await editor.call(.get, "/api/office/papers/\(paper.summary.id)/print?part=candidate-notice").body)
                #expect(candidateNotice.contains("考生准备通知单") && candidateNotice.contains("电工常用工具") && !candidateNotice.contains("Y112M-4"))
                let roomNotice = String(buffer: try await editor.call(.get, "/api/office/papers/\(paper.summary.id)/print?part=room-notice").body)
                #expect(roomNotice.contains("考场准备通知单") && roomNotice.contains("Y112M-4 4kW"))
                #expect(try await editor.call(.get, "/api/office/papers/\(paper.summary.id)/print?part=answers").status == .unprocessableContent)

                // A skill sitting travels in the venue package (format 3) with its tasks, not sealed, and its examiners.
                let (_, enrolmentCode) = try await database.addVenue(id: "V1", name: "城东考点")
                let venueKey = Curve25519.Signing.PrivateKey()
                _ = try await database.enrol(venueID: "V1", code: enrolmentCode, publicKey: venueKey.publicKey.rawRepresentation)
                #expect(try await editor.call(.put, "/api/office/venues/V1/rooms", body: [Room(id: "R1", name: "实操考场", seats: ["01", "02"])]).status == .ok)
                let plan = try editor.decode(ExamPlan.self, try await editor.call(.post, "/api/office/plans", json: #"{"name":"技能考核"}"#))
                #expect(try await editor.call(
                    .post, "/api/office/plans/\(plan.id)/sittings",
                    body: SittingRequest(id: "S-SK", name: "电工四级技能操作", venueId: "V1", subject: .skill, paperId: paper.summary.id, rooms: ["R1"],
                        scheduledStart: Date().addingTimeInterval(3600), durationMinutes: 120)).status == .created)
                let stem = "11010119900307001"
                let candidate = PlanCandidate(admissionNumber: "A1", name: "考生一", idNumber: stem + String(IdentityNumber.checkDigit(stem)!))
                #expect(try await editor.call(.put, "/api/office/sittings/S-SK/candidates", body: [candidate]).status == .ok)
                _ = try await editor.call(.post, "/api/office/sittings/S-SK/seats")
                #expect(try await editor.call(
                    .put, "/api/office/sittings/S-SK/staff",
                    body: [PlanStaff(username: "kp1", name: "考评员甲", role: .examiner, rooms: ["R1"]), PlanStaff(username: "kp2", name: "考评员乙", role: .examiner, rooms: ["R1"])]).status == .ok)
                let issued = try editor.decode(PlanPackage.self, try await editor.call(.post, "/api/office/plans/\(plan.id)/packages", json: #"{"venueId":"V1","seal":true}"#))
                #expect(issued.sittings == ["S-SK"] && issued.seals.isEmpty)
                let file = issuer.workFolder.appendingPathComponent("skill.zip")
                try await database.packageFileForOffice(venueID: "V1", packageID: issued.packageId).write(to: file)
                let verified = try PackageReader.read(file, trusting: [try issuer.key.publicKey()])
                #expect(verified.manifest.formatVersion == Manifest.skillVersion && verified.sealed.isEmpty && verified.contents.papers.isEmpty)
                #expect(verified.contents.skillPapers.map(\.tasks) == [[created]] && verified.contents.sittings.map(\.paper.rawValue) == [paper.summary.id])
                #expect(verified.contents.staff.map(\.role) == [.examiner, .examiner])

                // The examiners' sheets come back in sync batches: a draft, then the same sheet handed in (the newest
                // wins, whatever the order), and the other examiner's; the sitting shows each handed-in total and the mean.
                func sheet(_ examiner: String, seq: Int64, total: Double, submitted: Bool) -> SyncItem {
                    item("skillSheet", seq: seq, sitting: "S-SK", [
                        "sittingId": "S-SK", "admissionNumber": "A1", "taskId": created.id.rawValue, "examiner": examiner,
                        "scores": ["1": 20, "2": total - 20], "total": total, "maxPoints": 60, "remark": NSNull(), "updatedAt": 1_767_225_600_000 + seq,
                        "submittedAt": submitted ? 1_767_225_600_000 + seq : NSNull(),
                    ])
                }
                let later = try signedBatch([sheet("kp1", seq: 3, total: 40, submitted: true), sheet("kp2", seq: 4, total: 60, submitted: true)], venue: "V1", key: venueKey)
                _ = try await database.receive(body: later.body, signature: later.signature)
                let earlier = try signedBatch([sheet("kp1", seq: 2, total: 30, submitted: false)], venue: "V1", key: venueKey)
                _ = try await database.receive(body: earlier.body, signature: earlier.signature)
                let detail = try editor.decode(SittingDetail.self, try await editor.call(.get, "/api/office/sittings/S-SK"))
                let scores = try #require(detail.skillScores)
                #expect(scores.count == 1 && scores[0].sheets.map(\.examiner) == ["kp1", "kp2"] && scores[0].sheets.map(\.total) == [40, 60])
                #expect(scores[0].mean == 50 && scores[0].maxPoints == 60 && scores[0].taskId == created.id.rawValue)
                // The results: the task's score and, as it is the only task, the candidate's score.
                let results = try editor.decode(SittingResults.self, try await editor.call(.get, "/api/office/sittings/S-SK/results"))
                #expect(results.subject == .skill && results.maxPoints == 60 && results.tasks?.map(\.id) == [created.id.rawValue])
                #expect(results.rows.count == 1 && results.rows[0].status == "scored" && results.rows[0].taskScores == [50] && results.rows[0].score == 50)
                let csvLines = String(buffer: try await editor.call(.get, "/api/office/sittings/S-SK/results?format=csv").body).components(separatedBy: "\r\n")
                #expect(csvLines[0].contains("三相异步电动机正反转控制线路安装（60）") && csvLines[1].hasPrefix("A1,考生一,,R1,") && csvLines[1].contains(",scored,50,50,60,"), "\(csvLines)")
                // Completeness counts the handed-in sheets the venue's manifest names.
                func manifest(sheets: Int, seq: Int64) -> SyncItem {
                    let start = Int64(Date().addingTimeInterval(-7200).timeIntervalSince1970 * 1000)
                    return item("manifest", seq: seq, sitting: "S-SK", [
                        "sittingId": "S-SK", "scheduledStart": start, "scheduledEnd": start + 3_600_000, "closedAt": start + 3_600_000,
                        "candidates": 1, "attempts": 0, "submitted": 0, "answerLogEntries": 0, "answerLogSHA256": SyncDigest.hex(Data()),
                        "checkIns": 0, "incidents": 0, "faceVerifications": 0, "skillSheets": sheets, "segments": [[String: Any]](),
                        "generatedAt": start + 3_600_000 + seq,
                    ])
                }
                let oneShort = try signedBatch([manifest(sheets: 3, seq: 10)], venue: "V1", key: venueKey)
                _ = try await database.receive(body: oneShort.body, signature: oneShort.signature)
                let short = try #require(try await database.completeness(policy: CompletenessPolicy()).first { $0.sittingId == "S-SK" })
                #expect(!short.resultsComplete && short.missing == ["scoring sheets 1"] && short.expected.skillSheets == 3 && short.held.skillSheets == 2)
                let whole = try signedBatch([manifest(sheets: 2, seq: 11)], venue: "V1", key: venueKey)
                _ = try await database.receive(body: whole.body, signature: whole.signature)
                #expect(try await database.completeness(policy: CompletenessPolicy()).first { $0.sittingId == "S-SK" }?.resultsComplete == true)

                // A used task is retired, not deleted.
                #expect(try await database.removeTask(created.id.rawValue) == .retired)
            }
        }
    }
}

struct PaperBodyRequest: Encodable {
    var title: String
    var sections: [PaperBody.Section]
    var note: String?
}

struct SittingRequest: Encodable {
    var id: String
    var name: String
    var venueId: String
    var subject: Subject
    var paperId: String
    var rooms: [String]
    var scheduledStart: Date
    var durationMinutes: Int
}
