import ExamCore
import Foundation

/// The checks on a package's content that no digest can make: references, seats, identities, questions.
/// Every problem is collected, so an issuer can fix them all at once.
enum ContentCheck {
    /// `sealed` lists the sittings whose paper travels sealed (version 2): their paper is not among the plain ones,
    /// and is checked when the venue opens it (`SealedPaper.open`).
    static func check(_ contents: PackageContents, sealed: [Manifest.Sealed] = []) throws(PackageError) -> [Paper.ID: AssembledPaper] {
        var problems: [PackageProblem] = []
        func add(_ code: String, _ zh: String, _ en: String) { problems.append(PackageProblem(code, zh: zh, en: en)) }

        if !isWellFormedIdentifier(contents.venue.id.rawValue) {
            add("venue_invalid", "考点编号 \(contents.venue.id) 格式不正确", "the venue id \(contents.venue.id) is not well formed")
        }

        // Rooms and seats.
        var rooms: [Room.ID: Set<String>] = [:]
        for room in contents.rooms {
            if !isWellFormedIdentifier(room.id.rawValue) {
                add("room_invalid", "考场编号 \(room.id) 格式不正确", "the room id \(room.id) is not well formed")
            }
            if rooms[room.id] != nil {
                add("room_duplicate", "考场 \(room.id) 出现两次", "the room \(room.id) is listed twice")
            }
            let seats = Set(room.seats)
            if seats.count != room.seats.count || room.seats.isEmpty || room.seats.contains(where: { $0.isEmpty }) {
                add("room_invalid", "考场 \(room.id) 的座位号为空或重复", "the room \(room.id) has empty or repeated seat labels")
            }
            rooms[room.id] = seats
        }

        // Questions, sub-questions included, must have unique ids across the package.
        var questions: [Question.ID: Question] = [:]
        var allQuestionIDs = Set<Question.ID>()
        for question in contents.questions {
            for id in [question.id] + question.subQuestions.map(\.id) where !allQuestionIDs.insert(id).inserted {
                add("question_duplicate", "试题编号 \(id) 出现两次", "the question id \(id) is used twice")
            }
            for problem in question.problems() { problems.append(PackageProblem("question_invalid", problem)) }
            questions[question.id] = question
        }

        // Papers.
        var papers: [Paper.ID: AssembledPaper] = [:]
        for paper in contents.papers {
            do throws(PaperError) {
                papers[paper.id] = try AssembledPaper(paper: paper, questions: questions)
            } catch {
                problems.append(PackageProblem(error.code, error.message))
            }
        }

        // Skill papers: their tasks and scoring items; no id shared with a theory paper.
        var skillPapers = Set<Paper.ID>()
        for paper in contents.skillPapers {
            if !isWellFormedIdentifier(paper.id.rawValue) {
                add("paper_invalid", "技能试卷编号 \(paper.id) 格式不正确", "the skill paper id \(paper.id) is not well formed")
            }
            if !skillPapers.insert(paper.id).inserted || contents.papers.contains(where: { $0.id == paper.id }) {
                add("paper_duplicate", "试卷 \(paper.id) 出现两次", "the paper \(paper.id) is listed twice")
            }
            for problem in paper.problems() { problems.append(PackageProblem("skill_paper_invalid", problem)) }
        }

        // Sittings.
        var sittings: [Sitting.ID: Sitting] = [:]
        for sitting in contents.sittings {
            if !isWellFormedIdentifier(sitting.id.rawValue) {
                add("sitting_invalid", "场次编号 \(sitting.id) 格式不正确", "the sitting id \(sitting.id) is not well formed")
            }
            if sittings[sitting.id] != nil {
                add("sitting_duplicate", "场次 \(sitting.id) 出现两次", "the sitting \(sitting.id) is listed twice")
            }
            sittings[sitting.id] = sitting
            if !(1...1440).contains(sitting.durationMinutes) {
                add("sitting_invalid", "场次 \(sitting.id) 的时长必须在 1 到 1440 分钟之间", "the sitting \(sitting.id) must last 1 to 1440 minutes")
            }
            if let late = sitting.lateEntryMinutes, late < 0 {
                add("sitting_invalid", "场次 \(sitting.id) 的迟到限制不能为负", "the sitting \(sitting.id) has a negative late-entry limit")
            }
            if sitting.rooms.isEmpty {
                add("sitting_invalid", "场次 \(sitting.id) 没有考场", "the sitting \(sitting.id) has no rooms")
            }
            for room in sitting.rooms where rooms[room] == nil {
                add("sitting_unknown_room", "场次 \(sitting.id) 使用了不存在的考场 \(room)", "the sitting \(sitting.id) uses the room \(room), which the package does not define")
            }
            if let checks = sitting.faceChecks {
                if !(0...FaceChecks.maxRechecks).contains(checks.rechecks) {
                    add("sitting_invalid", "场次 \(sitting.id) 的人脸抽检次数必须在 0 到 \(FaceChecks.maxRechecks) 之间", "the sitting \(sitting.id) must have 0 to \(FaceChecks.maxRechecks) face re-checks")
                }
                if sitting.subject != .theory && (checks.selfCheckIn || checks.rechecks > 0) {
                    add("sitting_invalid", "场次 \(sitting.id) 不是理论考试，终端人脸核验只用于机考", "the sitting \(sitting.id) is not a theory exam; face checks at the terminal apply to computer-based exams only")
                }
            }
            let sealedHere = sealed.contains { $0.sitting == sitting.id && $0.paper == sitting.paper }
            switch sitting.subject {
            case .theory:
                if contents.papers.contains(where: { $0.id == sitting.paper }) == false && !sealedHere {
                    add("sitting_missing_paper", "场次 \(sitting.id) 引用了不存在的试卷 \(sitting.paper)", "the sitting \(sitting.id) references the paper \(sitting.paper), which is not in the package")
                }
            case .skill:
                if !skillPapers.contains(sitting.paper) {
                    add("sitting_missing_paper", "技能操作场次 \(sitting.id) 引用了不存在的技能试卷 \(sitting.paper)", "the skill sitting \(sitting.id) references the skill paper \(sitting.paper), which is not in the package")
                }
                if sealedHere {
                    add("paper_seal_invalid", "技能操作场次 \(sitting.id) 的试卷不密封", "the paper of the skill sitting \(sitting.id) is not sealed")
                }
            }
        }

        // Sealed papers: one part per sitting, for that sitting's paper, which does not also travel in plain form.
        var sealedSittings = Set<Sitting.ID>()
        for entry in sealed {
            if !sealedSittings.insert(entry.sitting).inserted {
                add("paper_seal_invalid", "场次 \(entry.sitting) 的密封试卷出现两次", "the sealed paper of the sitting \(entry.sitting) is listed twice")
            }
            if let sitting = sittings[entry.sitting] {
                if sitting.paper != entry.paper {
                    add("paper_seal_invalid", "密封试卷 \(entry.paper) 不是场次 \(entry.sitting) 的试卷 \(sitting.paper)", "the sealed paper \(entry.paper) is not the paper \(sitting.paper) of the sitting \(entry.sitting)")
                }
            } else {
                add("paper_seal_invalid", "密封试卷引用了不存在的场次 \(entry.sitting)", "a sealed paper references the sitting \(entry.sitting), which the package does not define")
            }
            if entry.part != PartName.sealed(entry.sitting) {
                add("paper_seal_invalid", "场次 \(entry.sitting) 的密封部分应为 \(PartName.sealed(entry.sitting))", "the sealed part of the sitting \(entry.sitting) must be \(PartName.sealed(entry.sitting))")
            }
            if contents.papers.contains(where: { $0.id == entry.paper }) {
                add("paper_seal_invalid", "试卷 \(entry.paper) 既密封又以明文提供", "the paper \(entry.paper) is both sealed and in plain form")
            }
        }

        // Candidates.
        var candidates = Set<String>()
        for candidate in contents.candidates {
            let number = candidate.admissionNumber
            if !isWellFormedIdentifier(number) {
                add("candidate_invalid", "准考证号 \(number) 格式不正确", "the admission number \(number) is not well formed")
            }
            if !candidates.insert(number).inserted {
                add("candidate_duplicate", "准考证号 \(number) 出现两次", "the admission number \(number) is listed twice")
            }
            if candidate.name.trimmingCharacters(in: .whitespaces).isEmpty {
                add("candidate_invalid", "考生 \(number) 没有姓名", "the candidate \(number) has no name")
            }
            if !IdentityNumber.isValid(candidate.idNumber) {
                add("candidate_invalid_id_number", "考生 \(number) 的身份证件号码 \(candidate.idNumber) 无效（长度或校验位不对）", "the candidate \(number) has an invalid ID number \(candidate.idNumber) (wrong length or check digit)")
            }
            if let photo = contents.photos[candidate.photo] {
                if PhotoKind.recognise(photo) == nil || photo.count > PhotoKind.maxBytes {
                    add("candidate_photo_not_image", "考生 \(number) 的照片 \(candidate.photo) 不是 JPEG、PNG 或 SVG 图像，或超过 5 MB", "the photo \(candidate.photo) of candidate \(number) is not a JPEG, PNG or SVG image, or is over 5 MB")
                }
            } else {
                add("candidate_missing_photo", "考生 \(number) 的照片 \(candidate.photo) 不在数据包中", "the photo \(candidate.photo) of candidate \(number) is not in the package")
            }
        }

        // Seats: one seat per candidate per sitting, one candidate per seat.
        var seatOf: [String: SeatAssignment] = [:]
        var takenBy: [String: String] = [:]
        for seat in contents.seats {
            guard let sitting = sittings[seat.sitting] else {
                add("seat_unknown_sitting", "座位安排引用了不存在的场次 \(seat.sitting)", "a seat assignment references the sitting \(seat.sitting), which the package does not define")
                continue
            }
            if !candidates.contains(seat.admissionNumber) {
                add("seat_unknown_candidate", "座位安排引用了不存在的考生 \(seat.admissionNumber)", "a seat assignment references the candidate \(seat.admissionNumber), who is not in the package")
            }
            if !sitting.rooms.contains(seat.room) || rooms[seat.room]?.contains(seat.seat) != true {
                add("seat_unknown", "考生 \(seat.admissionNumber) 被安排在场次 \(seat.sitting) 中不存在的座位 \(seat.room)/\(seat.seat)", "the candidate \(seat.admissionNumber) is placed at \(seat.room)/\(seat.seat), which is not a seat of the sitting \(seat.sitting)")
            }
            let candidateKey = "\(seat.sitting.rawValue)|\(seat.admissionNumber)"
            if let earlier = seatOf[candidateKey] {
                add("candidate_in_two_seats", "考生 \(seat.admissionNumber) 在场次 \(seat.sitting) 中被安排了两个座位（\(earlier.room)/\(earlier.seat) 和 \(seat.room)/\(seat.seat)）", "the candidate \(seat.admissionNumber) has two seats in the sitting \(seat.sitting) (\(earlier.room)/\(earlier.seat) and \(seat.room)/\(seat.seat))")
            }
            seatOf[candidateKey] = seat
            let seatKey = "\(seat.sitting.rawValue)|\(seat.room.rawValue)|\(seat.seat)"
            if let other = takenBy[seatKey], other != seat.admissionNumber {
                add("seat_taken_twice", "场次 \(seat.sitting) 的座位 \(seat.room)/\(seat.seat) 同时安排给了 \(other) 和 \(seat.admissionNumber)", "the seat \(seat.room)/\(seat.seat) of the sitting \(seat.sitting) is given to both \(other) and \(seat.admissionNumber)")
            }
            takenBy[seatKey] = seat.admissionNumber
        }

        // Staff.
        var usernames = Set<String>()
        for member in contents.staff {
            if !isWellFormedIdentifier(member.username) || !usernames.insert(member.username).inserted {
                add("staff_invalid", "工作人员账号 \(member.username) 格式不正确或重复", "the staff account \(member.username) is not well formed or is listed twice")
            }
            if !PasswordHash.isWellFormed(member.passwordHash) {
                add("staff_invalid", "工作人员账号 \(member.username) 的密码散列格式不正确", "the staff account \(member.username) has a malformed password hash")
            }
            if let path = member.photo {
                if let photo = contents.photos[path] {
                    if PhotoKind.recognise(photo) == nil || photo.count > PhotoKind.maxBytes {
                        add("staff_photo_not_image", "工作人员 \(member.username) 的照片 \(path) 不是 JPEG、PNG 或 SVG 图像，或超过 5 MB", "the photo \(path) of the staff member \(member.username) is not a JPEG, PNG or SVG image, or is over 5 MB")
                    }
                } else {
                    add("staff_missing_photo", "工作人员 \(member.username) 的照片 \(path) 不在数据包中", "the photo \(path) of the staff member \(member.username) is not in the package")
                }
            }
            for room in member.rooms where rooms[room] == nil {
                add("staff_invalid", "工作人员 \(member.username) 被分配到不存在的考场 \(room)", "the staff member \(member.username) is assigned to the room \(room), which the package does not define")
            }
        }

        if !problems.isEmpty { throw PackageError(problems) }
        return papers
    }
}
