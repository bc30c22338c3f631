import ArgumentParser
import AsyncHTTPClient
import Crypto
import ExamCore
import Foundation
import VenuePackage
import Logging
import NIOCore
import NIOHTTP1
import SyncClient
import VenueStore

/// `venue enrol`: the venue introduces itself to the central office once, with the one-time code the office gave,
/// by registering the public half of a key it makes and keeps (Ed25519). Everything it sends later is signed with it.
struct Enrol: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register this venue with the central office, once, with its one-time enrolment code.",
        discussion: """
            Makes the venue's signing key (Ed25519) in DATA/sync/venue-signing.key if there is none (readable by its \
            owner only), sends its public half with the code to the central service, and on success remembers the \
            central office's address in DATA/sync/central.json. A refusal is printed with its reason (code, English, \
            Chinese) and exits with 3.
            """)

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The central service, e.g. https://central.example.org or http://127.0.0.1:8090.") var central: String
    @Option(help: "This venue's id at the central office (the one in its venue packages).") var venueId: String
    @Option(help: "The one-time enrolment code from the central office (XXXX-XXXX-XXXX).") var code: String

    func validate() throws {
        guard let url = URL(string: central), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--central must be an http:// or https:// address")
        }
    }

    func run() async throws {
        var logger = Logger(label: "kaodian.sync")
        logger.logLevel = .warning
        let database = try VenueDatabase.open(folder: data.url, logger: logger)
        if let venue = try await database.venue(), venue.id.rawValue != venueId {
            throw ValidationError("this venue's packages are for venue \(venue.id.rawValue), not \(venueId) / 本考点的考务包属于考点 \(venue.id.rawValue)，不是 \(venueId)")
        }
        let key = try VenueSyncSettings.loadOrCreateSigningKey(dataDirectory: data.url)

        struct Enrolment: Encodable {
            var venueId: String
            var code: String
            var publicKey: String
        }
        var request = HTTPClientRequest(url: central.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/enrolments")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(
            Enrolment(venueId: venueId, code: code, publicKey: key.publicKey.rawRepresentation.base64EncodedString()))))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw ValidationError("cannot reach the central service at \(central): \(error) / 无法连接中心服务")
        }
        guard response.status == .created else {
            struct Refusal: Decodable {
                struct Detail: Decodable {
                    var code: String
                    var message: String
                    var messageZh: String
                }
                var error: Detail
            }
            if let refusal = try? JSONDecoder().decode(Refusal.self, from: Data(body.readableBytesView)) {
                FileHandle.standardError.write(Data(
                    "enrolment refused 注册被拒绝: \(refusal.error.code): \(refusal.error.message) / \(refusal.error.messageZh)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("enrolment refused: HTTP \(response.status.code)\n".utf8))
            }
            throw ExitCode(3)
        }
        try VenueSyncSettings.remember(centralURL: central, venueID: venueId, enrolledAt: Date(), dataDirectory: data.url)
        say("venue \(venueId) enrolled with the central office at \(central) 考点已在中心注册")
        // The central office's package-signing key comes with the answer: packages it builds are trusted from now on.
        struct Answer: Decodable {
            var issuer: IssuerPublicKey?
        }
        if let issuer = (try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)))?.issuer,
            isWellFormedIdentifier(issuer.issuer), (try? issuer.signingKey()) != nil
        {
            let folder = data.url.appendingPathComponent("trusted-issuers")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(issuer).write(to: folder.appendingPathComponent("\(issuer.issuer).json"), options: .atomic)
            say("trusting packages signed by \(issuer.issuer) 已信任中心的考务包签名密钥")
        }
    }
}
