import Foundation
import Logging
import PostgresNIO

/// Counts of one sitting's records: what the venue's manifest says it holds, or what central holds.
public struct RecordCounts: Sendable, Codable, Equatable {
    public var attempts: Int
    public var submitted: Int
    public var answerLogEntries: Int
    public var checkIns: Int
    public var incidents: Int
    public var faceVerifications: Int
    /// Examiners' scoring sheets handed in (skill sittings).
    public var skillSheets: Int
    public var segments: Int
    public var videos: Int
}

/// Per venue and sitting: what the venue holds (its latest manifest), what central holds, what is missing and since
/// when, and whether that is overdue.
public struct SittingCompleteness: Sendable, Codable, Equatable {
    public var venueId: String
    public var venueName: String
    public var sittingId: String
    /// When the venue made its latest manifest, and when central received it; nil for a sitting central issued to
    /// the venue that has started but from which no manifest has arrived (then nothing can be proved complete).
    public var manifestAt: Date?
    public var manifestReceivedAt: Date?
    public var scheduledEnd: Date
    /// When the venue ended the last of the sitting's rooms, if it has.
    public var closedAt: Date?
    public var candidates: Int
    public var expected: RecordCounts
    public var held: RecordCounts
    /// Central's digest of the answer log equals the venue's (same entries, not only as many).
    public var answerLogMatches: Bool
    public var resultsComplete: Bool
    public var recordingsComplete: Bool
    /// What is missing, in words: ["attempts 2", "answer log 15", "videos 3", …].
    public var missing: [String]
    /// Since when the results (and the recordings) have been expected: the sitting's end.
    public var since: Date
    public var resultsDueAt: Date
    public var recordingsDueAt: Date
    public var resultsOverdue: Bool
    public var recordingsOverdue: Bool
}

/// How long after a sitting's end its results and its recordings may take to arrive before an alert is raised.
public struct CompletenessPolicy: Sendable {
    public var resultsDueAfter: TimeInterval
    public var recordingsDueAfter: TimeInterval

    public init(resultsDueAfter: TimeInterval = 3600, recordingsDueAfter: TimeInterval = 24 * 3600) {
        self.resultsDueAfter = resultsDueAfter
        self.recordingsDueAfter = recordingsDueAfter
    }
}

/// A completeness alert: a sitting whose results or recordings are overdue at central.
public struct CompletenessAlert: Sendable, Codable, Equatable {
    public var id: Int64
    public var venueId: String
    public var sittingId: String
    public var kind: String
    public var detail: String
    public var raisedAt: Date
    public var clearedAt: Date?
    public var emailedAt: Date?
    public var textedAt: Date?
    public var notifyError: String?
}

