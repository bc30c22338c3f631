import ExamCore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import QuestionBank
import SyncProtocol
import VenuePackage

/// An exam plan (评价计划): sittings at venues.
public struct ExamPlan: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date
    public var sittings: Int
}

/// A sitting as the office plans it; what the venue gets is ExamCore's `Sitting` made from it.
public struct PlanSitting: Sendable, Codable, Equatable {
    public var id: String
    public var planId: String
    public var venueId: String
    public var name: String
    public var subject: Subject
    public var occupation: String?
    public var level: String?
    public var paperId: String
    public var rooms: [String]
    public var scheduledStart: Date
    public var durationMinutes: Int
    public var lateEntryMinutes: Int?
    public var instructions: String
    public var faceChecks: FaceChecks?

    public init(
        id: String, planId: String, venueId: String, name: String, subject: Subject, occupation: String? = nil, level: String? = nil,
        paperId: String, rooms: [String], scheduledStart: Date, durationMinutes: Int, lateEntryMinutes: Int? = nil,
        instructions: String, faceChecks: FaceChecks? = nil
    ) {
        self.id = id
        self.planId = planId
        self.venueId = venueId
        self.name = name
        self.subject = subject
        self.occupation = occupation
        self.level = level
        self.paperId = paperId
        self.rooms = rooms
        self.scheduledStart = scheduledStart
        self.durationMinutes = durationMinutes
        self.lateEntryMinutes = lateEntryMinutes
        self.instructions = instructions
        self.faceChecks = faceChecks
    }
}

public struct PlanCandidate: Sendable, Codable, Equatable {
    public var admissionNumber: String
    public var name: String
    public var idNumber: String
    public var organisation: String?
    public var room: String?
    public var seat: String?
    public var hasPhoto: Bool?
    public init(admissionNumber: String, name: String, idNumber: String, organisation: String? = nil) {
        self.admissionNumber = admissionNumber
        self.name = name
        self.idNumber = idNumber
        self.organisation = organisation
    }
}

public struct PlanStaff: Sendable, Codable, Equatable {
    public var username: String
    public var name: String
    public var role: StaffRole
    public var rooms: [String]
    public init(username: String, name: String, role: StaffRole, rooms: [String] = []) {
        self.username = username
        self.name = name
        self.role = role
        self.rooms = rooms
    }
}

public struct SittingDetail: Sendable, Codable, Equatable {
    public struct PackageState: Sendable, Codable, Equatable {
        public var packageId: String
        public var issuedAt: Date
        public var fetchedAt: Date?
        public var imported: Bool?
        public var result: String?
    }
    public struct Seal: Sendable, Codable, Equatable {
        public var code: String
        public var releaseAt: Date
        public var released: Bool
    }
    public var sitting: PlanSitting
    public var paper: PaperSummary
    public var candidates: [PlanCandidate]
    public var staff: [PlanStaff]
    public var package: PackageState?
    public var seal: Seal?
    /// A skill sitting's scores as the venue reported them: per candidate and task, the sheets examiners handed in.
    public var skillScores: [SkillScore]?
}

/// One candidate's task in a skill sitting: every examiner's sheet handed in, and their mean (the task's score).
public struct SkillScore: Sendable, Codable, Equatable {
    public struct Sheet: Sendable, Codable, Equatable {
        public var examiner: String
        public var total: Double
        public var submittedAt: Date
        public var remark: String?
    }
    public var admissionNumber: String
    public var taskId: String
    public var maxPoints: Double
    public var sheets: [Sheet]
    public var mean: Double?
}

/// A package built from a plan for one venue.
public struct PlanPackage: Sendable, Codable, Equatable {
    public struct SealCodeView: Sendable, Codable, Equatable {
        public var sittingId: String
        public var code: String
        public var releaseAt: Date
    }
    public var packageId: String
    public var sha256: String
    public var bytes: Int64
    public var sittings: [String]
    public var seals: [SealCodeView]
}

/// A key central has released for a venue's sealed paper.
public struct ReleasedKey: Sendable, Codable, Equatable {
    public var packageId: String
    public var sittingId: String
    public var code: String
}

extension CentralDatabase {
    // MARK: Venue rooms

    public func rooms(venueID: String) async throws -> [Room] {
        _ = try await venue(id: venueID)
        var rooms: [Room] = []
        for try await (id, name, seats) in try await client.query(
            "SELECT id, name, seats FROM venue_room WHERE venue_id = \(venueID) ORDER BY position", logger: logger
        ).decode((String, String, [String]).self) {
            rooms.append(Room(id: Room.ID(id), name: name, seats: seats))
        }
        return rooms
    }

