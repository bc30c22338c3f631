import CentralServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

@testable import CentralStore

/// Runs `body` with a migrated central database on a fresh PostgreSQL server, its pool running.
func withCentralDatabase(_ body: @Sendable (CentralDatabase, TestPostgres) async throws -> Void) async throws {
    try await withTestPostgres { server in
        var logger = Logger(label: "test")
        logger.logLevel = .warning  // the pool reports every failed connection (one test stops the server)
        let database = try CentralDatabase(url: server.url, logger: logger)
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        try await database.migrate()
        try await body(database, server)
    }
}

struct EnrolmentBody: Encodable {
    var venueId: String
    var code: String
    var publicKey: String
}

struct ErrorReply: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
        var messageZh: String
    }
    var error: Detail
}

@Suite("Central: venues enrol once with their one-time code", .serialized, .timeLimit(.minutes(2)))
struct EnrolmentTests {
    @Test func aVenueEnrolsOnceWithItsCodeAndEveryWrongAttemptSaysWhy() async throws {
        try await withCentralDatabase { database, _ in
            // Migrating again (a second server starting) changes nothing.
            try await database.migrate()
            let (venue, code) = try await database.addVenue(id: "V-DEMO", name: "演示考点")
            #expect(venue.name == "演示考点" && venue.enrolledAt == nil && venue.publicKey == nil)
            #expect(code.range(of: #"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$"#, options: .regularExpression) != nil, "\(code)")
            await #expect(throws: CentralError.venueExists("V-DEMO")) { try await database.addVenue(id: "V-DEMO", name: "again") }
            await #expect(throws: CentralError.badVenueID("a venue")) { try await database.addVenue(id: "a venue", name: "x") }

            let key = Curve25519.Signing.PrivateKey()
            let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)

                func enrol(_ venue: String, _ code: String, _ key: String) async throws -> TestResponse {
                    let body = try JSONEncoder().encode(EnrolmentBody(venueId: venue, code: code, publicKey: key))
                    return try await client.execute(
                        uri: "/api/enrolments", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(bytes: body))
                }
                func errorCode(_ response: TestResponse) throws -> String {
                    try JSONDecoder().decode(ErrorReply.self, from: Data(response.body.readableBytesView)).error.code
                }
                let unknown = try await enrol("V-NONE", code, publicKey)
                #expect(try unknown.status == .notFound && errorCode(unknown) == "venue_unknown")
                let wrong = try await enrol("V-DEMO", "AAAA-AAAA-AAAA", publicKey)
                #expect(try wrong.status == .forbidden && errorCode(wrong) == "enrolment_code_wrong")
                let badKey = try await enrol("V-DEMO", code, Data(count: 16).base64EncodedString())
                #expect(try badKey.status == .badRequest && errorCode(badKey) == "public_key_invalid")
                let notJSON = try await client.execute(
                    uri: "/api/enrolments", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{"))
                #expect(notJSON.status == .badRequest)

                // The code as a person types it: lower case, no dashes.
                let typed = code.lowercased().replacingOccurrences(of: "-", with: "")
                let enrolled = try await enrol("V-DEMO", typed, publicKey)
                #expect(enrolled.status == .created, "\(String(buffer: enrolled.body))")
                let again = try await enrol("V-DEMO", code, publicKey)
                #expect(try again.status == .conflict && errorCode(again) == "enrolment_used")
                let reply = try JSONDecoder().decode(ErrorReply.self, from: Data(again.body.readableBytesView))
                #expect(reply.error.messageZh.contains("已注册"))
            }
            let stored = try await database.venue(id: "V-DEMO")
            #expect(stored.publicKey == publicKey && stored.enrolledAt != nil && stored.enrolmentExpiresAt == nil)
        }
    }

    @Test func anExpiredCodeIsRefusedARenewedOneReplacesTheKeyAndARevokedVenueIsRefused() async throws {
        try await withCentralDatabase { database, _ in
            let (_, first) = try await database.addVenue(id: "V2", name: "第二考点")
            let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
            await #expect(throws: CentralError.enrolmentExpired) {
                try await database.enrol(venueID: "V2", code: first, publicKey: key, now: Date().addingTimeInterval(8 * 86400))
            }
            _ = try await database.enrol(venueID: "V2", code: first, publicKey: key)
            // The appliance is replaced: a new code, the old key no longer counts, the old code stays dead.
            let second = try await database.renewEnrolment(id: "V2")
            #expect(try await database.venue(id: "V2").publicKey == nil)
            await #expect(throws: CentralError.enrolmentCodeWrong) {
                try await database.enrol(venueID: "V2", code: first, publicKey: key)
            }
            let newKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
            let venue = try await database.enrol(venueID: "V2", code: second, publicKey: newKey)
            #expect(venue.publicKey == newKey.base64EncodedString())

            // A revoked venue cannot enrol, even with a fresh code, until the office renews it.
            let (_, third) = try await database.addVenue(id: "V3", name: "第三考点")
            try await database.revokeVenue(id: "V3")
            #expect(try await database.venue(id: "V3").revokedAt != nil)
            await #expect(throws: CentralError.venueRevoked) {
                try await database.enrol(venueID: "V3", code: third, publicKey: newKey)
            }
            await #expect(throws: CentralError.venueUnknown("V-NONE")) { try await database.revokeVenue(id: "V-NONE") }
            let fourth = try await database.renewEnrolment(id: "V3")
            #expect(try await database.venue(id: "V3").revokedAt == nil)
            _ = try await database.enrol(venueID: "V3", code: fourth, publicKey: newKey)
        }
    }

    @Test func healthSaysWhenTheDatabaseIsGone() async throws {
        try await withCentralDatabase { database, server in
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
                server.stop()
                let down = try await client.execute(uri: "/healthz", method: .get)
                #expect(down.status == .serviceUnavailable)
                #expect(String(buffer: down.body).contains("database_unavailable"))
            }
        }
    }
}

@Suite("The central API description stays true")
struct CentralOpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/central-openapi.yaml")
        var documented = Set<String>()
        var path: String?
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                ["get:", "post:", "put:", "patch:", "delete:"].contains(line.trimmingCharacters(in: .whitespaces))
            {
                documented.insert("\(line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()) \(path)")
            }
        }
        // Building the router needs a database object, not a running server.
        let database = try CentralDatabase(url: "postgres://nobody@127.0.0.1:1/none", logger: Logger(label: "test"))
        let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        #expect(routes == documented, "served \(routes.sorted()), documented \(documented.sorted())")
    }
}