extension CentralDatabase {
    /// Every sitting some venue sent a manifest for, compared with what central holds; and every sitting central
    /// issued to a venue in a plan's package that has started but whose manifest has not arrived (its results are
    /// due like any other's, and overdue if nothing comes).
    public func completeness(policy: CompletenessPolicy = CompletenessPolicy(), venueID: String? = nil, now: Date = Date()) async throws
        -> [SittingCompleteness]
    {
        let rows = try await client.query(
            """
            WITH m AS (
                SELECT venue_id, sitting_id, generated_at, received_at, payload, NULL::text AS issued FROM sitting_manifest
                UNION ALL
                (SELECT DISTINCT ON (p.venue_id, s.id) p.venue_id, s.id, NULL, NULL, NULL::jsonb,
                    json_build_object('start', extract(epoch FROM s.scheduled_start) * 1000,
                        'minutes', (s.body::jsonb->>'durationMinutes')::int,
                        'candidates', (SELECT count(*) FROM plan_candidate c WHERE c.sitting_id = s.id),
                        'fetched', p.fetched_at IS NOT NULL, 'imported', p.imported)::text
                FROM venue_package p CROSS JOIN LATERAL unnest(p.sittings) AS u(sitting_id) JOIN plan_sitting s ON s.id = u.sitting_id
                WHERE s.scheduled_start <= \(now)
                    AND NOT EXISTS (SELECT 1 FROM sitting_manifest x WHERE x.venue_id = p.venue_id AND x.sitting_id = s.id)
                ORDER BY p.venue_id, s.id, p.issued_at DESC)
            )
            SELECT m.venue_id, v.name, m.sitting_id, m.generated_at, m.received_at, COALESCE(m.payload::text, m.issued),
                (SELECT count(*) FROM exam_attempt a WHERE a.venue_id = m.venue_id AND a.sitting_id = m.sitting_id)::int,
                (SELECT count(*) FROM exam_attempt a WHERE a.venue_id = m.venue_id AND a.sitting_id = m.sitting_id
                    AND a.status = 'submitted')::int,
                log.entries::int, log.digest,
                (SELECT count(*) FROM check_in c WHERE c.venue_id = m.venue_id AND c.sitting_id = m.sitting_id)::int,
                (SELECT count(*) FROM incident c WHERE c.venue_id = m.venue_id AND c.sitting_id = m.sitting_id)::int,
                (SELECT count(*) FROM face_verification f WHERE f.venue_id = m.venue_id AND f.sitting_id = m.sitting_id)::int,
                (SELECT count(*) FROM skill_sheet k WHERE k.venue_id = m.venue_id AND k.sitting_id = m.sitting_id
                    AND k.submitted_at IS NOT NULL)::int,
                seg.recorded::int, seg.videos::int
            FROM m JOIN venue v ON v.id = m.venue_id
            CROSS JOIN LATERAL (
                SELECT count(*) AS entries,
                    encode(sha256(convert_to(COALESCE(string_agg(l.attempt_id || ':' || l.seq || ':' || l.change_id || E'\\n', ''
                        ORDER BY l.attempt_id COLLATE "C", l.seq), ''), 'UTF8')), 'hex') AS digest
                FROM answer_log l JOIN exam_attempt a ON a.venue_id = l.venue_id AND a.attempt_id = l.attempt_id
                WHERE l.venue_id = m.venue_id AND a.sitting_id = m.sitting_id
            ) log
            CROSS JOIN LATERAL (
                SELECT count(r.camera_id) AS recorded, count(r.video_received_at) AS videos
                FROM jsonb_array_elements(m.payload->'segments') s
                LEFT JOIN recording_segment r ON r.venue_id = m.venue_id AND r.camera_id = s->>'cameraId'
                    AND r.session = s->>'session' AND r.sequence = (s->>'sequence')::int AND r.sha256 = s->>'sha256'
            ) seg
            WHERE \(venueID)::text IS NULL OR m.venue_id = \(venueID)
            ORDER BY COALESCE((m.payload->>'scheduledStart')::bigint, (m.issued::jsonb->>'start')::float8::bigint) DESC, m.venue_id,
                m.sitting_id
            """, logger: logger)
        var result: [SittingCompleteness] = []
        for try await row in rows.decode(
            (String, String, String, Date?, Date?, String, Int, Int, Int, String, Int, Int, Int, Int, Int, Int).self)
        {
            let (venue, name, sitting, generated, received, payload, attempts, submitted, entries, digest, checkIns, incidents, faces,
                sheets, recorded, videos) = row
            guard let manifest = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
            let held = RecordCounts(
                attempts: attempts, submitted: submitted, answerLogEntries: entries, checkIns: checkIns, incidents: incidents,
                faceVerifications: faces, skillSheets: sheets, segments: recorded, videos: videos)
            guard let generated else {
                // Issued, started, and no manifest yet: due at the planned end; the recordings cannot be judged.
                let start = Date(timeIntervalSince1970: ((manifest["start"] as? NSNumber)?.doubleValue ?? 0) / 1000)
                let end = start.addingTimeInterval(Double((manifest["minutes"] as? NSNumber)?.intValue ?? 0) * 60)
                var missing = ["no sitting manifest from the venue"]
                if manifest["fetched"] as? Bool != true {
                    missing.append("package not fetched by the venue")
                } else if manifest["imported"] as? Bool == false {
                    missing.append("package refused by the venue")
                }
                let resultsDue = end.addingTimeInterval(policy.resultsDueAfter)
                result.append(
                    SittingCompleteness(
                        venueId: venue, venueName: name, sittingId: sitting, manifestAt: nil, manifestReceivedAt: nil, scheduledEnd: end,
                        closedAt: nil, candidates: (manifest["candidates"] as? NSNumber)?.intValue ?? 0,
                        expected: RecordCounts(
                            attempts: 0, submitted: 0, answerLogEntries: 0, checkIns: 0, incidents: 0, faceVerifications: 0, skillSheets: 0,
                            segments: 0, videos: 0),
                        held: held, answerLogMatches: false, resultsComplete: false, recordingsComplete: false, missing: missing, since: end,
                        resultsDueAt: resultsDue, recordingsDueAt: end.addingTimeInterval(policy.recordingsDueAfter),
                        resultsOverdue: now >= resultsDue, recordingsOverdue: false))
                continue
            }
            func int(_ key: String) -> Int { (manifest[key] as? NSNumber)?.intValue ?? 0 }
            func date(_ key: String) -> Date? { (manifest[key] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue / 1000) } }
            let segments = (manifest["segments"] as? [Any])?.count ?? 0
            let expected = RecordCounts(
                attempts: int("attempts"), submitted: int("submitted"), answerLogEntries: int("answerLogEntries"), checkIns: int("checkIns"),
                incidents: int("incidents"), faceVerifications: int("faceVerifications"), skillSheets: int("skillSheets"), segments: segments,
                videos: segments)
            let logMatches = (manifest["answerLogSHA256"] as? String) == digest
            var missing: [String] = []
            for (label, want, have) in [
                ("attempts", expected.attempts, held.attempts), ("submissions", expected.submitted, held.submitted),
                ("answer log", expected.answerLogEntries, held.answerLogEntries), ("check-ins", expected.checkIns, held.checkIns),
                ("incidents", expected.incidents, held.incidents), ("face checks", expected.faceVerifications, held.faceVerifications),
                ("scoring sheets", expected.skillSheets, held.skillSheets),
                ("segment records", expected.segments, held.segments), ("videos", expected.videos, held.videos),
            ] where have < want {
                missing.append("\(label) \(want - have)")
            }
            if !logMatches && expected.answerLogEntries == held.answerLogEntries { missing.append("answer log differs") }
            let resultsComplete =
                held.attempts >= expected.attempts && held.submitted >= expected.submitted && logMatches && held.checkIns >= expected.checkIns
                && held.incidents >= expected.incidents && held.faceVerifications >= expected.faceVerifications
                && held.skillSheets >= expected.skillSheets
            let recordingsComplete = held.segments >= expected.segments && held.videos >= expected.videos
            let end = date("closedAt") ?? date("scheduledEnd") ?? generated
            let resultsDue = end.addingTimeInterval(policy.resultsDueAfter)
            let recordingsDue = end.addingTimeInterval(policy.recordingsDueAfter)
            result.append(
                SittingCompleteness(
                    venueId: venue, venueName: name, sittingId: sitting, manifestAt: generated, manifestReceivedAt: received,
                    scheduledEnd: date("scheduledEnd") ?? end, closedAt: date("closedAt"), candidates: int("candidates"),
                    expected: expected, held: held, answerLogMatches: logMatches, resultsComplete: resultsComplete,
                    recordingsComplete: recordingsComplete, missing: missing, since: end, resultsDueAt: resultsDue,
                    recordingsDueAt: recordingsDue, resultsOverdue: !resultsComplete && now >= resultsDue,
                    recordingsOverdue: !recordingsComplete && now >= recordingsDue))
        }
        return result
    }

    /// Raises an alert for each overdue sitting that has none open, and clears the open ones whose sitting is now
    /// complete. Returns the alerts raised now (to be sent out).
    public func reconcileCompletenessAlerts(policy: CompletenessPolicy, now: Date = Date()) async throws -> [CompletenessAlert] {
        let sittings = try await completeness(policy: policy, now: now)
        var raised: [CompletenessAlert] = []
        try await transaction { connection in
            for sitting in sittings {
                for (kind, overdue, complete) in [
                    ("results", sitting.resultsOverdue, sitting.resultsComplete),
                    ("recordings", sitting.recordingsOverdue, sitting.recordingsComplete),
                ] {
                    if overdue {
                        let detail = "\(sitting.venueName) (\(sitting.venueId)) · \(sitting.sittingId): \(kind) overdue since "
                            + "\(ISO8601DateFormatter().string(from: kind == "results" ? sitting.resultsDueAt : sitting.recordingsDueAt)); "
                            + "missing: \(sitting.missing.joined(separator: ", "))"
                        let rows = try await connection.query(
                            """
                            INSERT INTO completeness_alert (venue_id, sitting_id, kind, detail, raised_at)
                            VALUES (\(sitting.venueId), \(sitting.sittingId), \(kind), \(detail), \(now))
                            ON CONFLICT (venue_id, sitting_id, kind) WHERE cleared_at IS NULL DO NOTHING RETURNING id
                            """, logger: logger)
                        for try await id in rows.decode(Int64.self) {
                            raised.append(
                                CompletenessAlert(
                                    id: id, venueId: sitting.venueId, sittingId: sitting.sittingId, kind: kind, detail: detail, raisedAt: now))
                        }
                    } else if complete {
                        try await connection.query(
                            """
                            UPDATE completeness_alert SET cleared_at = \(now)
                            WHERE venue_id = \(sitting.venueId) AND sitting_id = \(sitting.sittingId) AND kind = \(kind) AND cleared_at IS NULL
                            """, logger: logger)
                    }
                }
            }
        }
        for alert in raised {
            logger.warning("completeness alert raised", metadata: ["detail": "\(alert.detail)"])
        }
        return raised
    }

    /// The alerts whose e-mail or text message has not gone out yet (open ones only).
    public func alertsToNotify() async throws -> [CompletenessAlert] {
        try await completenessAlerts(where: "cleared_at IS NULL AND (emailed_at IS NULL OR texted_at IS NULL)", limit: 100)
    }

    public func completenessAlerts(limit: Int = 200) async throws -> [CompletenessAlert] {
        try await completenessAlerts(where: "TRUE", limit: limit)
    }

    private func completenessAlerts(where filter: String, limit: Int) async throws -> [CompletenessAlert] {
        var alerts: [CompletenessAlert] = []
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, venue_id, sitting_id, kind, detail, raised_at, cleared_at, emailed_at, texted_at, notify_error
                    FROM completeness_alert WHERE \(filter) ORDER BY cleared_at IS NOT NULL, raised_at DESC LIMIT \(limit)
                    """), logger: logger)
        for try await (id, venue, sitting, kind, detail, raised, cleared, emailed, texted, error) in rows.decode(
            (Int64, String, String, String, String, Date, Date?, Date?, Date?, String?).self)
        {
            alerts.append(
                CompletenessAlert(
                    id: id, venueId: venue, sittingId: sitting, kind: kind, detail: detail, raisedAt: raised, clearedAt: cleared,
                    emailedAt: emailed, textedAt: texted, notifyError: error))
        }
        return alerts
    }

    /// Records that an alert's e-mail or text went out, or why it did not.
    public func markAlertNotified(id: Int64, emailed: Bool, texted: Bool, error: String?, now: Date = Date()) async throws {
        try await client.query(
            """
            UPDATE completeness_alert SET
                emailed_at = CASE WHEN \(emailed) THEN COALESCE(emailed_at, \(now)) ELSE emailed_at END,
                texted_at = CASE WHEN \(texted) THEN COALESCE(texted_at, \(now)) ELSE texted_at END,
                notify_error = \(error)
            WHERE id = \(id)
            """, logger: logger)
    }
}
