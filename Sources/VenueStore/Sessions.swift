import Crypto
import ExamCore
import Foundation
import GRDB
import Synchronization
import VenuePackage

/// The terminal a request came from.
public struct TerminalInfo: Sendable, Hashable {
    /// Chosen by the browser and kept in its storage; identifies a terminal across reloads.
    public var terminalID: String
    public var userAgent: String?
    public var address: String?
    public init(terminalID: String, userAgent: String? = nil, address: String? = nil) {
        self.terminalID = terminalID
        self.userAgent = userAgent
        self.address = address
    }
}

/// A candidate logged in on one terminal, answering one attempt.
public struct CandidateSession: Sendable, Hashable {
    public var sessionID: String
    public var attemptID: String
    public var admissionNumber: String
    public var sittingID: Sitting.ID
    public var terminalID: String
    /// A login on a new terminal that waits for an invigilator to approve the move.
    public var pending: Bool = false
}

/// A staff member logged in.
public struct StaffSession: Sendable, Hashable {
    public var sessionID: String
    public var username: String
    public var name: String
    public var role: StaffRole
    public var rooms: [Room.ID]
    /// The password is a one-time one; nothing but changing it is allowed.
    public var mustChangePassword: Bool = false

    /// Admins act everywhere; invigilators and examiners in their rooms.
    public func mayActIn(room: Room.ID) -> Bool { role == .admin || rooms.contains(room) }
}

public enum Session: Sendable, Hashable {
    case candidate(CandidateSession)
    case staff(StaffSession)
}

/// What a login hands back.
public struct LoginResult: Codable, Sendable {
    public var token: String
    public var attemptId: String?
    /// True when the candidate was answering on another terminal, which is now locked out.
    public var movedFromAnotherTerminal: Bool
    public var name: String
    public var role: String?
    public var rooms: [String]?
    /// The candidate's earlier terminal is still active: this one waits for an invigilator's approval.
    public var pendingApproval: Bool = false
    /// A staff member logged in with a one-time password and must change it first.
    public var mustChangePassword: Bool = false
}

enum SessionToken {
    /// 32 random bytes, base64url; only its SHA-256 is stored.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String { sha256Hex(Data(token.utf8)) }
}

extension VenueDatabase {
    /// The live session behind a token, or why there is none.
    public func session(token: String, now: Date = Date()) async throws -> Session {
        guard !token.isEmpty, token.utf8.count <= 128 else { throw StoreError.sessionUnknown }
        let hash = SessionToken.hash(token)
        if let cached = sessionCache.withLock({ $0[hash] }) {
            guard cached.expiresAt > now.millis else { throw StoreError.sessionExpired }
            return cached.session
        }
        let (session, expiresAt) = try await pool.read { db -> (Session, Int64) in
            guard let record = try db.session(tokenHash: hash) else { throw StoreError.sessionUnknown }
            switch record.endReason {
            case nil: break
            case "moved": throw StoreError.terminalMoved
            case "moveRejected", "superseded": throw StoreError.moveRejected
            case let reason?: throw StoreError.sessionEnded(reason: reason)
            }
            if record.kind == "candidate", let attemptID = record.attemptId, let attempt = try db.attempt(id: attemptID) {
                let session = CandidateSession(
                    sessionID: record.id, attemptID: attemptID, admissionNumber: attempt.admissionNumber,
                    sittingID: Sitting.ID(attempt.sittingId), terminalID: record.terminalId, pending: record.pending)
                return (.candidate(session), record.expiresAt)
            }
            if record.kind == "staff", let username = record.username, let staff = try StaffRecord.fetchOne(db, key: username),
                !staff.disabled
            {
                return (.staff(try Self.staffSession(staff, sessionID: record.id)), record.expiresAt)
            }
            throw StoreError.sessionUnknown
        }
        guard expiresAt > now.millis else { throw StoreError.sessionExpired }
        sessionCache.withLock { $0[hash] = (session, expiresAt) }
        return session
    }

    /// Drops ended sessions from the cache (after the transaction that ended them has committed).
    func forgetSessions(tokenHashes: [String]) {
        guard !tokenHashes.isEmpty else { return }
        sessionCache.withLock { cache in
            for hash in tokenHashes { cache.removeValue(forKey: hash) }
        }
    }

    /// Ends a session (logout). Ending an ended session is harmless.
    public func logout(sessionID: String, now: Date = Date()) async throws {
        let hash = try await groupCommit.write { db -> String? in
            try db.execute(
                sql: "UPDATE session SET endedAt = ?, endReason = 'logout' WHERE id = ? AND endedAt IS NULL",
                arguments: [now.millis, sessionID])
            return try SessionRecord.fetchOne(db, key: sessionID)?.tokenHash
        }
        forgetSessions(tokenHashes: hash.map { [$0] } ?? [])
    }

    static func staffSession(_ staff: StaffRecord, sessionID: String) throws -> StaffSession {
        StaffSession(
            sessionID: sessionID, username: staff.username, name: staff.name,
            role: StaffRole(rawValue: staff.role) ?? .invigilator,
            rooms: try JSONDecoder().decode([String].self, from: Data(staff.rooms.utf8)).map { Room.ID($0) },
            mustChangePassword: staff.mustChangePassword)
    }

    /// Checks a staff password (slow on purpose) and opens a session. Both outcomes are audited.
    public func staffLogin(username: String, password: String, terminal: TerminalInfo, now: Date = Date()) async throws
        -> LoginResult
    {
        let staff = try await pool.read { db in try StaffRecord.fetchOne(db, key: username) }
        // Hash even for an unknown user, so timing does not tell which user names exist.
        let stored = staff?.passwordHash ?? "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let valid = await PasswordHash.verifyAside(password, against: stored)
        guard let staff, valid, !staff.disabled else {
            let known = staff != nil
            try await groupCommit.write { db in
                try Self.audit(
                    db, actor: known ? username : String(username.prefix(64)), role: staff?.role ?? "unknown",
                    action: .staffLoginFailed, now: now, detail: ["address": terminal.address ?? "", "knownUser": "\(known)"])
            }
            throw StoreError.staffLoginFailed
        }
        let token = SessionToken.make()
        let record = SessionRecord(
            id: UUID().uuidString.lowercased(), tokenHash: SessionToken.hash(token), kind: "staff", attemptId: nil,
            username: staff.username, terminalId: terminal.terminalID, userAgent: terminal.userAgent,
            address: terminal.address, createdAt: now.millis, expiresAt: now.addingTimeInterval(12 * 3600).millis,
            endedAt: nil, endReason: nil)
        try await groupCommit.write { db in
            try record.insert(db)
            try Self.audit(
                db, actor: staff.username, role: staff.role, action: .staffLogin, now: now,
                detail: ["address": terminal.address ?? "", "terminal": terminal.terminalID])
        }
        let session = try Self.staffSession(staff, sessionID: record.id)
        return LoginResult(
            token: token, attemptId: nil, movedFromAnotherTerminal: false, name: staff.name, role: staff.role,
            rooms: session.rooms.map(\.rawValue), mustChangePassword: staff.mustChangePassword)
    }


    /// Drops every cached session of a staff member or with a given session id (after a password change or
    /// disabling); they are read again from the database on their next request.
    func forgetSessions(where matches: (Session) -> Bool) {
        sessionCache.withLock { cache in
            for (hash, entry) in cache where matches(entry.session) { cache.removeValue(forKey: hash) }
        }
    }
}
