import DemoContent
import ExamCore
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing
import VenuePackage

@testable import VenueServer
@testable import VenueStore

/// A skill paper of two tasks (100 and 20 points).
func skillPaper() -> SkillPaper {
    SkillPaper(
        id: "P-SKILL", title: "电工四级技能操作试卷",
        tasks: [
            SkillTask(
                id: "task-motor", title: "三相异步电动机正反转控制线路安装", description: "按图安装并通电试车。", durationMinutes: 90,
                scoringItems: [
                    ScoringItem(id: "1", description: "元件选择与检查", points: 10, deduction: "选错每个扣 2 分"),
                    ScoringItem(id: "2", description: "按图接线", points: 50, deduction: "错一处扣 5 分"),
                    ScoringItem(id: "3", description: "通电试车", points: 40, deduction: "一次不成功扣 20 分"),
                ],
                candidatePreparation: [PreparationItem(name: "电工工具", quantity: "1 套")]),
            SkillTask(
                id: "task-safety", title: "安全文明生产", description: "全程遵守安全规程。", durationMinutes: 90,
                scoringItems: [ScoringItem(id: "1", description: "安全文明生产", points: 20, deduction: "违规一次扣 10 分")]),
        ])
}

/// The demo exam plus a skill sitting in rooms R01 and R02 (two candidates each) and three examiners: two for R01, one
/// for R02.
func contentsWithSkillSitting(startsAt: Date = Date().addingTimeInterval(-600)) -> PackageContents {
    var contents = Fixtures.demoContents(candidates: 6)
    let paper = skillPaper()
    contents.skillPapers = [paper]
    contents.sittings.append(
        Sitting(
            id: "S-SKILL", name: "电工四级技能操作考核", subject: .skill, paper: paper.id, rooms: ["R01", "R02"], scheduledStart: startsAt,
            durationMinutes: 180, instructions: "按准备通知单携带工具。"))
    for (index, candidate) in contents.candidates.prefix(4).enumerated() {
        contents.seats.append(
            SeatAssignment(sitting: "S-SKILL", admissionNumber: candidate.admissionNumber, room: index < 2 ? "R01" : "R02", seat: String(format: "%02d", index % 2 + 1)))
    }
    let hash = PasswordHash.make("kaodian-demo", iterations: 1_000)
    for (username, room) in [("examiner1", "R01"), ("examiner2", "R01"), ("examiner3", "R02")] {
        contents.staff.append(StaffMember(username: username, name: "考评员\(username.suffix(1))", role: .examiner, passwordHash: hash, rooms: [Room.ID(room)]))
    }
    return contents
}

@Suite("Skill sittings: the package carries their tasks, examiners score them on tablets", .serialized)
struct SkillScoringTests {
    struct Sheet: Decodable {
        struct Item: Decodable {
            var id: String
            var points: Double
            var score: Double?
        }
        var items: [Item]
        var total: Double
        var maxPoints: Double
        var remark: String?
        var submittedAt: Int64?
        var room: String
        var roomName: String
        var sittingName: String
        var venueName: String?
    }
    struct CandidateRow: Decodable {
        struct Task: Decodable {
            var taskId: String
            var mine: String
            var myTotal: Double?
            var submitted: Int
            var mean: Double?
        }
        var admissionNumber: String
        var room: String
        var tasks: [Task]
    }
    struct SkillSitting: Decodable {
        struct Task: Decodable {
            var id: String
            var points: Double
        }
        var id: String
        var rooms: [String]
        var tasks: [Task]
    }

