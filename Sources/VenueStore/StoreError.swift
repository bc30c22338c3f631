import ExamCore
import Foundation

/// Why the venue refused a request; each case has a stable code the API and the pages rely on.
public enum StoreError: CodedError, Equatable {
    case loginFailed
    case staffLoginFailed
    case noSitting
    case sessionUnknown
    case sessionExpired
    case sessionEnded(reason: String)
    case terminalMoved
    case rule(AttemptRuleError)
    case response(ResponseError)
    case unknownQuestion(String)
    case invalidRequest(String)
    case wrongVenue(expected: String, got: String)
    case packageConflict(Message)
    case notFound(String)
    case facePictureDeleted(at: Int64)
    case sittingAlreadyStarted
    case attachmentTooLarge(limit: Int)
    case attachmentTypeNotAllowed(allowed: [String])
    case attachmentUnknown(String)
    case forbidden
    case movePending
    case moveRejected
    case passwordChangeRequired
    case passwordTooWeak
    case staffExists(String)
    case roomNotRunning
    case roomNotPaused
    case roomOver
    case loginRateLimited(retryAfterSeconds: Int)
    case moveNotPending
    case markedAbsent
    /// The candidate has no face template: the code says why (`face_enrolment_pending`, `face_not_found`, …).
    case faceNotEnrolled(String)
    /// The candidate's last face check failed: only an override with a reason checks them in.
    case faceOverrideRequired(verificationID: String)
    /// The sitting asks the candidate to check in by face at the terminal before the paper opens.
    case faceCheckInRequired
    /// The terminal sent a face check the sitting does not ask for, or one that is not due.
    case faceCheckNotDue
    /// The candidate tried self check-in too often: the invigilator checks them at the desk.
    case faceCheckAttemptsUsed(Int)
    case alreadyCheckedIn
    /// The sitting's paper arrived sealed and has not been opened with its code yet.
    case paperSealed(Sitting.ID)
    /// The examiner handed in this scoring sheet; it no longer changes.
    case skillSheetSubmitted(at: Int64)
    /// Scores that do not fit the scoring sheet, each said.
    case skillScoreInvalid([Message])

