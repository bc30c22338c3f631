import ExamCore
import Foundation
import GRDB

extension VenueDatabase {
    /// Logs a candidate in by admission number and ID number on one terminal. The sitting is the one they are
    /// answering, or else the next one not yet over. If the candidate is active on another terminal, this login
    /// waits for an invigilator to approve the move (then the earlier terminal is locked out); logging in again on
    /// the same terminal, or after submitting, needs no approval. The attempt keeps every saved answer and its time.
    public func candidateLogin(admissionNumber: String, idNumber: String, terminal: TerminalInfo, now: Date = Date())
        async throws -> LoginResult
    {
        let admissionNumber = admissionNumber.trimmingCharacters(in: .whitespaces)
        guard isClientID(terminal.terminalID) else { throw StoreError.invalidRequest("terminalId") }
        guard !admissionNumber.isEmpty, admissionNumber.count <= 64 else { throw StoreError.loginFailed }
        let token = SessionToken.make()
        let (result, ended) = try await groupCommit.write { db -> (LoginResult, [String]) in
            guard let candidate = try CandidateRecord.fetchOne(db, key: admissionNumber),
                candidate.idNumber == IdentityNumber.normalise(idNumber)
            else { throw StoreError.loginFailed }
            var attempt = try Self.chooseAttempt(db, admissionNumber: admissionNumber, now: now)
            let sessionID = UUID().uuidString.lowercased()
            var ended: [String] = []
            var pending = false
            let previous = try attempt.activeSessionId.flatMap { try SessionRecord.fetchOne(db, key: $0) }
            if let previous, previous.endedAt == nil {
                if previous.terminalId != terminal.terminalID && attempt.status != AttemptStatus.submitted.rawValue {
                    pending = true
                } else {
                    try db.execute(
                        sql: "UPDATE session SET endedAt = ?, endReason = 'replaced' WHERE id = ?", arguments: [now.millis, previous.id])
                    ended.append(previous.tokenHash)
                }
            }
            try SessionRecord(
                id: sessionID, tokenHash: SessionToken.hash(token), kind: "candidate", attemptId: attempt.id,
                username: nil, terminalId: terminal.terminalID, userAgent: terminal.userAgent.map { String($0.prefix(300)) },
                address: terminal.address, createdAt: now.millis, expiresAt: now.addingTimeInterval(24 * 3600).millis,
                endedAt: nil, endReason: nil, pending: pending
            ).insert(db)
            if pending, let previous {
                // A newer request replaces any request still waiting.
                for older in try MoveRequestRecord.filter(Column("attemptId") == attempt.id && Column("status") == "pending").fetchAll(db) {
                    try db.execute(
                        sql: "UPDATE session SET endedAt = ?, endReason = 'superseded' WHERE id = ?", arguments: [now.millis, older.sessionId])
                    try db.execute(sql: "UPDATE move_request SET status = 'superseded' WHERE id = ?", arguments: [older.id])
                    if let hash = try SessionRecord.fetchOne(db, key: older.sessionId)?.tokenHash { ended.append(hash) }
                }
                try MoveRequestRecord(
                    id: UUID().uuidString.lowercased(), attemptId: attempt.id, sessionId: sessionID, fromSessionId: previous.id,
                    fromTerminal: previous.terminalId, toTerminal: terminal.terminalID, requestedAt: now.millis, status: "pending"
                ).insert(db)
            } else {
                attempt.activeSessionId = sessionID
                try attempt.update(db)
            }
            var event = AttemptEventRecord(
                id: nil, attemptId: attempt.id, eventId: "srv-\(sessionID)",
                kind: pending ? AttemptEventKind.moveRequested.rawValue : AttemptEventKind.login.rawValue,
                clientTime: nil, serverTime: now.millis, sessionId: sessionID, terminalId: terminal.terminalID,
                detail: pending ? "from terminal \(previous?.terminalId ?? "-") to \(terminal.terminalID), waiting for approval" : nil)
            try event.insert(db)
            let result = LoginResult(
                token: token, attemptId: attempt.id, movedFromAnotherTerminal: false, name: candidate.name, role: nil,
                rooms: nil, pendingApproval: pending)
            return (result, ended)
        }
        forgetSessions(tokenHashes: ended)
        clocks.forget(attempts: [result.attemptId].compactMap { $0 })
        return result
    }

