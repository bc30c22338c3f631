import ExamCore

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
    case sittingAlreadyStarted
    case attachmentTooLarge(limit: Int)
    case attachmentTypeNotAllowed(allowed: [String])
    case attachmentUnknown(String)
    case forbidden

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
        case .sittingAlreadyStarted: "sitting_already_started"
        case .attachmentTooLarge: "attachment_too_large"
        case .attachmentTypeNotAllowed: "attachment_type_not_allowed"
        case .attachmentUnknown: "attachment_unknown"
        case .forbidden: "forbidden"
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
        }
    }
}
