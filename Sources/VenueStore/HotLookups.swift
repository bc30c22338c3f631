import ExamCore
import GRDB

/// Lookups on the hot paths (every autosave and heartbeat) through cached prepared statements. GRDB's query
/// interface builds, authorizes and prepares SQL on every call; profiling under load showed that costing more than
/// the writes themselves.
extension Database {
    func attempt(id: String) throws -> AttemptRecord? {
        try AttemptRecord.fetchOne(cachedStatement(sql: "SELECT * FROM attempt WHERE id = ?"), arguments: [id])
    }

    func sitting(id: String) throws -> SittingRecord? {
        try SittingRecord.fetchOne(cachedStatement(sql: "SELECT * FROM sitting WHERE id = ?"), arguments: [id])
    }

    func roomClock(sittingID: String, roomID: String) throws -> RoomClockRecord? {
        try RoomClockRecord.fetchOne(
            cachedStatement(sql: "SELECT * FROM room_clock WHERE sittingId = ? AND roomId = ?"), arguments: [sittingID, roomID])
    }

    /// The clock that governs an attempt: its sitting's, with its room's start, pauses, extensions and end.
    func clock(for attempt: AttemptRecord, in sitting: SittingRecord) throws -> SittingClock {
        let room = try attempt.roomId.flatMap { try roomClock(sittingID: sitting.id, roomID: $0) }
        return VenueDatabase.clock(sitting: sitting, room: room)
    }

    func isLogged(changeID: String) throws -> Bool {
        try Bool.fetchOne(cachedStatement(sql: "SELECT 1 FROM answer_log WHERE changeId = ?"), arguments: [changeID]) ?? false
    }

    func session(tokenHash: String) throws -> SessionRecord? {
        try SessionRecord.fetchOne(cachedStatement(sql: "SELECT * FROM session WHERE tokenHash = ?"), arguments: [tokenHash])
    }

    func executeCached(_ sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
