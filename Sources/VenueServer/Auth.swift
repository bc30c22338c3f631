import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import VenueStore

/// Which cookie carries a session: candidates and staff may share a browser (a demo, a test), so each has its own.
enum SessionCookie: String {
    case candidate = "kd_candidate"
    case staff = "kd_staff"

    /// HTTP-only, same-site strict.
    func setCookie(_ token: String) -> String {
        "\(rawValue)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=86400"
    }

    var clearCookie: String { "\(rawValue)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }
}

/// Reading who is calling: a bearer token (terminals and pages send it), or the session cookie
/// (so `<img>` and downloads work from the same pages).
extension Request {
    func sessionToken(_ cookie: SessionCookie) -> String? {
        if let header = headers[.authorization], header.utf8.starts(with: "Bearer ".utf8) {
            return String(header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") })
        }
        return cookies[cookie.rawValue]?.value
    }
}

extension VenueAPI {
    func session(_ request: Request, cookie: SessionCookie) async throws -> Session {
        guard let token = request.sessionToken(cookie) else { throw StoreError.sessionUnknown }
        return try await database.session(token: token)
    }

    /// The candidate behind the request. A terminal whose move still waits for approval may only ask for its state.
    func candidate(_ request: Request, allowPending: Bool = false) async throws -> CandidateSession {
        guard case .candidate(let session) = try await session(request, cookie: .candidate) else { throw StoreError.forbidden }
        if session.pending && !allowPending { throw StoreError.movePending }
        return session
    }

    /// A staff member with one of the given roles. Someone holding a one-time password may do nothing else
    /// until they have changed it.
    func staff(_ request: Request, roles: Set<StaffRole>, allowingPasswordChange: Bool = false) async throws -> StaffSession {
        guard case .staff(let session) = try await session(request, cookie: .staff), roles.contains(session.role) else {
            throw StoreError.forbidden
        }
        if session.mustChangePassword && !allowingPasswordChange { throw StoreError.passwordChangeRequired }
        return session
    }

    /// A staff member allowed to act on a room: admins everywhere, invigilators in their own rooms.
    func staff(_ request: Request, room: Room.ID) async throws -> StaffSession {
        let session = try await staff(request, roles: [.admin, .invigilator])
        guard session.mayActIn(room: room) else { throw StoreError.forbidden }
        return session
    }
}

