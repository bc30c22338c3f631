import ExamCore
import Foundation
import VenuePackage

/// Builds the demo exam as a real venue package, so the demo arrives through the same import as real content:
/// one venue, rooms of 30 seats, candidates with photos, one theory sitting and a paper with every question type.
public struct DemoPackage: Sendable {
    public static let issuer = Manifest.Issuer(id: "kaodian-demo-central", name: "考点演示中心（Kaodian demo central office）")
    public static let venue = Venue(id: "KD-DEMO-01", name: "城东职业技能等级认定考点（演示）")
    public static let sittingID: Sitting.ID = "S-DEMO-THEORY"
    /// The demo's skill sitting (with `skillSitting`): the same candidates, the same rooms, after the theory sitting.
    public static let skillSittingID: Sitting.ID = "S-DEMO-SKILL"
    public static func examinerUsername(room: Int) -> String { "examiner\(room)" }

    /// Demo staff accounts: user name, password, role, rooms.
    public static let adminAccount = (username: "admin", password: "kaodian-admin")
    public static let invigilatorPassword = "kaodian-demo"
    public static func invigilatorUsername(room: Int) -> String { "invigilator\(room)" }

    public var candidateCount = 60
    public var seatsPerRoom = 30
    public var startsAt: Date
    public var durationMinutes = 90
    /// `shared/face` (or its `lfw-dev` folder); without it, candidates get generated portraits.
    public var facePhotos: URL?
    /// Face checks at the terminal (self check-in, random re-checks); none unless asked for.
    public var faceChecks: FaceChecks?
    /// A skill sitting too (two tasks scored by the rooms' examiners at /examiner/), 30 minutes after the theory one.
    public var skillSitting = false
    /// Lower only in tests: hashing demo passwords at full strength costs a few hundred milliseconds each.
    public var passwordIterations = PasswordHash.defaultIterations

    public init(startsAt: Date, candidateCount: Int = 60, facePhotos: URL? = nil) {
        self.startsAt = startsAt
        self.candidateCount = candidateCount
        self.facePhotos = facePhotos
    }

    public var roomCount: Int { max(1, (candidateCount + seatsPerRoom - 1) / seatsPerRoom) }

    public func contents() -> PackageContents {
        let rooms = (1...max(2, roomCount)).map { index in
            Room(
                id: Room.ID(String(format: "R%02d", index)), name: "第\(Self.chineseNumber(index))考场",
                seats: (1...seatsPerRoom).map { String(format: "%02d", $0) })
        }
        let sitting = Sitting(
            id: Self.sittingID, name: "电工（四级/中级工）理论知识考试", subject: .theory, occupation: "电工", level: "四级/中级工",
            paper: DemoQuestions.paperID, rooms: rooms.map(\.id), scheduledStart: startsAt,
            durationMinutes: durationMinutes, lateEntryMinutes: 30,
            instructions: Self.instructions + (faceChecks.map(Self.faceInstructions) ?? ""), faceChecks: faceChecks)
        // Candidates take the first real photos, staff the next ones (so staff can sign in by face).
        let faces = Self.facePhotoFiles(in: facePhotos, count: candidateCount + 1 + rooms.count * (skillSitting ? 2 : 1))
        var candidates: [Candidate] = []
        var seats: [SeatAssignment] = []
        var photos: [String: Data] = [:]
        for index in 0..<candidateCount {
            let number = String(format: "KD2611%05d", index + 1)
            let name = Self.name(index)
            let room = rooms[index / seatsPerRoom]
            let photoPath: String
            if index < faces.count, let data = try? Data(contentsOf: faces[index]) {
                photoPath = "photos/\(number).jpg"
                photos[photoPath] = data
            } else {
                photoPath = "photos/\(number).svg"
                photos[photoPath] = Data(Self.portrait(name: name, index: index).utf8)
            }
            candidates.append(
                Candidate(
                    admissionNumber: number, name: name, idNumber: Self.idNumber(index), photo: photoPath,
                    organisation: Self.organisations[index % Self.organisations.count]))
            seats.append(
                SeatAssignment(sitting: sitting.id, admissionNumber: number, room: room.id, seat: room.seats[index % seatsPerRoom]))
        }
        var staffFaces = faces.dropFirst(candidateCount).makeIterator()
        func staffPhoto(_ username: String) -> String? {
            guard let file = staffFaces.next(), let data = try? Data(contentsOf: file) else { return nil }
            photos["photos/staff-\(username).jpg"] = data
            return "photos/staff-\(username).jpg"
        }
        var staff = [
            StaffMember(
                username: Self.adminAccount.username, name: "考点管理员", role: .admin,
                passwordHash: PasswordHash.make(Self.adminAccount.password, iterations: passwordIterations),
                photo: staffPhoto(Self.adminAccount.username))
        ]
        let invigilatorHash = PasswordHash.make(Self.invigilatorPassword, iterations: passwordIterations)
        for (index, room) in rooms.enumerated() {
            let username = Self.invigilatorUsername(room: index + 1)
            staff.append(
                StaffMember(
                    username: username, name: "\(room.name)监考员", role: .invigilator,
                    passwordHash: invigilatorHash, rooms: [room.id], photo: staffPhoto(username)))
        }
        var sittings = [sitting]
        var skillPapers: [SkillPaper] = []
        if skillSitting {
            let paper = Self.skillPaper()
            skillPapers = [paper]
            sittings.append(
                Sitting(
                    id: Self.skillSittingID, name: "电工（四级/中级工）技能操作考核", subject: .skill, occupation: "电工", level: "四级/中级工",
                    paper: paper.id, rooms: rooms.map(\.id), scheduledStart: startsAt.addingTimeInterval(Double(durationMinutes + 30) * 60),
                    durationMinutes: 150, instructions: "1. 按考生准备通知单携带工具，穿绝缘鞋。\n2. 在指定工位操作，通电前须经考评员同意。"))
            seats += seats.map { SeatAssignment(sitting: Self.skillSittingID, admissionNumber: $0.admissionNumber, room: $0.room, seat: $0.seat) }
            for (index, room) in rooms.enumerated() {
                staff.append(
                    StaffMember(
                        username: Self.examinerUsername(room: index + 1), name: "\(room.name)考评员", role: .examiner,
                        passwordHash: invigilatorHash, rooms: [room.id], photo: staffPhoto(Self.examinerUsername(room: index + 1))))
            }
        }
        return PackageContents(
            issuedAt: Date(), issuer: Self.issuer, venue: Self.venue, sittings: sittings, rooms: rooms,
            candidates: candidates, seats: seats, staff: staff, questions: DemoQuestions.questions(),
            papers: [DemoQuestions.paper()], skillPapers: skillPapers, photos: photos)
    }