    /// The attempt a login continues or opens.
    private static func chooseAttempt(_ db: Database, admissionNumber: String, now: Date) throws -> AttemptRecord {
        let seats = try SeatAssignmentRecord.filter(SeatAssignmentRecord.Columns.admissionNumber == admissionNumber).fetchAll(db)
        var options: [(sitting: SittingRecord, roomID: String, attempt: AttemptRecord?, phase: SittingPhase)] = []
        for seat in seats {
            guard let sitting = try SittingRecord.fetchOne(db, key: seat.sittingId), sitting.subject == Subject.theory.rawValue
            else { continue }
            let attempt = try AttemptRecord
                .filter(AttemptRecord.Columns.sittingId == seat.sittingId && AttemptRecord.Columns.admissionNumber == admissionNumber)
                .fetchOne(db)
            let room = try db.roomClock(sittingID: seat.sittingId, roomID: seat.roomId)
            let phase = Self.clock(sitting: sitting, room: room).phase(
                attemptExtension: TimeInterval(attempt?.extensionSeconds ?? 0), now: now)
            options.append((sitting, seat.roomId, attempt, phase))
        }
        func isOver(_ phase: SittingPhase) -> Bool { if case .over = phase { return true } else { return false } }
        // An attempt still open comes first; then the earliest sitting not over; then the latest submitted attempt.
        if let open = options.first(where: { $0.attempt != nil && $0.attempt?.status != AttemptStatus.submitted.rawValue && !isOver($0.phase) }) {
            return open.attempt!
        }
        if let next = options.filter({ !isOver($0.phase) && $0.attempt?.status != AttemptStatus.submitted.rawValue })
            .min(by: { $0.sitting.scheduledStart < $1.sitting.scheduledStart })
        {
            if case .running(let startedAt, _) = next.phase, let late = next.sitting.lateEntrySeconds,
                now.timeIntervalSince(startedAt) > TimeInterval(late)
            {
                throw StoreError.rule(.lateEntryClosed)
            }
            if try CheckInRecord.fetchOne(db, key: ["sittingId": next.sitting.id, "admissionNumber": admissionNumber])?.status == "absent" {
                throw StoreError.markedAbsent
            }
            let attempt = AttemptRecord(
                roomId: next.roomID, id: UUID().uuidString.lowercased(), sittingId: next.sitting.id, admissionNumber: admissionNumber,
                seed: Int64.random(in: .min ... .max), status: AttemptStatus.waiting.rawValue, createdAt: now.millis,
                submittedAt: nil, submittedBy: nil, extensionSeconds: 0, logLength: 0, activeSessionId: nil, score: nil,
                maxPoints: nil, pendingPoints: nil)
            try attempt.insert(db)
            return attempt
        }
        if let done = options.filter({ $0.attempt != nil }).max(by: { $0.sitting.scheduledStart < $1.sitting.scheduledStart }) {
            return done.attempt!
        }
        throw StoreError.noSitting
    }

    // MARK: Reading