    /// Replaces a venue's rooms; a room a sitting uses cannot go.
    public func setRooms(venueID: String, _ rooms: [Room]) async throws -> [Room] {
        _ = try await venue(id: venueID)
        var problems: [Message] = []
        var ids = Set<String>()
        for room in rooms {
            if !isWellFormedIdentifier(room.id.rawValue) {
                problems.append(Message(zh: "考场编号 \(room.id) 只能包含字母、数字、-、_、.", en: "room id \(room.id) may only hold letters, digits, '-', '_', '.'"))
            }
            if !ids.insert(room.id.rawValue).inserted {
                problems.append(Message(zh: "考场编号 \(room.id) 重复", en: "room id \(room.id) appears twice"))
            }
            if room.name.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append(Message(zh: "考场 \(room.id) 没有名称", en: "room \(room.id) has no name"))
            }
            if room.seats.isEmpty || room.seats.count > 500 {
                problems.append(Message(zh: "考场 \(room.id) 须有 1–500 个座位", en: "room \(room.id) must have 1 to 500 seats"))
            }
            if Set(room.seats).count != room.seats.count || room.seats.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.count > 16 }) {
                problems.append(Message(zh: "考场 \(room.id) 的座位号有重复或为空", en: "room \(room.id) has a blank or repeated seat label"))
            }
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("rooms_invalid", problems, zh: "考场设置有误", en: "the rooms are not valid")
        }
        var used: [Message] = []
        for sitting in try await sittings(venueID: venueID) {
            for room in sitting.rooms where !ids.contains(room) {
                used.append(Message(zh: "场次 \(sitting.id) 使用考场 \(room)", en: "sitting \(sitting.id) uses room \(room)"))
            }
        }
        guard used.isEmpty else {
            throw OfficeError(.conflict, "room_in_use", zh: "要删除的考场仍被场次使用", en: "rooms to remove are used by sittings", problems: used)
        }
        try await transaction { connection in
            try await connection.query("DELETE FROM venue_room WHERE venue_id = \(venueID)", logger: logger)
            for (position, room) in rooms.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO venue_room (venue_id, id, name, seats, position)
                    VALUES (\(venueID), \(room.id.rawValue), \(room.name), \(room.seats), \(position))
                    """, logger: logger)
            }
        }
        return rooms
    }

    // MARK: Plans and sittings

    public func createPlan(name: String, by: String, now: Date = Date()) async throws -> ExamPlan {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw OfficeError.invalid("plan_invalid", [], zh: "考试计划名称不能为空（不超过 200 字）", en: "a plan needs a name of 1 to 200 characters")
        }
        let id = FreshID.make("plan")
        try await client.query(
            "INSERT INTO exam_plan (id, name, created_by, created_at) VALUES (\(id), \(trimmed), \(by), \(now))", logger: logger)
        return ExamPlan(id: id, name: trimmed, createdAt: now, sittings: 0)
    }

    public func plans() async throws -> [ExamPlan] {
        var list: [ExamPlan] = []
        for try await (id, name, created, count) in try await client.query(
            """
            SELECT p.id, p.name, p.created_at, (SELECT count(*) FROM plan_sitting s WHERE s.plan_id = p.id)::INT
            FROM exam_plan p ORDER BY p.created_at DESC
            """, logger: logger
        ).decode((String, String, Date, Int).self) {
            list.append(ExamPlan(id: id, name: name, createdAt: created, sittings: count))
        }
        return list
    }

    public func plan(_ id: String) async throws -> (plan: ExamPlan, sittings: [SittingDetail]) {
        guard let plan = try await plans().first(where: { $0.id == id }) else { throw OfficeError.notFound(("考试计划", "exam plan"), id) }
        var details: [SittingDetail] = []
        for sitting in try await sittings(planID: id) { details.append(try await sittingDetail(sitting.id)) }
        return (plan, details)
    }

    func sittings(planID: String? = nil, venueID: String? = nil) async throws -> [PlanSitting] {
        var list: [PlanSitting] = []
        for try await body in try await client.query(
            """
            SELECT body FROM plan_sitting WHERE (\(planID ?? "") = '' OR plan_id = \(planID ?? ""))
              AND (\(venueID ?? "") = '' OR venue_id = \(venueID ?? "")) ORDER BY scheduled_start, id
            """, logger: logger
        ).decode(String.self) {
            list.append(try StoredJSON.value(PlanSitting.self, body))
        }
        return list
    }

    public func addSitting(_ proposed: PlanSitting, now: Date = Date()) async throws -> SittingDetail {
        var sitting = proposed
        if sitting.id.isEmpty { sitting.id = FreshID.make("sitting") }
        guard try await plans().contains(where: { $0.id == sitting.planId }) else {
            throw OfficeError.notFound(("考试计划", "exam plan"), sitting.planId)
        }
        _ = try await venue(id: sitting.venueId)
        var problems: [Message] = []
        if !isWellFormedIdentifier(sitting.id) {
            problems.append(Message(zh: "场次编号只能包含字母、数字、-、_、.", en: "a sitting id may only hold letters, digits, '-', '_', '.'"))
        }
        if sitting.name.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append(Message(zh: "场次没有名称", en: "the sitting has no name"))
        }
        if !(1...1440).contains(sitting.durationMinutes) {
            problems.append(Message(zh: "考试时长须在 1–1440 分钟之间", en: "the duration must be 1 to 1440 minutes"))
        }
        if let late = sitting.lateEntryMinutes, !(0...sitting.durationMinutes).contains(late) {
            problems.append(Message(zh: "开考后禁止入场时间须在 0 到考试时长之间", en: "late entry must be between 0 and the duration"))
        }
        if let checks = sitting.faceChecks, !(0...FaceChecks.maxRechecks).contains(checks.rechecks) {
            problems.append(Message(zh: "随机抽检次数须在 0–20 之间", en: "face re-checks must be 0 to 20"))
        }
        let venueRooms = Set(try await rooms(venueID: sitting.venueId).map(\.id.rawValue))
        if sitting.rooms.isEmpty { problems.append(Message(zh: "场次没有考场", en: "the sitting has no rooms")) }
        for room in sitting.rooms where !venueRooms.contains(room) {
            problems.append(Message(zh: "考场 \(room) 不属于考点 \(sitting.venueId)", en: "room \(room) is not a room of venue \(sitting.venueId)"))
        }
        let paper = try await paper(sitting.paperId).summary
        if ![.approved, .issued].contains(paper.state) {
            problems.append(Message(zh: "试卷 \(paper.title) 尚未通过用卷审批", en: "the paper \(paper.title) has not been approved for use"))
        }
        if paper.subject != sitting.subject {
            problems.append(Message(zh: "试卷科目与场次不符", en: "the paper's subject is not the sitting's"))
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("sitting_invalid", problems, zh: "场次设置有误", en: "the sitting is not valid")
        }
        var inserted = false
        for try await _ in try await client.query(
            """
            INSERT INTO plan_sitting (id, plan_id, venue_id, paper_id, paper_version, body, scheduled_start, created_at)
            VALUES (\(sitting.id), \(sitting.planId), \(sitting.venueId), \(sitting.paperId), \(paper.version), \(try StoredJSON.text(sitting)),
                \(sitting.scheduledStart), \(now))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        {
            inserted = true
        }
        guard inserted else { throw OfficeError(.conflict, "sitting_exists", zh: "场次 \(sitting.id) 已存在", en: "sitting \(sitting.id) already exists") }
        return try await sittingDetail(sitting.id)
    }

    func planSitting(_ id: String) async throws -> PlanSitting {
        for try await body in try await client.query("SELECT body FROM plan_sitting WHERE id = \(id)", logger: logger).decode(String.self) {
            return try StoredJSON.value(PlanSitting.self, body)
        }
        throw OfficeError.notFound(("场次", "sitting"), id)
    }

    public func sittingDetail(_ id: String, now: Date = Date()) async throws -> SittingDetail {
        let sitting = try await planSitting(id)
        let paper = try await paper(sitting.paperId).summary
        var candidates: [PlanCandidate] = []
        for try await (number, name, idNumber, organisation, room, seat, hasPhoto) in try await client.query(
            """
            SELECT admission_number, name, id_number, organisation, room_id, seat, photo IS NOT NULL FROM plan_candidate
            WHERE sitting_id = \(id) ORDER BY position
            """, logger: logger
        ).decode((String, String, String, String?, String?, String?, Bool).self) {
            var candidate = PlanCandidate(admissionNumber: number, name: name, idNumber: idNumber, organisation: organisation)
            candidate.room = room
            candidate.seat = seat
            candidate.hasPhoto = hasPhoto
            candidates.append(candidate)
        }
        var staff: [PlanStaff] = []
        for try await (username, name, role, rooms) in try await client.query(
            "SELECT username, name, role, rooms FROM plan_staff WHERE sitting_id = \(id) ORDER BY role, username", logger: logger
        ).decode((String, String, String, [String]).self) {
            staff.append(PlanStaff(username: username, name: name, role: StaffRole(rawValue: role) ?? .invigilator, rooms: rooms))
        }
        var seal: SittingDetail.Seal?
        var packageID: String?
        for try await (code, releaseAt, releasedAt, package) in try await client.query(
            "SELECT code, release_at, released_at, package_id FROM sitting_seal WHERE sitting_id = \(id)", logger: logger
        ).decode((String, Date, Date?, String).self) {
            seal = .init(code: code, releaseAt: releaseAt, released: releasedAt != nil || releaseAt <= now)
            packageID = package
        }
        var package: SittingDetail.PackageState?
        for try await (packageId, issued, fetched, imported, result) in try await client.query(
            """
            SELECT package_id, issued_at, fetched_at, imported, result FROM venue_package
            WHERE venue_id = \(sitting.venueId) AND \(id) = ANY(sittings) ORDER BY issued_at DESC LIMIT 1
            """, logger: logger
        ).decode((String, Date, Date?, Bool?, String?).self) {
            package = .init(packageId: packageId, issuedAt: issued, fetchedAt: fetched, imported: imported, result: result)
        }
        if let packageID, package?.packageId != packageID { seal = nil }
        var detail = SittingDetail(sitting: sitting, paper: paper, candidates: candidates, staff: staff, package: package, seal: seal)
        if sitting.subject == .skill { detail.skillScores = try await skillScores(sittingID: id, venueID: sitting.venueId) }
        return detail
    }

    /// The handed-in scoring sheets of a skill sitting from its venue, per candidate and task.
    public func skillScores(sittingID: String, venueID: String) async throws -> [SkillScore] {
        var scores: [SkillScore] = []
        for try await (number, task, examiner, total, maxPoints, submitted, remark) in try await client.query(
            """
            SELECT admission_number, task_id, examiner, total, max_points, submitted_at, remark FROM skill_sheet
            WHERE venue_id = \(venueID) AND sitting_id = \(sittingID) AND submitted_at IS NOT NULL
            ORDER BY admission_number, task_id, examiner
            """, logger: logger
        ).decode((String, String, String, Double, Double, Date, String?).self) {
            let sheet = SkillScore.Sheet(examiner: examiner, total: total, submittedAt: submitted, remark: remark)
            if let last = scores.indices.last, scores[last].admissionNumber == number, scores[last].taskId == task {
                scores[last].sheets.append(sheet)
            } else {
                scores.append(SkillScore(admissionNumber: number, taskId: task, maxPoints: maxPoints, sheets: [sheet]))
            }
        }
        for index in scores.indices {
            let totals = scores[index].sheets.map(\.total)
            scores[index].mean = totals.isEmpty ? nil : (totals.reduce(0, +) / Double(totals.count) * 100).rounded() / 100
        }
        return scores
    }

    /// Replaces a sitting's candidates whole (seats are allocated again afterwards).
    public func setCandidates(sittingID: String, _ candidates: [PlanCandidate]) async throws -> SittingDetail {
        _ = try await planSitting(sittingID)
        var problems: [Message] = []
        var numbers = Set<String>()
        var idNumbers = Set<String>()
        for (index, candidate) in candidates.enumerated() {
            let line = index + 1
            if !isWellFormedIdentifier(candidate.admissionNumber) {
                problems.append(Message(zh: "第 \(line) 行：准考证号 \(candidate.admissionNumber) 格式不正确", en: "line \(line): admission number \(candidate.admissionNumber) is not well formed"))
            }
            if !numbers.insert(candidate.admissionNumber).inserted {
                problems.append(Message(zh: "第 \(line) 行：准考证号 \(candidate.admissionNumber) 重复", en: "line \(line): admission number \(candidate.admissionNumber) appears twice"))
            }
            if candidate.name.trimmingCharacters(in: .whitespaces).isEmpty || candidate.name.count > 100 {
                problems.append(Message(zh: "第 \(line) 行：姓名为空", en: "line \(line): the name is empty"))
            }
            if !IdentityNumber.isValid(candidate.idNumber) {
                problems.append(Message(zh: "第 \(line) 行：身份证件号码 \(candidate.idNumber) 无效（校验位不符或格式不对）", en: "line \(line): the identity number \(candidate.idNumber) is not valid (check digit or form)"))
            } else if !idNumbers.insert(IdentityNumber.normalise(candidate.idNumber)).inserted {
                problems.append(Message(zh: "第 \(line) 行：身份证件号码重复", en: "line \(line): the identity number appears twice"))
            }
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("candidates_invalid", problems, zh: "考生名单有误，未保存", en: "the candidate list is not valid; nothing was saved")
        }
        try await transaction { connection in
            // Photos stay with the admission numbers that remain.
            var photos: [String: ByteBuffer] = [:]
            for try await (number, photo) in try await connection.query(
                "SELECT admission_number, photo FROM plan_candidate WHERE sitting_id = \(sittingID) AND photo IS NOT NULL", logger: logger
            ).decode((String, ByteBuffer).self) {
                photos[number] = photo
            }
            try await connection.query("DELETE FROM plan_candidate WHERE sitting_id = \(sittingID)", logger: logger)
            for (position, candidate) in candidates.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO plan_candidate (sitting_id, admission_number, name, id_number, organisation, position, photo)
                    VALUES (\(sittingID), \(candidate.admissionNumber), \(candidate.name.trimmingCharacters(in: .whitespaces)),
                        \(IdentityNumber.normalise(candidate.idNumber)), \(candidate.organisation?.trimmingCharacters(in: .whitespaces)),
                        \(position), \(photos[candidate.admissionNumber]))
                    """, logger: logger)
            }
        }
        return try await sittingDetail(sittingID)
    }

    /// A candidate's registered photo (JPEG or PNG, at most 5 MB), for face matching at the venue.
    public func setCandidatePhoto(sittingID: String, admissionNumber: String, photo: Data) async throws {
        guard let kind = PhotoKind.recognise(photo), kind != .svg, photo.count <= PhotoKind.maxBytes else {
            throw OfficeError.invalid("photo_invalid", [], zh: "照片须为 JPEG 或 PNG 图像，不超过 5 MB", en: "a photo must be a JPEG or PNG image of at most 5 MB")
        }
        var found = false
        for try await _ in try await client.query(
            """
            UPDATE plan_candidate SET photo = \(ByteBuffer(bytes: photo))
            WHERE sitting_id = \(sittingID) AND admission_number = \(admissionNumber) RETURNING 1
            """, logger: logger)
        {
            found = true
        }
        guard found else { throw OfficeError.notFound(("考生", "candidate"), admissionNumber) }
    }

    /// Seats every candidate of the sitting over its rooms, so that candidates of one organisation do not sit side by
    /// side where it can be helped: the order interleaves organisations, largest first.
    public func allocateSeats(sittingID: String) async throws -> SittingDetail {
        let sitting = try await planSitting(sittingID)
        let detail = try await sittingDetail(sittingID)
        let venueRooms = Dictionary(uniqueKeysWithValues: try await rooms(venueID: sitting.venueId).map { ($0.id.rawValue, $0) })
        let seats = sitting.rooms.flatMap { room in (venueRooms[room]?.seats ?? []).map { (room, $0) } }
        guard seats.count >= detail.candidates.count else {
            throw OfficeError.invalid(
                "seats_too_few", [], zh: "座位不足：\(detail.candidates.count) 名考生，\(seats.count) 个座位（缺 \(detail.candidates.count - seats.count) 个）",
                en: "too few seats: \(detail.candidates.count) candidates, \(seats.count) seats (\(detail.candidates.count - seats.count) short)")
        }
        let order = SeatPlanner.spread(detail.candidates.map { ($0.admissionNumber, $0.organisation ?? "") })
        try await transaction { connection in
            for (index, number) in order.enumerated() {
                let (room, seat) = seats[index]
                try await connection.query(
                    "UPDATE plan_candidate SET room_id = \(room), seat = \(seat) WHERE sitting_id = \(sittingID) AND admission_number = \(number)",
                    logger: logger)
            }
        }
        return try await sittingDetail(sittingID)
    }

    /// Replaces a sitting's staff; returns the one-time passwords of accounts new to the plan (shown once).
    public func setStaff(sittingID: String, _ staff: [PlanStaff]) async throws -> (SittingDetail, [(username: String, password: String)]) {
        let sitting = try await planSitting(sittingID)
        var problems: [Message] = []
        var names = Set<String>()
        for member in staff {
            if !Self.isVenueID(member.username) {
                problems.append(Message(zh: "用户名 \(member.username) 只能包含字母、数字、-、_、.", en: "user name \(member.username) may only hold letters, digits, '-', '_', '.'"))
            }
            if !names.insert(member.username).inserted {
                problems.append(Message(zh: "用户名 \(member.username) 重复", en: "user name \(member.username) appears twice"))
            }
            if member.name.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append(Message(zh: "\(member.username) 没有姓名", en: "\(member.username) has no name"))
            }
            for room in member.rooms where !sitting.rooms.contains(room) {
                problems.append(Message(zh: "\(member.username) 的考场 \(room) 不属于本场次", en: "room \(room) of \(member.username) is not a room of this sitting"))
            }
            if [.invigilator, .examiner].contains(member.role) && member.rooms.isEmpty {
                problems.append(Message(zh: "监考员、考评员 \(member.username) 须指定考场", en: "invigilator or examiner \(member.username) needs a room"))
            }
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("staff_invalid", problems, zh: "工作人员安排有误，未保存", en: "the staff list is not valid; nothing was saved")
        }
        var passwords: [(String, String)] = []
        try await transaction { connection in
            var hashes: [String: String] = [:]
            for try await (username, hash) in try await connection.query(
                """
                SELECT st.username, st.password_hash FROM plan_staff st JOIN plan_sitting s ON s.id = st.sitting_id
                WHERE s.plan_id = \(sitting.planId)
                """, logger: logger
            ).decode((String, String).self) {
                hashes[username] = hash
            }
            try await connection.query("DELETE FROM plan_staff WHERE sitting_id = \(sittingID)", logger: logger)
            for member in staff {
                let hash: String
                if let existing = hashes[member.username] {
                    hash = existing
                } else {
                    let password = Self.makePassword()
                    hash = PasswordHash.make(password)
                    hashes[member.username] = hash
                    passwords.append((member.username, password))
                }
                try await connection.query(
                    """
                    INSERT INTO plan_staff (sitting_id, username, name, role, rooms, password_hash)
                    VALUES (\(sittingID), \(member.username), \(member.name), \(member.role.rawValue), \(member.rooms), \(hash))
                    """, logger: logger)
            }
        }
        return (try await sittingDetail(sittingID), passwords)
    }

    // MARK: Packages from plans

    /// Builds, signs and issues the venue package for a plan's sittings at one venue: the approved papers' own
    /// copies, the candidates with their seats and photos, the staff; with `seal`, each paper sealed with a code of
    /// its own, released to the venue `releaseLead` before the sitting starts (or at once by `releaseKey`).
    public func issuePlanPackage(
        planID: String, venueID: String, seal: Bool, key: IssuerPrivateKey, issuerName: String, releaseLead: TimeInterval,
        workFolder: URL, now: Date = Date()
    ) async throws -> PlanPackage {
        let venue = try await venue(id: venueID)
        let sittings = try await sittings(planID: planID, venueID: venueID)
        guard !sittings.isEmpty else {
            throw OfficeError.invalid("plan_no_sittings", [], zh: "该考试计划在考点 \(venueID) 没有场次", en: "the plan has no sittings at venue \(venueID)")
        }
        var problems: [Message] = []
        var examSittings: [Sitting] = []
        var candidates: [String: Candidate] = [:]
        var seats: [SeatAssignment] = []
        var staff: [String: StaffMember] = [:]
        var questions: [Question.ID: Question] = [:]
        var papers: [Paper.ID: Paper] = [:]
        var skillPapers: [Paper.ID: SkillPaper] = [:]
        var photos: [String: Data] = [:]
        let venueRooms = try await rooms(venueID: venueID)
        for sitting in sittings {
            let snapshot = try await paperSnapshot(sitting.paperId)
            let paperID: Paper.ID
            if sitting.subject == .skill {
                // Skill papers travel plain: their tasks are announced by the preparation notices anyway.
                paperID = Paper.ID(sitting.paperId)
                if skillPapers[paperID] == nil {
                    let title = try await paper(sitting.paperId).summary.title
                    skillPapers[paperID] = SkillPaper(id: paperID, title: title, tasks: snapshot.tasks)
                }
            } else {
                guard let paper = snapshot.paper else { continue }
                paperID = paper.id
                papers[paper.id] = paper
                for question in snapshot.questions { questions[question.id] = question }
            }
            let detail = try await sittingDetail(sitting.id)
            if detail.candidates.isEmpty {
                problems.append(Message(zh: "场次 \(sitting.name) 没有考生", en: "sitting \(sitting.name) has no candidates"))
            }
            for candidate in detail.candidates {
                guard let room = candidate.room, let seat = candidate.seat else {
                    problems.append(Message(zh: "场次 \(sitting.name) 的考生 \(candidate.admissionNumber) 没有座位，请先编排座位", en: "candidate \(candidate.admissionNumber) of sitting \(sitting.name) has no seat: allocate seats first"))
                    continue
                }
                seats.append(SeatAssignment(sitting: Sitting.ID(sitting.id), admissionNumber: candidate.admissionNumber, room: Room.ID(room), seat: seat))
                if let existing = candidates[candidate.admissionNumber] {
                    if existing.name != candidate.name || existing.idNumber != candidate.idNumber {
                        problems.append(Message(zh: "准考证号 \(candidate.admissionNumber) 在不同场次中对应不同的人", en: "admission number \(candidate.admissionNumber) names different people in different sittings"))
                    }
                    continue
                }
                let photo = try await candidatePhoto(sittingID: sitting.id, admissionNumber: candidate.admissionNumber)
                let path: String
                if let photo, let kind = PhotoKind.recognise(photo) {
                    path = "photos/\(candidate.admissionNumber).\(kind == .jpeg ? "jpg" : kind.rawValue)"
                    photos[path] = photo
                } else {
                    path = "photos/\(candidate.admissionNumber).svg"
                    photos[path] = Data(Self.placeholderPortrait(name: candidate.name).utf8)
                }
                candidates[candidate.admissionNumber] = Candidate(
                    admissionNumber: candidate.admissionNumber, name: candidate.name, idNumber: candidate.idNumber, photo: path,
                    organisation: candidate.organisation)
            }
            for try await (username, name, role, rooms, hash) in try await client.query(
                "SELECT username, name, role, rooms, password_hash FROM plan_staff WHERE sitting_id = \(sitting.id)", logger: logger
            ).decode((String, String, String, [String], String).self) {
                var member = staff[username] ?? StaffMember(username: username, name: name, role: StaffRole(rawValue: role) ?? .invigilator, passwordHash: hash)
                member.rooms = Array(Set(member.rooms.map(\.rawValue) + rooms)).sorted().map { Room.ID($0) }
                staff[username] = member
            }
            examSittings.append(
                Sitting(
                    id: Sitting.ID(sitting.id), name: sitting.name, subject: sitting.subject, occupation: sitting.occupation,
                    level: sitting.level, paper: paperID, rooms: sitting.rooms.map { Room.ID($0) }, scheduledStart: sitting.scheduledStart,
                    durationMinutes: sitting.durationMinutes, lateEntryMinutes: sitting.lateEntryMinutes, instructions: sitting.instructions,
                    faceChecks: sitting.faceChecks))
        }
        guard problems.isEmpty else {
            throw OfficeError.invalid("package_not_ready", problems, zh: "考务包还不能生成", en: "the package cannot be built yet")
        }
        let packageID = FreshID.make("pkg")
        let contents = PackageContents(
            packageID: packageID, issuedAt: now, issuer: Manifest.Issuer(id: key.issuer, name: issuerName),
            venue: Venue(id: Venue.ID(venueID), name: venue.name), sittings: examSittings, rooms: venueRooms,
            candidates: candidates.values.sorted { $0.admissionNumber < $1.admissionNumber }, seats: seats,
            staff: staff.values.sorted { $0.username < $1.username }, questions: questions.values.sorted { $0.id < $1.id },
            papers: papers.values.sorted { $0.id < $1.id }, skillPapers: skillPapers.values.sorted { $0.id < $1.id }, photos: photos)
        var codes: [Sitting.ID: String] = [:]
        if seal { for sitting in examSittings where sitting.subject == .theory { codes[sitting.id] = SealCode.generate() } }
        try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: true)
        let file = workFolder.appendingPathComponent("\(packageID).zip")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try PackageWriter.write(contents, sealing: codes, signedWith: key, to: file)
        } catch let error as PackageError {
            throw OfficeError.invalid("package_invalid", [error.message], zh: "考务包未通过检查", en: "the package did not pass its checks")
        }
        let data = try Data(contentsOf: file)
        let sha = SyncDigest.hex(data)
        let ids = examSittings.map(\.id.rawValue)
        let paperIDs = sittings.map(\.paperId)
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO venue_package (venue_id, package_id, sha256, bytes, data, issued_at, plan_id, sittings)
                VALUES (\(venueID), \(packageID), \(sha), \(Int64(data.count)), \(ByteBuffer(bytes: data)), \(now), \(planID), \(ids))
                """, logger: logger)
            try await connection.query("DELETE FROM sitting_seal WHERE sitting_id = ANY(\(ids))", logger: logger)
            for sitting in examSittings {
                guard let code = codes[sitting.id] else { continue }
                try await connection.query(
                    """
                    INSERT INTO sitting_seal (sitting_id, venue_id, package_id, code, release_at)
                    VALUES (\(sitting.id.rawValue), \(venueID), \(packageID), \(code), \(sitting.scheduledStart.addingTimeInterval(-releaseLead)))
                    """, logger: logger)
            }
            // Issuing counts as a use of every question and task of a paper issued for the first time.
            for try await (paperID, ids) in try await connection.query(
                """
                UPDATE paper p SET state = 'issued' FROM paper_version v
                WHERE p.id = ANY(\(paperIDs)) AND p.state = 'approved' AND v.paper_id = p.id AND v.version = p.version
                RETURNING p.id, v.question_ids
                """, logger: logger
            ).decode((String, [String]).self) {
                try await connection.query(
                    "UPDATE bank_question SET usage_count = usage_count + 1 WHERE id = ANY(\(ids))", logger: logger)
                try await connection.query(
                    "UPDATE skill_task SET usage_count = usage_count + 1 WHERE id = ANY(\(ids))", logger: logger)
                try await connection.query(
                    "INSERT INTO paper_event (paper_id, at, by, state) VALUES (\(paperID), \(now), 'central', 'issued')", logger: logger)
            }
        }
        let seals = examSittings.compactMap { sitting in
            codes[sitting.id].map {
                PlanPackage.SealCodeView(sittingId: sitting.id.rawValue, code: $0, releaseAt: sitting.scheduledStart.addingTimeInterval(-releaseLead))
            }
        }
        return PlanPackage(packageId: packageID, sha256: sha, bytes: Int64(data.count), sittings: ids, seals: seals)
    }

    func candidatePhoto(sittingID: String, admissionNumber: String) async throws -> Data? {
        for try await photo in try await client.query(
            "SELECT photo FROM plan_candidate WHERE sitting_id = \(sittingID) AND admission_number = \(admissionNumber)", logger: logger
        ).decode(ByteBuffer?.self) {
            return photo.map { Data($0.readableBytesView) }
        }
        return nil
    }

    /// A grey portrait with the candidate's name, for candidates registered without a photo (face matching then
    /// cannot confirm them; the invigilator checks them in by their identity card).
    static func placeholderPortrait(name: String) -> String {
        let escaped = name.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320">\
            <rect width="240" height="320" fill="#d9dde3"/><circle cx="120" cy="120" r="56" fill="#aab2bd"/>\
            <rect x="44" y="196" width="152" height="90" rx="40" fill="#aab2bd"/>\
            <text x="120" y="306" font-size="22" text-anchor="middle" fill="#333">\(escaped)</text></svg>
            """
    }

    /// Releases a sitting's paper key now: the venue gets it at its next sync.
    public func releaseKey(sittingID: String, now: Date = Date()) async throws -> SittingDetail {
        var found = false
        for try await _ in try await client.query(
            "UPDATE sitting_seal SET released_at = COALESCE(released_at, \(now)) WHERE sitting_id = \(sittingID) RETURNING 1", logger: logger)
        {
            found = true
        }
        guard found else {
            throw OfficeError(.conflict, "sitting_not_sealed", zh: "场次 \(sittingID) 没有密封的试卷", en: "sitting \(sittingID) has no sealed paper")
        }
        return try await sittingDetail(sittingID)
    }

    /// The keys released for a venue: released by hand, or whose release time has come.
    public func releasedKeys(venueID: String, now: Date = Date()) async throws -> [ReleasedKey] {
        var keys: [ReleasedKey] = []
        for try await (package, sitting, code) in try await client.query(
            """
            SELECT package_id, sitting_id, code FROM sitting_seal
            WHERE venue_id = \(venueID) AND (released_at IS NOT NULL OR release_at <= \(now)) ORDER BY sitting_id
            """, logger: logger
        ).decode((String, String, String).self) {
            keys.append(ReleasedKey(packageId: package, sittingId: sitting, code: code))
        }
        return keys
    }

    /// A package's file for the office (download for USB).
    public func packageFileForOffice(venueID: String, packageID: String) async throws -> Data {
        for try await data in try await client.query(
            "SELECT data FROM venue_package WHERE venue_id = \(venueID) AND package_id = \(packageID)", logger: logger
        ).decode(ByteBuffer.self) {
            return Data(data.readableBytesView)
        }
        throw CentralError.packageUnknown(packageID)
    }
}

/// Orders candidates so that neighbours come from different organisations wherever the numbers allow: each next
/// seat goes to the organisation with most candidates left that is not the previous seat's.
enum SeatPlanner {
    static func spread(_ candidates: [(id: String, group: String)]) -> [String] {
        var groups: [String: [String]] = [:]
        var firstSeen: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() {
            groups[candidate.group, default: []].append(candidate.id)
            if firstSeen[candidate.group] == nil { firstSeen[candidate.group] = index }
        }
        var order: [String] = []
        var previous: String?
        while order.count < candidates.count {
            let next = groups.filter { !$0.value.isEmpty }.keys.sorted { a, b in
                let (ca, cb) = (groups[a]!.count, groups[b]!.count)
                return ca != cb ? ca > cb : firstSeen[a]! < firstSeen[b]!
            }
            guard let pick = next.first(where: { $0 != previous }) ?? next.first else { break }
            order.append(groups[pick]!.removeFirst())
            previous = pick
        }
        return order
    }
}