    /// The demo's skill paper: two tasks of the electrician's level-4 practical exam with their scoring items.
    static func skillPaper() -> SkillPaper {
        SkillPaper(
            id: "P-DEMO-ELEC4-SKILL", title: "电工（四级/中级工）技能操作考核 演示试卷",
            tasks: [
                SkillTask(
                    id: "T-DEMO-MOTOR", title: "三相异步电动机正反转控制线路安装与调试",
                    description: "按给定电路图，在网孔板上完成三相异步电动机接触器联锁正反转控制线路的安装、接线，经考评员检查同意后通电试车。",
                    durationMinutes: 90,
                    scoringItems: [
                        ScoringItem(id: "1", description: "元件选择与检查", points: 10, deduction: "元件选错、漏检每个扣 2 分"),
                        ScoringItem(id: "2", description: "按图接线，走线整齐，接点牢固", points: 40, deduction: "接线错误每处扣 5 分，走线不整齐扣 5 分"),
                        ScoringItem(id: "3", description: "通电试车一次成功", points: 40, deduction: "一次不成功扣 20 分，二次不成功本项不得分"),
                        ScoringItem(id: "4", description: "安全文明生产", points: 10, deduction: "违反安全规程每次扣 5 分"),
                    ],
                    candidatePreparation: [PreparationItem(name: "电工常用工具", quantity: "1 套", note: "自备")],
                    roomPreparation: [
                        PreparationItem(name: "三相异步电动机", specification: "Y112M-4 4 kW", quantity: "1 台"),
                        PreparationItem(name: "交流接触器", specification: "CJX2-1810", quantity: "2 只"),
                    ]),
                SkillTask(
                    id: "T-DEMO-LIGHT", title: "照明电路的安装与故障排除",
                    description: "安装双控照明电路，并查找、排除考评员设置的两处故障。", durationMinutes: 60,
                    scoringItems: [
                        ScoringItem(id: "1", description: "按图安装双控照明电路", points: 60, deduction: "每错一处扣 10 分"),
                        ScoringItem(id: "2", description: "查找并排除设定故障", points: 40, deduction: "每个故障未排除扣 20 分"),
                    ],
                    candidatePreparation: [PreparationItem(name: "万用表", specification: "数字式", quantity: "1 块")],
                    roomPreparation: [PreparationItem(name: "照明实训板", quantity: "1 块", note: "含双控开关")]),
            ])
    }

