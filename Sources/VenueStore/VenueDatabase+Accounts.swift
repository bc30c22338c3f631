import ExamCore
import Foundation
import GRDB
import VenuePackage

/// A staff account as the admin page lists it.
public struct StaffAccount: Codable, Sendable {
    public var username: String
    public var name: String
    public var role: String
    public var rooms: [String]
    /// `package` or `local`.
    public var source: String
    public var disabled: Bool
    public var mustChangePassword: Bool
}

/// Changes to a staff account; nil leaves a field as it is.
public struct StaffUpdate: Codable, Sendable {
    public var name: String?
    public var role: StaffRole?
    public var rooms: [String]?
    public var disabled: Bool?
    /// A new one-time password; the person must change it at their next login.
    public var password: String?
}

extension VenueDatabase {
    /// Passwords set at the venue: at least 10 characters, letters and digits, not the user name.
    static func checkStrength(_ password: String, username: String) throws {
        guard password.count >= 10, password.count <= 256, password.contains(where: \.isLetter),
            password.contains(where: \.isNumber), password.lowercased() != username.lowercased()
        else { throw StoreError.passwordTooWeak }
    }

    /// Changes one's own password; the current one must be given. Clears a one-time password.
    public func changePassword(_ session: StaffSession, current: String, new: String, now: Date = Date()) async throws {
        guard let staff = try await pool.read({ db in try StaffRecord.fetchOne(db, key: session.username) }) else {
            throw StoreError.sessionUnknown
        }
        guard await PasswordHash.verifyAside(current, against: staff.passwordHash) else { throw StoreError.staffLoginFailed }
        try Self.checkStrength(new, username: staff.username)
        guard new != current else { throw StoreError.passwordTooWeak }
        let hash = await PasswordHash.makeAside(new)
        try await groupCommit.write { db in
            try db.execute(
                sql: "UPDATE staff SET passwordHash = ?, mustChangePassword = 0, passwordSetLocally = 1 WHERE username = ?",
                arguments: [hash, staff.username])
            try Self.audit(db, by: session, action: .staffPasswordChanged, now: now)
        }
        forgetSessions { if case .staff(let other) = $0 { other.username == staff.username } else { false } }
    }

    public func staffAccounts() async throws -> [StaffAccount] {
        try await pool.read { db in
            try StaffRecord.order(Column("username")).fetchAll(db).map {
                StaffAccount(
                    username: $0.username, name: $0.name, role: $0.role,
                    rooms: (try? JSONDecoder().decode([String].self, from: Data($0.rooms.utf8))) ?? [], source: $0.source,
                    disabled: $0.disabled, mustChangePassword: $0.mustChangePassword)
            }
        }
    }

    /// Adds a local staff account with a one-time password.
    public func createStaff(
        by admin: StaffSession, username: String, name: String, role: StaffRole, rooms: [String], password: String,
        now: Date = Date()
    ) async throws {
        guard isWellFormedIdentifier(username) else { throw StoreError.invalidRequest("username: 1–64 letters, digits, - _ .") }
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw StoreError.invalidRequest("name") }
        try Self.checkStrength(password, username: username)
        let hash = await PasswordHash.makeAside(password)
        try await groupCommit.write { db in
            guard try StaffRecord.fetchOne(db, key: username) == nil else { throw StoreError.staffExists(username) }
            try Self.checkRoomsExist(db, rooms)
            try StaffRecord(
                username: username, name: name, role: role.rawValue, passwordHash: hash, rooms: try rooms.storedJSON(),
                source: "local", mustChangePassword: true, passwordSetLocally: true, disabled: false
            ).insert(db)
            try Self.audit(
                db, by: admin, action: .staffCreated, now: now,
                detail: ["username": username, "role": role.rawValue, "rooms": rooms.joined(separator: " ")])
        }
    }

    /// Changes an account: name, role, rooms, disabled, or a new one-time password. Disabling ends its sessions.
    public func updateStaff(by admin: StaffSession, username: String, update: StaffUpdate, now: Date = Date()) async throws {
        if let password = update.password { try Self.checkStrength(password, username: username) }
        let hash: String? = if let password = update.password { await PasswordHash.makeAside(password) } else { nil }
        try await groupCommit.write { db in
            guard var staff = try StaffRecord.fetchOne(db, key: username) else {
                throw StoreError.notFound("账号 \(username) / the account \(username)")
            }
            var changed: [String: String] = ["username": username]
            if let name = update.name?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
                staff.name = name
                changed["name"] = name
            }
            if let role = update.role {
                staff.role = role.rawValue
                changed["role"] = role.rawValue
            }
            if let rooms = update.rooms {
                try Self.checkRoomsExist(db, rooms)
                staff.rooms = try rooms.storedJSON()
                changed["rooms"] = rooms.joined(separator: " ")
            }
            if let disabled = update.disabled {
                staff.disabled = disabled
                changed["disabled"] = "\(disabled)"
            }
            if let hash {
                staff.passwordHash = hash
                staff.mustChangePassword = true
                staff.passwordSetLocally = true
                changed["password"] = "reset"
            }
            guard !(admin.username == username && (staff.disabled || staff.role != StaffRole.admin.rawValue)) else {
                throw StoreError.invalidRequest("an admin cannot disable or demote their own account")
            }
            try staff.update(db)
            if staff.disabled || hash != nil || update.role != nil || update.rooms != nil {
                try db.execute(
                    sql: "UPDATE session SET endedAt = ?, endReason = 'accountChanged' WHERE username = ? AND endedAt IS NULL AND id != ?",
                    arguments: [now.millis, username, admin.sessionID])
            }
            try Self.audit(db, by: admin, action: .staffUpdated, now: now, detail: changed)
        }
        forgetSessions { if case .staff(let other) = $0 { other.username == username } else { false } }
    }

    private static func checkRoomsExist(_ db: Database, _ rooms: [String]) throws {
        for room in rooms where try RoomRecord.fetchOne(db, key: room) == nil {
            throw StoreError.invalidRequest("unknown room \(room)")
        }
    }

    /// On a venue with no admin account at all, creates `admin` with a one-time password and returns that password
    /// (shown once to whoever starts the appliance); nil when an admin exists.
    public func ensureAdminAccount(now: Date = Date()) async throws -> String? {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ")
        let digits = Array("23456789")
        var generator = SystemRandomNumberGenerator()
        let password = String((0..<10).map { _ in alphabet.randomElement(using: &generator)! })
            + String((0..<4).map { _ in digits.randomElement(using: &generator)! })
        let hash = await PasswordHash.makeAside(password)
        let created = try await groupCommit.write { db -> Bool in
            let admins = try StaffRecord.filter(Column("role") == StaffRole.admin.rawValue).fetchCount(db)
            guard admins == 0, try StaffRecord.fetchOne(db, key: "admin") == nil else { return false }
            try StaffRecord(
                username: "admin", name: "考点管理员", role: StaffRole.admin.rawValue, passwordHash: hash, rooms: "[]",
                source: "local", mustChangePassword: true, passwordSetLocally: true, disabled: false
            ).insert(db)
            try Self.audit(
                db, actor: "venue", role: "system", action: .staffCreated, now: now,
                detail: ["username": "admin", "role": "admin", "reason": "first run"])
            return true
        }
        return created ? password : nil
    }
}
