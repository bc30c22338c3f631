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