    /// The demo candidate at a position: admission number and ID number, for printing and for tests.
    public static func candidateCredentials(_ index: Int) -> (admissionNumber: String, idNumber: String, name: String) {
        (String(format: "KD2611%05d", index + 1), idNumber(index), name(index))
    }

    static let instructions = """
        1. 考生凭准考证号和身份证号登录，核对屏幕上的姓名、照片和座位号。
        2. 开考时间以考点服务器时间为准，倒计时结束时系统自动交卷。
        3. 每道题的答案在作答后约一秒内自动保存，页面上方显示“已保存”。网络中断时答案暂存在本机，恢复后自动补传。
        4. 如终端故障，请举手示意监考员，换到其他终端重新登录即可继续作答，已保存的答案和剩余时间不受影响。
        5. 考试期间请勿切换窗口、退出全屏或复制粘贴，系统会记录这些操作。
        6. 交卷前请检查未作答的题目；交卷后不能再修改。
        """

    static func faceInstructions(_ checks: FaceChecks) -> String {
        var lines: [String] = []
        if checks.selfCheckIn { lines.append("7. 开考前请在本终端完成人脸核验签到：正对摄像头，点击“拍照核验”。多次未通过请举手联系监考员。") }
        if checks.rechecks > 0 {
            lines.append("\(checks.selfCheckIn ? 8 : 7). 考试期间终端摄像头会在随机时刻拍照核验身份（共 \(checks.rechecks) 次），请保持面部在画面内，无需任何操作。")
        }
        return lines.isEmpty ? "" : "\n" + lines.joined(separator: "\n")
    }

    static let organisations = ["城东供电所", "市机电技工学校", "华强电气安装公司", "个人报名"]

    static func name(_ index: Int) -> String {
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
        let given = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "建华", "志强", "晓东", "海燕", "丽华", "国庆"]
        return String(surnames[index % surnames.count]) + given[(index * 7 + index / surnames.count) % given.count]
    }

    static func idNumber(_ index: Int) -> String {
        let region = ["110105", "310104", "440305", "510107", "330106"][index % 5]
        let year = 1975 + index % 25
        let month = 1 + index % 12
        let day = 1 + index % 28
        let body = region + String(format: "%04d%02d%02d%03d", year, month, day, (index * 37) % 1000)
        return body + String(IdentityNumber.checkDigit(body)!)
    }

    static func chineseNumber(_ value: Int) -> String {
        let digits = Array("零一二三四五六七八九")
        if value < 10 { return String(digits[value]) }
        if value < 20 { return "十" + (value == 10 ? "" : String(digits[value - 10])) }
        if value < 100 { return String(digits[value / 10]) + "十" + (value % 10 == 0 ? "" : String(digits[value % 10])) }
        return String(value)
    }

    /// Photos of people with at least two photos in `lfw-dev`, their first photo each, in name order
    /// (the others stay free for face-matching tests).
    public static func facePhotoFiles(in folder: URL?, count: Int) -> [URL] {
        guard let folder else { return [] }
        let fm = FileManager.default
        let lfw = fm.fileExists(atPath: folder.appendingPathComponent("lfw-dev").path) ? folder.appendingPathComponent("lfw-dev") : folder
        guard let people = try? fm.contentsOfDirectory(atPath: lfw.path) else { return [] }
        var files: [URL] = []
        for person in people.sorted() where files.count < count {
            let dir = lfw.appendingPathComponent(person)
            guard let photos = try? fm.contentsOfDirectory(atPath: dir.path).filter({ $0.hasSuffix(".jpg") }).sorted(),
                photos.count >= 2
            else { continue }
            files.append(dir.appendingPathComponent(photos[0]))
        }
        return files
    }

    /// A generated portrait: a coloured card with the candidate's family name, for machines without real photos.
    static func portrait(name: String, index: Int) -> String {
        let colours = ["#3b6ea5", "#a5573b", "#3ba56e", "#7a3ba5", "#a59a3b", "#3b9aa5"]
        let colour = colours[index % colours.count]
        let initial = String(name.prefix(1))
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320">\
            <rect width="240" height="320" fill="\(colour)"/>\
            <circle cx="120" cy="120" r="62" fill="#ffffff" fill-opacity="0.85"/>\
            <rect x="40" y="200" width="160" height="120" rx="70" fill="#ffffff" fill-opacity="0.85"/>\
            <text x="120" y="142" font-size="64" text-anchor="middle" fill="\(colour)" font-family="sans-serif">\(initial)</text>\
            </svg>
            """
    }
}
