import Foundation

/// Where a candidate's time stands, by the server's clock.
public enum SittingPhase: Sendable, Hashable {
    case waiting(startsAt: Date)
    case running(startedAt: Date, endsAt: Date)
    /// The invigilator paused the room: the clock stands still, so the end moves on with the pause.
    case paused(startedAt: Date, since: Date, remaining: TimeInterval)
    case over(endedAt: Date)
}

/// The server-owned clock of a sitting in one room. A room starts by itself at the sitting's scheduled time, or
/// earlier when an invigilator starts it; each candidate's end is the start plus the duration plus every extension
/// (sitting, room, candidate) plus the time the room stood paused.
public struct SittingClock: Sendable, Hashable {
    public var scheduledStart: Date
    public var duration: TimeInterval
    /// When it was started by hand (or recorded as started by the clock); nil until then.
    public var startedAt: Date?
    /// Extra time for everybody in the sitting.
    public var sittingExtension: TimeInterval
    /// When an invigilator ended the sitting early; nil if not.
    public var closedAt: Date?
    /// Time the room stood paused, pauses that have ended.
    public var pausedSeconds: TimeInterval
    /// Since when the room is paused; nil while it is not.
    public var pausedSince: Date?

    public init(
        scheduledStart: Date, duration: TimeInterval, startedAt: Date? = nil,
        sittingExtension: TimeInterval = 0, closedAt: Date? = nil, pausedSeconds: TimeInterval = 0, pausedSince: Date? = nil
    ) {
        self.scheduledStart = scheduledStart
        self.duration = duration
        self.startedAt = startedAt
        self.sittingExtension = sittingExtension
        self.closedAt = closedAt
        self.pausedSeconds = pausedSeconds
        self.pausedSince = pausedSince
    }

    /// All the time the room has stood paused up to `now`.
    public func pausedTotal(now: Date) -> TimeInterval {
        pausedSeconds + (pausedSince.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    public func start(now: Date) -> Date? {
        if let startedAt { return startedAt }
        return now >= scheduledStart ? scheduledStart : nil
    }

    /// The end for one candidate, given their own extension; nil while the sitting has not started.
    public func end(attemptExtension: TimeInterval, now: Date) -> Date? {
        guard let start = start(now: now) else { return nil }
        let end = start.addingTimeInterval(duration + sittingExtension + attemptExtension + pausedTotal(now: now))
        if let closedAt, closedAt < end { return closedAt }
        return end
    }

    public func phase(attemptExtension: TimeInterval = 0, now: Date) -> SittingPhase {
        guard let start = start(now: now), let end = end(attemptExtension: attemptExtension, now: now) else {
            return .waiting(startsAt: scheduledStart)
        }
        guard now < end else { return .over(endedAt: end) }
        if let pausedSince { return .paused(startedAt: start, since: pausedSince, remaining: end.timeIntervalSince(now)) }
        return .running(startedAt: start, endsAt: end)
    }
}

/// Where an attempt stands.
public enum AttemptStatus: String, Codable, Sendable {
    /// Logged in, not yet answering (the sitting has not started, or no answer yet).
    case waiting
    case answering
    /// Read-only from now on.
    case submitted
}

/// Who ended an attempt.
public enum SubmissionKind: String, Codable, Sendable {
    case candidate
    /// The server submitted it when time ran out.
    case timeUp
    /// An invigilator submitted it (force-submit or end of sitting).
    case invigilator
}

/// Why an attempt does not take a change now.
public enum AttemptRuleError: CodedError, Equatable {
    case notStarted(startsAt: Date)
    case timeIsUp(endedAt: Date)
    case alreadySubmitted
    case lateEntryClosed
    case paused

    public var code: String {
        switch self {
        case .notStarted: "sitting_not_started"
        case .timeIsUp: "time_is_up"
        case .alreadySubmitted: "attempt_submitted"
        case .lateEntryClosed: "late_entry_closed"
        case .paused: "room_paused"
        }
    }

    public var message: Message {
        switch self {
        case .notStarted:
            Message(zh: "考试尚未开始，请等待开考", en: "the sitting has not started yet")
        case .timeIsUp:
            Message(zh: "考试时间已到，不再接受作答", en: "time is up; no more answers are accepted")
        case .alreadySubmitted:
            Message(zh: "试卷已提交，不能再修改", en: "the paper has been submitted and can no longer change")
        case .lateEntryClosed:
            Message(zh: "开考已超过规定时间，不能再入场", en: "the sitting started too long ago to enter")
        case .paused:
            Message(zh: "监考员已暂停考试，暂停期间不接受作答，计时已停止", en: "the invigilator has paused the exam; answers wait until it continues, and the clock is stopped")
        }
    }

    /// Whether a change received at `now` may be written to an attempt with this status.
    public static func checkAcceptsChange(status: AttemptStatus, phase: SittingPhase) throws(AttemptRuleError) {
        if status == .submitted { throw .alreadySubmitted }
        switch phase {
        case .waiting(let startsAt): throw .notStarted(startsAt: startsAt)
        case .over(let endedAt): throw .timeIsUp(endedAt: endedAt)
        case .paused: throw .paused
        case .running: return
        }
    }
}