    @Test func examinersScoreTheirRoomsCandidatesItemByItemAndHandedInSheetsStay() async throws {
        let venue = try Fixtures.venue()
        let contents = contentsWithSkillSitting()
        let package = try PackageReader.read(try Fixtures.writePackage(contents), trusting: [try Fixtures.issuerKey.publicKey()])
        #expect(package.manifest.formatVersion == Manifest.skillVersion && package.contents.skillPapers == [skillPaper()])
        _ = try await venue.database.importPackage(package)
        let configuration = VenueConfiguration(
            dataDirectory: venue.folder, host: "127.0.0.1", port: 0, faceModels: venue.folder.appendingPathComponent("no-face-models"))
        let router = VenueApp.buildRouter(database: venue.database, configuration: configuration, logger: Logger(label: "test"))
        let r01 = contents.seats.filter { $0.sitting == "S-SKILL" && $0.room == "R01" }.map(\.admissionNumber)
        let r02 = contents.seats.filter { $0.sitting == "S-SKILL" && $0.room == "R02" }.map(\.admissionNumber)
        try await Application(router: router).test(.router) { client in
            let first = try await staffToken(client, username: "examiner1")
            let second = try await staffToken(client, username: "examiner2")
            let other = try await staffToken(client, username: "examiner3")
            let sheet = { (adm: String, task: String) in "/api/examiner/sittings/S-SKILL/candidates/\(adm)/tasks/\(task)" }
            func put(_ token: String, _ adm: String, _ task: String, _ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: sheet(adm, task), method: .put, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }

            // Given an examiner of room R01, they see the skill sitting (not the theory one) and R01's candidates only.
            let sittings = try decode([SkillSitting].self, try await client.execute(uri: "/api/examiner/sittings", method: .get, headers: bearer(first)))
            #expect(sittings.map(\.id) == ["S-SKILL"] && sittings[0].rooms == ["R01"] && sittings[0].tasks.map(\.points) == [100, 20])
            let rows = try decode(
                [CandidateRow].self, try await client.execute(uri: "/api/examiner/sittings/S-SKILL/candidates", method: .get, headers: bearer(first)))
            #expect(rows.map(\.admissionNumber) == r01 && rows.allSatisfy { $0.tasks.map(\.mine) == ["none", "none"] })
            #expect(try await client.execute(uri: sheet(r02[0], "task-motor"), method: .get, headers: bearer(first)).status == .forbidden)
            #expect(try await client.execute(uri: "/api/examiner/sittings/S-DEMO-THEORY/candidates", method: .get, headers: bearer(first)).status == .notFound)
            // Invigilators do not score.
            let invigilator = try await staffToken(client, username: "invigilator1")
            #expect(try await client.execute(uri: "/api/examiner/sittings", method: .get, headers: bearer(invigilator)).status == .forbidden)

            // Scores that do not fit the sheet are refused whole, each said: above the item's points, not a step of
            // 0.5, an item the task does not have; handing in with an item unscored.
            let bad = try await put(first, r01[0], "task-motor", #"{"scores":{"1":12,"2":33.3,"9":1}}"#)
            #expect(bad.status == .unprocessableContent)
            let why = try decode(ErrorEnvelope.self, bad).error
            #expect(why.code == "skill_score_invalid" && why.messageZh.contains("元件选择与检查") && why.messageZh.contains("按图接线") && why.message.contains("no scoring item 9"), "\(why)")
            let incomplete = try await put(first, r01[0], "task-motor", #"{"scores":{"1":8},"submit":true}"#)
            #expect(try incomplete.status == .unprocessableContent && decode(ErrorEnvelope.self, incomplete).error.messageZh.contains("通电试车"))
            #expect(try decode(Sheet.self, try await client.execute(uri: sheet(r01[0], "task-motor"), method: .get, headers: bearer(first))).items.allSatisfy { $0.score == nil })

            // A draft, then the sheet handed in: its total, and then it no longer changes.
            let draft = try decode(Sheet.self, try await put(first, r01[0], "task-motor", #"{"scores":{"1":8,"2":45}}"#))
            #expect(draft.total == 53 && draft.submittedAt == nil && draft.maxPoints == 100 && draft.room == "R01")
            // What the printed sheet says it belongs to.
            #expect(draft.roomName == "第一考场" && draft.sittingName == "电工四级技能操作考核" && draft.venueName == DemoPackage.venue.name)
            let handedIn = try decode(Sheet.self, try await put(first, r01[0], "task-motor", #"{"scores":{"1":8,"2":45,"3":20},"remark":"第一次试车未成功","submit":true}"#))
            #expect(handedIn.total == 73 && handedIn.submittedAt != nil && handedIn.remark == "第一次试车未成功")
            let again = try await put(first, r01[0], "task-motor", #"{"scores":{"1":10,"2":50,"3":40}}"#)
            #expect(try again.status == .conflict && decode(ErrorEnvelope.self, again).error.code == "skill_sheet_submitted")

            // The second examiner of the room scores the same candidate on their own sheet; the task's score is the
            // mean of the sheets handed in.
            _ = try await put(second, r01[0], "task-motor", #"{"scores":{"1":9,"2":47.5,"3":20},"submit":true}"#)
            let after = try decode(
                [CandidateRow].self, try await client.execute(uri: "/api/examiner/sittings/S-SKILL/candidates", method: .get, headers: bearer(first)))
            let motor = try #require(after.first { $0.admissionNumber == r01[0] }?.tasks.first { $0.taskId == "task-motor" })
            #expect(motor.mine == "submitted" && motor.myTotal == 73 && motor.submitted == 2 && motor.mean == 74.75)
            // Room R02's examiner sees R02 only.
            let theirs = try decode(
                [CandidateRow].self, try await client.execute(uri: "/api/examiner/sittings/S-SKILL/candidates", method: .get, headers: bearer(other)))
            #expect(theirs.map(\.admissionNumber) == r02)

            // Every write of a sheet is in the outbox for central, and handing in is audited.
            let (items, audits) = try await venue.database.pool.read { db in
                (
                    try Row.fetchAll(db, sql: "SELECT payload FROM sync_outbox WHERE kind = 'skillSheet' ORDER BY seq").map { $0["payload"] as String },
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'skill.sheetSubmitted'") ?? 0
                )
            }
            #expect(items.count == 3 && audits == 2)
            let last = try #require(items.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(last["examiner"] as? String == "examiner2" && last["total"] as? Double == 76.5 && (last["scores"] as? [String: Any])?["2"] as? Double == 47.5)
            #expect(last["submittedAt"] is NSNumber && last["sittingId"] as? String == "S-SKILL")
            // The admin's results: each task's mean of the sheets handed in, what is still to be scored; and the CSV.
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            struct Result: Decodable {
                struct Section: Decodable { var id: String; var score: Double; var pendingPoints: Double }
                var admissionNumber: String
                var status: String
                var score: Double?
                var maxPoints: Double?
                var pendingPoints: Double?
                var sections: [Section]
            }
            let results = try decode([Result].self, try await client.execute(uri: "/api/admin/sittings/S-SKILL/results", method: .get, headers: bearer(admin)))
            let scored = try #require(results.first { $0.admissionNumber == r01[0] })
            #expect(scored.status == "scoring" && scored.score == 74.75 && scored.maxPoints == 120 && scored.pendingPoints == 20)
            #expect(scored.sections.map(\.id) == ["task-motor", "task-safety"] && scored.sections[0].score == 74.75)
            #expect(results.filter { $0.admissionNumber != r01[0] }.allSatisfy { $0.status == "notScored" } && results.count == 4)
            let csv = try await client.execute(uri: "/api/admin/sittings/S-SKILL/results.csv", method: .get, headers: bearer(admin))
            let text = String(buffer: csv.body)
            #expect(csv.status == .ok && text.contains("三相异步电动机正反转控制线路安装（100）") && text.contains("\(r01[0]),") && text.contains(",74.75,"), "\(text)")
            // The invigilator's room screen works for a skill sitting (running since its start; no terminal paper, nothing to
            // collect when the room ends).
            let room = "/api/console/sittings/S-SKILL/rooms/R01"
            #expect(try await client.execute(uri: room, method: .get, headers: bearer(admin)).status == .ok)
            let ended = try await client.execute(
                uri: room + "/end", method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"reason":"实操结束"}"#))
            #expect(ended.status == .ok, "\(String(buffer: ended.body))")
            // The sitting's manifest names the sheets handed in, so central can tell when it has them all.
            #expect(try await venue.database.sittingManifests().first { $0.sittingId == "S-SKILL" }?.skillSheets == 2)
        }
    }

    @Test func aPackageWhoseSkillPaperIsWrongIsRefusedWithEveryProblem() throws {
        var contents = contentsWithSkillSitting()
        var paper = skillPaper()
        paper.tasks[0].scoringItems[1].points = 0
        paper.tasks[1].scoringItems = []
        paper.tasks.append(paper.tasks[0])
        contents.skillPapers = [paper]
        // A theory sitting may not use a skill paper, nor a skill sitting a theory paper.
        contents.sittings.append(
            Sitting(id: "S-WRONG", name: "x", subject: .skill, paper: "P-DEMO-ELEC4", rooms: ["R01"], scheduledStart: Date(), durationMinutes: 60, instructions: ""))
        let error = #expect(throws: PackageError.self) {
            _ = try PackageReader.read(try Fixtures.writePackage(contents), trusting: [try Fixtures.issuerKey.publicKey()])
        }
        let problems = (error?.problems ?? []).map(\.message.en)
        #expect(problems.contains { $0.contains("scoring item 2 must carry more than 0 points") }, "\(problems)")
        #expect(problems.contains { $0.contains("task task-safety: it has no scoring items") })
        #expect(problems.contains { $0.contains("task task-motor appears twice") })
        #expect(problems.contains { $0.contains("S-WRONG") && $0.contains("skill paper") })
    }
}
