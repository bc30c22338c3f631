import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TestSupport
import Testing
import VenueStore

@testable import VenueServer

/// `METHOD /path` for every operation in docs/openapi.yaml (paths at two spaces, methods at four).
func documentedOperations() throws -> Set<String> {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")
    let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    var operations = Set<String>()
    var inPaths = false
    var path: String?
    for line in lines {
        if line == "paths:" { inPaths = true; continue }
        if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
        guard inPaths else { continue }
        if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
            path = String(line.dropFirst(2).dropLast())
        } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
            let word = line.trimmingCharacters(in: .whitespaces).dropLast()
            if ["get", "post", "put", "patch", "delete"].contains(String(word)) {
                operations.insert("\(word.uppercased()) \(path)")
            }
        }
    }
    return operations
}

@Suite("The API description stays true")
struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let (database, folder) = try { () throws -> (database: VenueStore.VenueDatabase, folder: URL) in
            let venue = try Fixtures.venue()
            return (venue.database, venue.folder)
        }()
        let router = VenueApp.buildRouter(
            database: database, configuration: VenueConfiguration(dataDirectory: folder), logger: Logger(label: "test"))
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = try documentedOperations()
        #expect(documented.count > 20)
        #expect(routes.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
    }

    /// Every audit action is in the API description's filter and has a name on the admin's audit page.
    @Test func everyAuditActionIsDocumentedAndNamedOnThePage() throws {
        let root = Fixtures.repositoryRoot
        let actions = Set(AuditAction.allCases.map(\.rawValue))
        let yaml = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let line = try #require(yaml.split(separator: "\n").first { $0.contains("enum: [staff.login,") })
        let documented = Set(line.split(separator: "[")[1].split(separator: "]")[0].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        })
        #expect(documented == actions)
        let page = try String(
            contentsOf: root.appendingPathComponent("Sources/VenueServer/Public/admin/accounts.js"), encoding: .utf8)
        let list = try #require(page.components(separatedBy: "export const AUDIT_ACTIONS = [").dropFirst().first)
            .components(separatedBy: "];")[0]
        let listed = Set(list.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        #expect(listed == actions)
        let texts = try String(contentsOf: root.appendingPathComponent("Sources/VenueServer/Public/assets/i18n.js"), encoding: .utf8)
        for action in actions {
            #expect(texts.components(separatedBy: "'audit.\(action)':").count == 3, "audit.\(action) needs a zh and an en text")
        }
    }
}