    /// The day of a moment (Unix milliseconds), in the appliance's time zone.
    static func day(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = .current
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    public var code: String {
        switch self {
        case .loginFailed: "login_failed"
        case .staffLoginFailed: "staff_login_failed"
        case .noSitting: "no_sitting"
        case .sessionUnknown: "session_unknown"
        case .sessionExpired: "session_expired"
        case .sessionEnded: "session_ended"
        case .terminalMoved: "terminal_moved"
        case .rule(let error): error.code
        case .response(let error): error.code
        case .unknownQuestion: "answer_unknown_question"
        case .invalidRequest: "invalid_request"
        case .wrongVenue: "package_wrong_venue"
        case .packageConflict: "package_conflicts_with_started_sitting"
        case .notFound: "not_found"
        case .facePictureDeleted: "face_picture_deleted"
        case .sittingAlreadyStarted: "sitting_already_started"
        case .attachmentTooLarge: "attachment_too_large"
        case .attachmentTypeNotAllowed: "attachment_type_not_allowed"
        case .attachmentUnknown: "attachment_unknown"
        case .forbidden: "forbidden"
        case .movePending: "move_pending"
        case .moveRejected: "move_rejected"
        case .passwordChangeRequired: "password_change_required"
        case .passwordTooWeak: "password_too_weak"
        case .staffExists: "staff_exists"
        case .roomNotRunning: "room_not_running"
        case .roomNotPaused: "room_not_paused"
        case .roomOver: "room_over"
        case .loginRateLimited: "login_rate_limited"
        case .moveNotPending: "move_not_pending"
        case .markedAbsent: "candidate_marked_absent"
        case .faceNotEnrolled: "face_not_enrolled"
        case .faceOverrideRequired: "face_override_required"
        case .faceCheckInRequired: "face_check_in_required"
        case .faceCheckNotDue: "face_check_not_due"
        case .faceCheckAttemptsUsed: "face_check_attempts_used"
        case .alreadyCheckedIn: "already_checked_in"
        case .paperSealed: "paper_sealed"
        case .skillSheetSubmitted: "skill_sheet_submitted"
        case .skillScoreInvalid: "skill_score_invalid"
        }
    }

    public var message: Message {
        switch self {
        case .loginFailed:
            Message(zh: "准考证号或身份证号不正确", en: "the admission number or the ID number is not right")
        case .staffLoginFailed:
            Message(zh: "用户名或密码不正确", en: "the user name or the password is not right")
        case .noSitting:
            Message(zh: "您在本考点今天没有待考的场次，请联系监考员", en: "you have no sitting at this venue that is still to come; ask the invigilator")
        case .sessionUnknown:
            Message(zh: "请先登录", en: "please log in")
        case .sessionExpired:
            Message(zh: "登录已过期，请重新登录", en: "your session has expired; please log in again")
        case .sessionEnded:
            Message(zh: "已退出登录，请重新登录", en: "you have logged out; please log in again")
        case .terminalMoved:
            Message(zh: "您已在另一台终端登录，本终端已停止作答。如有疑问请联系监考员", en: "you have logged in on another terminal; this one no longer takes answers. Ask the invigilator if this is unexpected")
        case .rule(let error): error.message
        case .response(let error): error.message
        case .unknownQuestion(let id):
            Message(zh: "试卷中没有试题 \(id)", en: "the paper has no question \(id)")
        case .invalidRequest(let detail):
            Message(zh: "请求格式不正确：\(detail)", en: "the request is not valid: \(detail)")
        case .wrongVenue(let expected, let got):
            Message(zh: "数据包属于考点 \(got)，本设备是考点 \(expected)", en: "the package is for the venue \(got); this appliance serves the venue \(expected)")
        case .packageConflict(let message): message
        case .notFound(let what):
            Message(zh: "找不到\(what)", en: "\(what) was not found")
        case .facePictureDeleted(let at):
            Message(
                zh: "该核验照片已于 \(Self.day(at)) 按保存期限删除（核验记录仍保留）",
                en: "this verification's picture was deleted at \(Self.day(at)) after its keeping time (the record stays)")
        case .sittingAlreadyStarted:
            Message(zh: "该场次已经开考", en: "the sitting has already started")
        case .attachmentTooLarge(let limit):
            Message(zh: "附件超过 \(limit / 1024 / 1024) MB 的上限", en: "the attachment is larger than the \(limit / 1024 / 1024) MB limit")
        case .attachmentTypeNotAllowed(let allowed):
            Message(zh: "附件类型不被接受，只接受：\(allowed.joined(separator: "、"))（按文件内容识别）", en: "the attachment type is not accepted; accepted: \(allowed.joined(separator: ", ")) (recognised by content)")
        case .attachmentUnknown(let id):
            Message(zh: "找不到附件 \(id)，请重新上传", en: "the attachment \(id) is unknown; upload it again")
        case .forbidden:
            Message(zh: "您没有执行此操作的权限", en: "you are not allowed to do this")
        case .movePending:
            Message(zh: "换机申请已提交，请等待监考员确认", en: "the move to this terminal waits for the invigilator's approval")
        case .moveRejected:
            Message(zh: "监考员没有同意在本终端继续作答，请联系监考员", en: "the invigilator did not approve continuing on this terminal; ask the invigilator")
        case .passwordChangeRequired:
            Message(zh: "请先修改初始密码", en: "please change your initial password first")
        case .passwordTooWeak:
            Message(zh: "新密码至少 10 个字符，须同时包含字母和数字，且不能与用户名相同", en: "the new password needs at least 10 characters with letters and digits, and must differ from the user name")
        case .staffExists(let username):
            Message(zh: "账号 \(username) 已存在", en: "the account \(username) already exists")
        case .roomNotRunning:
            Message(zh: "本考场当前不在考试中，不能暂停", en: "the room is not running, so it cannot be paused")
        case .roomNotPaused:
            Message(zh: "本考场没有暂停", en: "the room is not paused")
        case .roomOver:
            Message(zh: "本考场考试已结束", en: "the exam in this room is over")
        case .loginRateLimited(let seconds):
            Message(zh: "登录失败次数过多，请 \(seconds) 秒后再试", en: "too many failed logins; try again in \(seconds) seconds")
        case .moveNotPending:
            Message(zh: "该换机申请已处理", en: "this move request has already been decided")
        case .markedAbsent:
            Message(zh: "您已被监考员登记为缺考，如有疑问请联系监考员", en: "the invigilator has marked you absent; ask the invigilator")
        case .faceOverrideRequired:
            Message(zh: "该考生人脸核验未通过，请重新核验，或填写原因后人工放行", en: "the candidate's face check failed: check again, or override it with a reason")
        case .faceCheckInRequired:
            Message(zh: "开考前请先完成人脸核验签到；无法核验时请举手联系监考员", en: "check in by face before the paper opens; if it does not work, raise your hand for the invigilator")
        case .faceCheckNotDue:
            Message(zh: "现在不需要人脸核验", en: "no face check is due now")
        case .faceCheckAttemptsUsed(let count):
            Message(zh: "人脸核验已尝试 \(count) 次未通过，请举手，由监考员人工核验", en: "the face check failed \(count) times: raise your hand, the invigilator will check you in")
        case .alreadyCheckedIn:
            Message(zh: "已签到，无需再次核验", en: "already checked in; no further check is needed")
        case .skillSheetSubmitted(let at):
            Message(
                zh: "该评分表已于 \(Self.day(at)) 提交，不能再修改；如需更正，请联系考点管理员记录情况",
                en: "this scoring sheet was handed in on \(Self.day(at)) and no longer changes; for a correction, ask the venue admin to record it")
        case .skillScoreInvalid(let problems):
            Message(zh: "评分无效：" + problems.map(\.zh).joined(separator: "；"), en: "the scores cannot be taken: " + problems.map(\.en).joined(separator: "; "))
        case .paperSealed(let sitting):
            Message(
                zh: "试卷尚未启封：场次 \(sitting) 的试卷仍处于密封状态，须由中心下发密钥或由考点管理员输入启封码后才能开考",
                en: "the paper is still sealed: the paper of the sitting \(sitting) opens only when the central office releases its key or the venue admin enters the code (启封码)")
        case .faceNotEnrolled("no_photo"):
            Message(zh: "没有登记照片，无法人脸核验，请联系考点管理员", en: "there is no registered photo to match against; ask the venue admin")
        case .faceNotEnrolled(let why):
            why == "face_enrolment_pending"
                ? Message(zh: "该考生的照片尚未建立人脸模板，请稍候再试或人工核对", en: "the candidate's photo has no face template yet; try again shortly or check by eye")
                : Message(zh: "该考生的登记照片无法用于人脸核验（\(why)），请人工核对照片", en: "the candidate's registered photo cannot be used for face matching (\(why)); check by eye")
        }
    }
}