    /// Who, where, which sitting and the server's clock, for the terminal.
    public func attemptState(_ session: CandidateSession, now: Date = Date()) async throws -> AttemptState {
        try await pool.read { db in
            guard let attempt = try db.attempt(id: session.attemptID),
                let sitting = try db.sitting(id: attempt.sittingId),
                let candidate = try CandidateRecord.fetchOne(db, key: attempt.admissionNumber),
                let seat = try SeatAssignmentRecord.fetchOne(
                    db, key: ["sittingId": attempt.sittingId, "admissionNumber": attempt.admissionNumber]),
                let room = try RoomRecord.fetchOne(db, key: seat.roomId)
            else { throw StoreError.notFound("考生的场次 / the candidate's sitting") }
            let described = try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8))
            let answered = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM answer WHERE attemptId = ? AND response IS NOT NULL", arguments: [attempt.id]) ?? 0
            let phase = try db.clock(for: attempt, in: sitting).phase(attemptExtension: TimeInterval(attempt.extensionSeconds), now: now)
            let idNumber = candidate.idNumber
            var face: AttemptState.FaceState?
            if let checks = described.faceChecks, checks.selfCheckIn || checks.rechecks > 0 {
                let checkedIn = try CheckInRecord.fetchOne(db, key: ["sittingId": sitting.id, "admissionNumber": attempt.admissionNumber])?
                    .status == "checkedIn"
                let tries = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM face_verification
                        WHERE personKind = 'candidate' AND personId = ? AND sittingId = ? AND purpose = 'selfCheckIn'
                        """, arguments: [attempt.admissionNumber, sitting.id]) ?? 0
                face = AttemptState.FaceState(
                    selfCheckIn: checks.selfCheckIn, rechecks: checks.rechecks, checkedIn: checkedIn,
                    triesLeft: max(0, Self.selfCheckInTries - tries))
            }
            return AttemptState(
                attemptId: attempt.id, status: attempt.status, submittedAt: attempt.submittedAt,
                submittedBy: attempt.submittedBy,
                candidate: .init(
                    admissionNumber: candidate.admissionNumber, name: candidate.name, organisation: candidate.organisation,
                    idNumberMasked: String(idNumber.prefix(4)) + String(repeating: "*", count: max(0, idNumber.count - 8))
                        + String(idNumber.suffix(4))),
                seat: .init(roomId: room.id, roomName: room.name, seat: seat.seat),
                sitting: .init(
                    id: sitting.id, name: sitting.name, occupation: described.occupation, level: described.level,
                    instructions: described.instructions, scheduledStart: sitting.scheduledStart,
                    durationMinutes: described.durationMinutes),
                clock: ClockView(phase, now: now), answeredCount: answered, face: face)
        }
    }

    /// The server clock for one attempt (the heartbeat answer).
    public func clock(_ session: CandidateSession, now: Date = Date()) async throws -> (ClockView, status: String) {
        let (clock, status, _) = try await heartbeat(session, now: now)
        return (clock, status)
    }

    /// The heartbeat answer: the clock, the attempt's status, and whether a face re-check is due (the terminal
    /// learns only that one is due now, never when the next one comes).
    public func heartbeat(_ session: CandidateSession, now: Date = Date()) async throws
        -> (ClockView, status: String, faceCheckDue: Bool)
    {
        let cached: (attempt: ClockCache.Attempt, clock: SittingClock)
        if let hit = clocks.lookup(attemptID: session.attemptID) {
            cached = hit
        } else {
            let generation = clocks.generation
            cached = try await pool.read { db in
                guard let attempt = try db.attempt(id: session.attemptID), let sitting = try db.sitting(id: attempt.sittingId)
                else { throw StoreError.notFound("考试 / the attempt") }
                let checks = try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8)).faceChecks
                return (
                    ClockCache.Attempt(
                        sittingID: attempt.sittingId, roomID: attempt.roomId, extensionSeconds: attempt.extensionSeconds,
                        status: attempt.status, activeSessionID: attempt.activeSessionId, admissionNumber: attempt.admissionNumber,
                        recheckMoments: checks?.recheckMoments(seed: attempt.seed, durationSeconds: TimeInterval(sitting.durationSeconds))
                            ?? []),
                    try db.clock(for: attempt, in: sitting)
                )
            }
            clocks.store(attemptID: session.attemptID, attempt: cached.attempt, clock: cached.clock, readAtGeneration: generation)
        }
        let phase = cached.clock.phase(attemptExtension: TimeInterval(cached.attempt.extensionSeconds), now: now)
        if session.pending { return (ClockView(phase, now: now), "movePending", false) }
        if cached.attempt.activeSessionID != session.sessionID { throw StoreError.terminalMoved }
        var due = false
        if !cached.attempt.recheckMoments.isEmpty, cached.attempt.status != AttemptStatus.submitted.rawValue,
            case .running(let startedAt, _) = phase
        {
            due = try await recheckDue(
                attemptID: session.attemptID, admissionNumber: cached.attempt.admissionNumber, sittingID: cached.attempt.sittingID,
                moments: cached.attempt.recheckMoments, startedAt: startedAt, now: now)
        }
        return (ClockView(phase, now: now), cached.attempt.status, due)
    }

    /// The paper in this candidate's order with their saved answers; only once the sitting has started.
    public func attemptPaper(_ session: CandidateSession, now: Date = Date()) async throws -> AttemptPaper {
        let paper = try await assembledPaper(for: session.sittingID)
        let (attempt, answers, phase) = try await pool.read { db in
            guard let attempt = try db.attempt(id: session.attemptID),
                let sitting = try db.sitting(id: attempt.sittingId)
            else { throw StoreError.notFound("考试 / the attempt") }
            if attempt.status != AttemptStatus.submitted.rawValue,
                try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8)).faceChecks?.selfCheckIn == true,
                try CheckInRecord.fetchOne(db, key: ["sittingId": sitting.id, "admissionNumber": attempt.admissionNumber])?.status
                    != "checkedIn"
            {
                // The paper opens only to a candidate whose identity was checked (by face here, or at the desk).
                throw StoreError.faceCheckInRequired
            }
            let answers = try AnswerRecord.filter(AnswerRecord.Columns.attemptId == attempt.id).fetchAll(db)
            return (attempt, answers, try db.clock(for: attempt, in: sitting).phase(attemptExtension: TimeInterval(attempt.extensionSeconds), now: now))
        }
        if case .waiting(let startsAt) = phase, attempt.status != AttemptStatus.submitted.rawValue {
            throw StoreError.rule(.notStarted(startsAt: startsAt))
        }
        let layout = PaperLayout(paper: paper, seed: UInt64(bitPattern: attempt.seed))
        return AttemptPaper(
            attemptId: attempt.id, status: attempt.status, paper: CandidatePaper(paper: paper, layout: layout),
            answers: answers.map {
                SavedAnswer(
                    questionId: $0.questionId, response: $0.response.flatMap(storedBody),
                    flagged: $0.flagged, seq: $0.logSeq)
            },
            clock: ClockView(phase, now: now))
    }

    // MARK: Writing

    /// Saves a terminal's changes durably and acknowledges them. Changes are checked against the paper first;
    /// the time and the attempt's state are checked inside the transaction, at the time the request arrived.
    /// A change already saved (same `changeId`) is acknowledged again without being written twice.
    public func saveAnswers(_ session: CandidateSession, changes: [AnswerChange], receivedAt: Date = Date()) async throws
        -> SaveReceipt
    {
        guard !changes.isEmpty, changes.count <= 200 else { throw StoreError.invalidRequest("1 to 200 changes per request") }
        let paper = try await assembledPaper(for: session.sittingID)
        struct Prepared: Sendable {
            var change: AnswerChange
            var canonical: String?
            var attachmentID: String?
        }
        var prepared: [Prepared] = []
        for change in changes {
            guard isClientID(change.changeId) else { throw StoreError.invalidRequest("changeId \(change.changeId.prefix(80))") }
            guard let answerable = paper.answerable[Question.ID(change.questionId)] else {
                throw StoreError.unknownQuestion(String(change.questionId.prefix(80)))
            }
            switch change.kind {
            case .flag:
                guard change.flagged != nil else { throw StoreError.invalidRequest("a flag change needs flagged") }
                prepared.append(Prepared(change: change))
            case .answer:
                guard let body = change.response else {
                    prepared.append(Prepared(change: change))
                    continue
                }
                do throws(ResponseError) {
                    let response = try Response(body, for: answerable.question)
                    var attachmentID: String?
                    if case .thesis(_, let attachment?) = response { attachmentID = attachment.id }
                    prepared.append(
                        Prepared(
                            change: change, canonical: String(decoding: response.canonicalJSON(), as: UTF8.self),
                            attachmentID: attachmentID))
                } catch {
                    throw StoreError.response(error)
                }
            }
        }
        let items = prepared
        let (receipt, startedAnswering) = try await groupCommit.write { db -> (SaveReceipt, Bool) in
            let (attempt, sitting) = try Self.lockedAttempt(db, session: session)
            let phase = try db.clock(for: attempt, in: sitting).phase(attemptExtension: TimeInterval(attempt.extensionSeconds), now: receivedAt)
            do throws(AttemptRuleError) {
                try AttemptRuleError.checkAcceptsChange(status: AttemptStatus(rawValue: attempt.status) ?? .waiting, phase: phase)
            } catch {
                throw StoreError.rule(error)
            }
            var seq = attempt.logLength
            for item in items {
                let change = item.change
                if try db.isLogged(changeID: change.changeId) {
                    continue
                }
                if let attachmentID = item.attachmentID {
                    let known = try AttachmentRecord.fetchOne(db, key: attachmentID)
                    guard known?.attemptId == attempt.id, known?.questionId == change.questionId else {
                        throw StoreError.attachmentUnknown(attachmentID)
                    }
                }
                seq += 1
                try db.executeCached(
                    """
                    INSERT INTO answer_log (attemptId, seq, changeId, questionId, kind, response, flagged, clientSeq,
                                            sessionId, terminalId, clientTime, serverTime)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        attempt.id, seq, change.changeId, change.questionId, change.kind.rawValue, item.canonical,
                        change.flagged, change.clientSeq, session.sessionID, session.terminalID, change.clientTime,
                        receivedAt.millis,
                    ])
                // The current answer takes the change unless it is an older change of the same terminal session
                // arriving late (it stays in the log, but is not current).
                let isAnswer = change.kind == .answer
                try db.executeCached(
                    """
                    INSERT INTO answer (attemptId, questionId, response, flagged, updatedAt, logSeq, sessionId, clientSeq)
                    VALUES (:attempt, :question, :response, :flagged, :at, :seq, :session, :clientSeq)
                    ON CONFLICT (attemptId, questionId) DO UPDATE SET
                        response = CASE WHEN :isAnswer THEN excluded.response ELSE answer.response END,
                        flagged = CASE WHEN :isAnswer THEN answer.flagged ELSE excluded.flagged END,
                        updatedAt = excluded.updatedAt, logSeq = excluded.logSeq,
                        sessionId = excluded.sessionId, clientSeq = excluded.clientSeq
                    WHERE answer.sessionId != excluded.sessionId OR answer.clientSeq < excluded.clientSeq
                    """,
                    [
                        "attempt": attempt.id, "question": change.questionId, "response": isAnswer ? item.canonical : nil,
                        "flagged": isAnswer ? false : (change.flagged ?? false), "at": receivedAt.millis, "seq": seq,
                        "session": session.sessionID, "clientSeq": change.clientSeq, "isAnswer": isAnswer,
                    ])
            }
            try db.executeCached(
                "UPDATE attempt SET logLength = ?, status = CASE status WHEN 'waiting' THEN 'answering' ELSE status END WHERE id = ?",
                [seq, attempt.id])
            let receipt = SaveReceipt(acknowledged: items.map(\.change.changeId), clock: ClockView(phase, now: receivedAt))
            return (receipt, attempt.status == AttemptStatus.waiting.rawValue)
        }
        if startedAnswering { clocks.forget(attempts: [session.attemptID]) }
        return receipt
    }

    /// The attempt and its sitting, refusing a terminal that is no longer the candidate's active one.
    static func lockedAttempt(_ db: Database, session: CandidateSession) throws -> (AttemptRecord, SittingRecord) {
        guard !session.pending else { throw StoreError.movePending }
        guard let attempt = try db.attempt(id: session.attemptID),
            let sitting = try db.sitting(id: attempt.sittingId)
        else { throw StoreError.notFound("考试 / the attempt") }
        guard attempt.activeSessionId == session.sessionID else { throw StoreError.terminalMoved }
        return (attempt, sitting)
    }

    /// Records how the page was used (focus lost, left, copy/paste …). Re-sent events are stored once.
    public func recordEvents(_ session: CandidateSession, events: [AttemptEventInput], receivedAt: Date = Date()) async throws
        -> [String]
    {
        guard !events.isEmpty, events.count <= 200 else { throw StoreError.invalidRequest("1 to 200 events per request") }
        for event in events {
            guard isClientID(event.eventId) else { throw StoreError.invalidRequest("eventId") }
            guard ![.terminalMoved, .login, .moveRequested].contains(event.kind) else {
                throw StoreError.invalidRequest("kind \(event.kind)")
            }
        }
        return try await groupCommit.write { db in
            _ = try Self.lockedAttempt(db, session: session)
            for event in events {
                var record = AttemptEventRecord(
                    id: nil, attemptId: session.attemptID, eventId: event.eventId, kind: event.kind.rawValue,
                    clientTime: event.clientTime, serverTime: receivedAt.millis, sessionId: session.sessionID,
                    terminalId: session.terminalID, detail: event.detail.map { String($0.prefix(500)) })
                try record.insert(db, onConflict: .ignore)
            }
            return events.map(\.eventId)
        }
    }

    /// The candidate submits. Submitting twice answers with the first submission.
    public func submit(_ session: CandidateSession, now: Date = Date()) async throws -> SubmitResult {
        let paper = try await assembledPaper(for: session.sittingID)
        let result = try await groupCommit.write { db in
            let (attempt, sitting) = try Self.lockedAttempt(db, session: session)
            let phase = try db.clock(for: attempt, in: sitting).phase(attemptExtension: TimeInterval(attempt.extensionSeconds), now: now)
            if case .waiting(let startsAt) = phase { throw StoreError.rule(.notStarted(startsAt: startsAt)) }
            let kind: SubmissionKind = if case .over = phase { .timeUp } else { .candidate }
            return try Self.submitInTransaction(db, attempt: attempt, paper: paper, kind: kind, now: now)
        }
        clocks.forget(attempts: [session.attemptID])
        return result
    }

    /// Submits every attempt whose time ran out at least `grace` ago (so autosaves already received can land first).
    @discardableResult
    public func submitOverdue(now: Date = Date(), grace: TimeInterval = 2) async throws -> [String] {
        let cutoff = now.addingTimeInterval(-grace).millis
        let due = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH t AS (
                        SELECT a.id, a.sittingId,
                               COALESCE(MIN(s.startedAt, r.startedAt), s.startedAt, r.startedAt, s.scheduledStart) AS start,
                               (s.durationSeconds + s.extensionSeconds + COALESCE(r.extensionSeconds, 0)
                                 + a.extensionSeconds + COALESCE(r.pausedSeconds, 0)) * 1000 AS span,
                               MIN(COALESCE(s.closedAt, 9223372036854775807), COALESCE(r.closedAt, 9223372036854775807)) AS closedAt,
                               r.pausedSince
                        FROM attempt a JOIN sitting s ON s.id = a.sittingId
                        LEFT JOIN room_clock r ON r.sittingId = a.sittingId AND r.roomId = a.roomId
                        WHERE a.status != 'submitted')
                    SELECT id, sittingId FROM t
                    WHERE start <= :now AND pausedSince IS NULL AND MIN(start + span, closedAt) <= :cutoff
                    """,
                arguments: ["now": now.millis, "cutoff": cutoff]
            ).map { (id: $0["id"] as String, sitting: Sitting.ID($0["sittingId"] as String)) }
        }
        // Submitted concurrently so that group commit puts many of them in one transaction.
        var papers: [Sitting.ID: AssembledPaper] = [:]
        for sitting in Set(due.map(\.sitting)) {
            // A sitting whose paper is still sealed has nothing to grade: its attempts wait until it is opened.
            do { papers[sitting] = try await assembledPaper(for: sitting) } catch StoreError.paperSealed { continue }
        }
        let loaded = papers
        var submitted: [String] = []
        for chunk in stride(from: 0, to: due.count, by: 500).map({ Array(due[$0..<min($0 + 500, due.count)]) }) {
            submitted += try await withThrowingTaskGroup(of: String?.self) { group in
                for item in chunk {
                    guard let paper = loaded[item.sitting] else { continue }
                    group.addTask {
                        try await self.groupCommit.write { db -> String? in
                            guard let attempt = try db.attempt(id: item.id),
                                attempt.status != AttemptStatus.submitted.rawValue,
                                let sitting = try db.sitting(id: attempt.sittingId),
                                case .over = try db.clock(for: attempt, in: sitting).phase(
                                    attemptExtension: TimeInterval(attempt.extensionSeconds), now: now)
                            else { return nil }
                            _ = try Self.submitInTransaction(db, attempt: attempt, paper: paper, kind: .timeUp, now: now)
                            return item.id
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
        }
        clocks.forget(attempts: submitted)
        return submitted
    }

    /// Marks the attempt submitted, grades it and stores the scores, in the caller's transaction.
    static func submitInTransaction(
        _ db: Database, attempt: AttemptRecord, paper: AssembledPaper, kind: SubmissionKind, now: Date
    ) throws -> SubmitResult {
        if attempt.status == AttemptStatus.submitted.rawValue {
            let unanswered = try unansweredCount(db, attempt: attempt, paper: paper)
            return SubmitResult(
                attemptId: attempt.id, status: attempt.status, submittedAt: attempt.submittedAt ?? now.millis,
                submittedBy: attempt.submittedBy ?? kind.rawValue, unanswered: unanswered)
        }
        let responses = try savedResponses(db, attemptID: attempt.id, paper: paper)
        let score = paper.grade(responses)
        for question in score.questions {
            try QuestionScoreRecord(
                attemptId: attempt.id, questionId: question.questionID.rawValue, sectionId: question.sectionID.rawValue,
                maxPoints: question.maxPoints, score: question.score, status: question.status.rawValue
            ).insert(db, onConflict: .replace)
        }
        for (position, section) in score.sections.enumerated() {
            try SectionScoreRecord(
                attemptId: attempt.id, sectionId: section.sectionID.rawValue, title: section.title, position: position,
                maxPoints: section.maxPoints, score: section.score, pendingPoints: section.pendingPoints
            ).insert(db, onConflict: .replace)
        }
        var updated = attempt
        updated.status = AttemptStatus.submitted.rawValue
        updated.submittedAt = now.millis
        updated.submittedBy = kind.rawValue
        updated.score = score.score
        updated.maxPoints = score.maxPoints
        updated.pendingPoints = score.pendingPoints
        try updated.update(db)
        let unanswered = paper.answerableOrder.count - responses.values.filter(\.isAnswered).count
        return SubmitResult(
            attemptId: attempt.id, status: updated.status, submittedAt: now.millis, submittedBy: kind.rawValue,
            unanswered: unanswered)
    }

    /// The attempt's current answers, read back through the same checks they passed when saved.
    static func savedResponses(_ db: Database, attemptID: String, paper: AssembledPaper) throws -> [Question.ID: Response] {
        var responses: [Question.ID: Response] = [:]
        for answer in try AnswerRecord.filter(AnswerRecord.Columns.attemptId == attemptID).fetchAll(db) {
            let id = Question.ID(answer.questionId)
            guard let text = answer.response, let question = paper.answerable[id]?.question,
                let response = try? Response.decode(Data(text.utf8), for: question)
            else { continue }
            responses[id] = response
        }
        return responses
    }

    static func unansweredCount(_ db: Database, attempt: AttemptRecord, paper: AssembledPaper) throws -> Int {
        paper.answerableOrder.count - (try savedResponses(db, attemptID: attempt.id, paper: paper).values.filter(\.isAnswered).count)
    }
}

extension JSONDecoder {
    /// Reads JSON stored from package content (ISO-8601 dates).
    static var package: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
