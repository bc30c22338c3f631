import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing
import VenueStore

@testable import VenueServer

/// One operation of docs/openapi.yaml with the roles it admits (`x-roles`); nil roles means public.
struct DocumentedOperation: CustomStringConvertible {
    var method: String
    var path: String
    var roles: Set<String>?
    var description: String { "\(method) \(path)" }
}

/// Operations with their `security` and `x-roles`, read with the same line rules as `documentedOperations()`.
func documentedSecurity() throws -> [DocumentedOperation] {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")
    let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    var operations: [DocumentedOperation] = []
    var inPaths = false
    var path: String?
    for line in lines {
        if line == "paths:" { inPaths = true; continue }
        if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
        guard inPaths else { continue }
        if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
            path = String(line.dropFirst(2).dropLast())
        } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
            let word = String(line.trimmingCharacters(in: .whitespaces).dropLast())
            if ["get", "post", "put", "patch", "delete"].contains(word) {
                operations.append(DocumentedOperation(method: word.uppercased(), path: path, roles: nil))
            }
        } else if line.hasPrefix("      x-roles: ["), !operations.isEmpty {
            let list = line.split(separator: "[")[1].split(separator: "]")[0]
            operations[operations.count - 1].roles = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }
    return operations
}

/// Who calls: anonymous, a candidate of room R01, or a staff member.
enum Caller: String, CaseIterable {
    case anonymous, candidate, admin, invigilator, otherRoomInvigilator, examiner, supervisor

    /// The role name as openapi.yaml writes it.
    var role: String? {
        switch self {
        case .anonymous: nil
        case .otherRoomInvigilator: "invigilator"
        default: rawValue
        }
    }
}

@Suite("Every route checks the caller's role and room")
struct RoleMatrixTests {
    @Test func everySecuredRouteAdmitsExactlyTheDocumentedRoles() async throws {
        let operations = try documentedSecurity()
        let public_ = operations.filter { $0.roles == nil }.map(\.description).sorted()
        // The only operations anyone may call: readiness, the venue's certificate authority and the two logins.
        #expect(public_ == ["GET /healthz", "GET /venue-ca.crt", "POST /api/candidate/login", "POST /api/staff/login"])

        try await withVenue(startsAt: Date().addingTimeInterval(-60)) { client, _, _ in
            let admin = try await staffToken(client, username: "admin", password: "kaodian-admin")
            // Examiner and supervisor accounts, their one-time passwords changed so they are fully usable.
            for (username, role) in [("examiner1", "examiner"), ("supervisor1", "supervisor")] {
                let created = try await client.execute(
                    uri: "/api/admin/staff", method: .post, headers: bearer(admin),
                    body: json(NewAccount(username: username, name: username, role: role, rooms: ["R01"], password: "first-pass-123")))
                #expect(created.status == .created)
                let token = try await staffToken(client, username: username, password: "first-pass-123")
                let changed = try await client.execute(
                    uri: "/api/staff/password", method: .post, headers: bearer(token),
                    body: json(["currentPassword": "first-pass-123", "newPassword": "second-pass-456"]))
                #expect(changed.status == .noContent)
            }
            let attempt = try decode(
                AttemptState.self,
                try await client.execute(uri: "/api/attempt", method: .get, headers: bearer(try await candidateToken(client, terminal: "matrix"))))

            /// Tokens are reused, except after an operation that may end a session (logout).
            var tokens: [Caller: String] = [:]
            func token(_ caller: Caller) async throws -> String? {
                if let token = tokens[caller] { return token }
                let token = try await freshToken(caller)
                tokens[caller] = token
                return token
            }
            func freshToken(_ caller: Caller) async throws -> String? {
                switch caller {
                case .anonymous: nil
                case .candidate: try await candidateToken(client, terminal: "matrix")
                case .admin: try await staffToken(client, username: "admin", password: "kaodian-admin")
                case .invigilator: try await staffToken(client, username: "invigilator1")
                case .otherRoomInvigilator: try await staffToken(client, username: "invigilator2")
                case .examiner: try await staffToken(client, username: "examiner1", password: "second-pass-456")
                case .supervisor: try await staffToken(client, username: "supervisor1", password: "second-pass-456")
                }
            }
            let values = [
                "sittingId": "S-DEMO-THEORY", "roomId": "R01", "admissionNumber": "KD261100001", "attemptId": attempt.attemptId,
                "moveId": "no-such-move", "attachmentId": "no-such-attachment", "username": "supervisor1",
                "verificationId": "no-such-verification", "cameraId": "no-such-camera", "fileName": "no-such-segment.mp4",
                "taskId": "no-such-task",
            ]
            var checked = 0
            for operation in operations where operation.roles != nil {
                var uri = operation.path
                for (name, value) in values { uri = uri.replacingOccurrences(of: "{\(name)}", with: value) }
                #expect(!uri.contains("{"), "no value for a parameter of \(operation)")
                if uri.hasSuffix("/live") { uri += "?max=1" }
                for caller in Caller.allCases {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let token = try await token(caller) { headers[.authorization] = "Bearer \(token)" }
                    let response = try await client.execute(
                        uri: uri, method: HTTPRequest.Method(operation.method)!, headers: headers, body: ByteBuffer())
                    let refused = response.status == .unauthorized || response.status == .forbidden
                    let admitted =
                        caller.role.map { operation.roles!.contains($0) } ?? false
                        && !(caller == .otherRoomInvigilator && (uri.contains("/rooms/R01") || uri.hasPrefix("/api/photos/")))
                    if admitted {
                        #expect(!refused, "\(caller) should reach \(operation) but got \(response.status): \(String(buffer: response.body))")
                    } else {
                        #expect(refused, "\(caller) must not reach \(operation) but got \(response.status)")
                    }
                    checked += 1
                    if operation.path == "/api/session/logout" { tokens[caller] = nil }
                }
            }
            #expect(checked >= 7 * 40)
        }
    }
}

struct NewAccount: Encodable {
    var username: String
    var name: String
    var role: String
    var rooms: [String]
    var password: String
}
