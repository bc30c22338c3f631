import ExamCore
import Foundation

/// Where the server's clock stands for one candidate. Terminals show time from this, never from their own clock.
public struct ClockView: Codable, Sendable, Hashable {
    public var serverTime: Int64
    /// `waiting`, `running` or `over`.
    public var phase: String
    public var startsAt: Int64
    public var endsAt: Int64?
    public var remainingMs: Int64?
    public var pausedSince: Int64?

    init(_ phase: SittingPhase, now: Date) {
        serverTime = now.millis
        switch phase {
        case .waiting(let startsAt):
            self.phase = "waiting"
            self.startsAt = startsAt.millis
        case .running(let startedAt, let endsAt):
            self.phase = "running"
            self.startsAt = startedAt.millis
            self.endsAt = endsAt.millis
            self.remainingMs = max(0, endsAt.millis - now.millis)
        case .paused(let startedAt, let since, let remaining):
            self.phase = "paused"
            self.startsAt = startedAt.millis
            self.remainingMs = Int64((remaining * 1000).rounded())
            self.endsAt = now.millis + (self.remainingMs ?? 0)
            self.pausedSince = since.millis
        case .over(let endedAt):
            self.phase = "over"
            self.startsAt = endedAt.millis
            self.endsAt = endedAt.millis
            self.remainingMs = 0
        }
    }
}

/// Everything a terminal shows around the paper: who, where, which sitting, and the clock.
public struct AttemptState: Codable, Sendable {
    public struct CandidateView: Codable, Sendable {
        public var admissionNumber: String
        public var name: String
        public var organisation: String?
        public var idNumberMasked: String
    }
    public struct SeatView: Codable, Sendable {
        public var roomId: String
        public var roomName: String
        public var seat: String
    }
    public struct SittingView: Codable, Sendable {
        public var id: String
        public var name: String
        public var occupation: String?
        public var level: String?
        public var instructions: String
        public var scheduledStart: Int64
        public var durationMinutes: Int
    }

    public var attemptId: String
    public var status: String
    public var submittedAt: Int64?
    public var submittedBy: String?
    public var candidate: CandidateView
    public var seat: SeatView
    public var sitting: SittingView
    public var clock: ClockView
    public var answeredCount: Int
    /// What the sitting asks of the terminal's camera, and where this candidate stands; nil when it asks nothing.
    public var face: FaceState?

    public struct FaceState: Codable, Sendable {
        /// Check in by face at the terminal before the paper opens.
        public var selfCheckIn: Bool
        /// Random re-checks during the exam (the number, so the terminal can tell the candidate; not the moments).
        public var rechecks: Int
        /// Checked in, by the terminal or at the desk.
        public var checkedIn: Bool
        /// Self check-in tries left before only the invigilator can check the candidate in.
        public var triesLeft: Int
    }
}

/// A saved answer as the terminal gets it back.
public struct SavedAnswer: Codable, Sendable, Hashable {
    public var questionId: String
    public var response: AnswerPayload?
    public var flagged: Bool
    public var seq: Int64
}

/// The candidate's paper in their order, with every answer saved so far.
public struct AttemptPaper: Codable, Sendable {
    public var attemptId: String
    public var status: String
    public var paper: CandidatePaper
    public var answers: [SavedAnswer]
    public var clock: ClockView
}

/// One change sent by a terminal. `changeId` is chosen by the terminal before the first send, so a re-send is
/// recognised; `clientSeq` orders the changes of one terminal session.
public struct AnswerChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case answer, flag
    }
    public var changeId: String
    public var questionId: String
    public var kind: Kind
    /// The answer (kind `answer`); null clears it.
    public var response: AnswerPayload?
    /// The review flag (kind `flag`).
    public var flagged: Bool?
    public var clientSeq: Int64
    public var clientTime: Int64?

    public init(
        changeId: String, questionId: String, kind: Kind = .answer, response: AnswerPayload? = nil, flagged: Bool? = nil,
        clientSeq: Int64, clientTime: Int64? = nil
    ) {
        self.changeId = changeId
        self.questionId = questionId
        self.kind = kind
        self.response = response
        self.flagged = flagged
        self.clientSeq = clientSeq
        self.clientTime = clientTime
    }
}

/// The server's answer to an autosave: these changes are on disk.
public struct SaveReceipt: Codable, Sendable {
    public var acknowledged: [String]
    public var clock: ClockView
}

/// Things a terminal reports about how the page was used.
public enum AttemptEventKind: String, Codable, Sendable, CaseIterable {
    case blur, focus, visibilityHidden, visibilityVisible, fullscreenExit, fullscreenEnter
    case copy, paste, cut, contextMenu, pageLeave, offline, online
    /// Recorded by the server, not accepted from terminals.
    case terminalMoved, login, moveRequested
}

public struct AttemptEventInput: Codable, Sendable, Hashable {
    public var eventId: String
    public var kind: AttemptEventKind
    public var clientTime: Int64?
    public var detail: String?
    public init(eventId: String, kind: AttemptEventKind, clientTime: Int64? = nil, detail: String? = nil) {
        self.eventId = eventId
        self.kind = kind
        self.clientTime = clientTime
        self.detail = detail
    }
}

/// The outcome of a submission.
public struct SubmitResult: Codable, Sendable {
    public var attemptId: String
    public var status: String
    public var submittedAt: Int64
    public var submittedBy: String
    public var unanswered: Int
}

/// Whether a terminal-chosen id (change, event, terminal) is acceptable: 1 to 64 letters, digits, '-' or '_'.
func isClientID(_ value: String) -> Bool {
    isWellFormedIdentifier(value) && !value.contains(".")
}

/// A stored canonical answer read back in its wire form.
func storedBody(_ json: String) -> AnswerPayload? {
    try? JSONDecoder().decode(AnswerPayload.self, from: Data(json.utf8))
}
