import ArgumentParser
import ExamCore
import CentralServer
import CentralStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import VenuePackage

@main
struct Central: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "central",
        abstract: "The Kaodian central office service: receives what the venues send (PostgreSQL).",
        subcommands: [Serve.self, VenueCommands.self, PackageCommands.self, AccountCommands.self, Import.self, IssuerKey.self])
}

/// `--database-url`, or `$KAODIAN_CENTRAL_DATABASE_URL`.
struct DatabaseOption: ParsableArguments {
    @Option(help: "postgres://user[:password]@host[:port]/database (default: $KAODIAN_CENTRAL_DATABASE_URL).")
    var databaseURL: String?

    func open(logger: Logger) throws -> CentralDatabase {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["KAODIAN_CENTRAL_DATABASE_URL"] else {
            throw ValidationError("give --database-url or set KAODIAN_CENTRAL_DATABASE_URL")
        }
        return try CentralDatabase(url: url, logger: logger)
    }
}

/// Runs `body` with the database's connection pool running and its schema up to date, and stops the pool
/// afterwards. A database that is not there is reported within `waiting`, not waited for.
func withDatabase<T: Sendable>(
    _ database: CentralDatabase, waiting: Duration = .seconds(5), _ body: @Sendable () async throws -> T
) async throws -> T {
    let pool = Task { await database.run() }
    defer { pool.cancel() }
    try await database.ping(timeout: waiting)
    try await database.migrate()
    return try await body()
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the central service; GET /healthz answers 200 when it and its database are ready.")

    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8090
    @OptionGroup var database: DatabaseOption
    @Option(help: "Folder for the venues' video: uploads in progress and received recordings (created if missing).")
    var storageDir = "./central-storage"
    @Option(help: "Megabytes the storage folder's disk keeps free: video uploads that would use them are refused until room is made.")
    var storageKeepFreeMb: Int64 = 1024
    @Option(help: "Minutes after a sitting's end before missing results raise an alert.") var resultsDueMinutes = 60.0
    @Option(help: "Hours after a sitting's end before missing recordings raise an alert.") var recordingsDueHours = 24.0
    @Option(help: "Seconds between completeness checks.") var completenessEvery = 60.0
    @Option(
        help: """
            The office's SMTP server for alert e-mail: smtp://[user@]host[:port] (STARTTLS when offered; required with a \
            user name) or smtps://[user@]host[:port] (TLS from the start).
            """)
    var smtpURL: String?
    @Option(help: "File whose first line is the SMTP password of the user in --smtp-url.") var smtpPasswordFile: String?
    @Option(help: "PEM file of the authority that signed the mail server's certificate (default: the system's authorities).")
    var smtpCaFile: String?
    @Option(help: "Sender address of alert e-mail.") var alertFrom = "kaodian-central@localhost"
    @Option(help: "Who gets alert e-mail (repeat for several).") var alertEmail: [String] = []
    @Option(help: "An SMS gateway's webhook: central POSTs {\"to\": [...], \"message\": \"...\"} as JSON for each alert.")
    var smsWebhook: String?
    @Option(help: "Phone numbers sent to the SMS webhook with each alert (repeat for several).") var smsTo: [String] = []
    @Option(
        help: """
            The issuer id venue packages are signed as, given when the key is made on first start in --storage-dir/keys/ \
            (default kaodian-central); later starts use the key's own id and refuse a different one.
            """)
    var issuerId: String?
    @Option(help: "The issuer's name as packages show it.") var issuerName = "职业技能等级认定中心"
    @Option(help: "Minutes before a sitting's start at which its sealed paper's key is released to the venue.")
    var sealReleaseMinutes = 15.0

    func validate() throws {
        if let smtpURL, try smtpSettings(url: smtpURL) == nil {
            throw ValidationError(
                "--smtp-url must be smtp://[user@]host[:port] or smtps://[user@]host[:port], with --smtp-password-file exactly when it names a user")
        }
        if let smtpCaFile, !FileManager.default.isReadableFile(atPath: smtpCaFile) {
            throw ValidationError("--smtp-ca-file \(smtpCaFile) cannot be read")
        }
        if smtpURL != nil && alertEmail.isEmpty { throw ValidationError("--smtp-url needs at least one --alert-email") }
        if let smsWebhook, URL(string: smsWebhook).map({ ["http", "https"].contains($0.scheme ?? "") }) != true {
            throw ValidationError("--sms-webhook must be an http:// or https:// address")
        }
        guard issuerId.map(isWellFormedIdentifier) ?? true else { throw ValidationError("--issuer-id may only hold letters, digits, '-', '_', '.'") }
        guard sealReleaseMinutes >= 0 else { throw ValidationError("--seal-release-minutes cannot be negative") }
        guard resultsDueMinutes >= 0, recordingsDueHours >= 0, completenessEvery >= 0.1 else {
            throw ValidationError("the due times cannot be negative, and completeness is checked at most every 0.1 s")
        }
    }

    func smtpSettings(url: String) throws -> SMTPSettings? {
        var password: String?
        if let smtpPasswordFile {
            guard let text = try? String(contentsOfFile: smtpPasswordFile, encoding: .utf8) else {
                throw ValidationError("--smtp-password-file \(smtpPasswordFile) cannot be read")
            }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        return SMTPSettings(url: url, from: alertFrom, to: alertEmail, password: password, trustedCAFile: smtpCaFile)
    }

    var alerts: AlertSettings {
        var settings = AlertSettings()
        settings.policy = CompletenessPolicy(resultsDueAfter: resultsDueMinutes * 60, recordingsDueAfter: recordingsDueHours * 3600)
        settings.checkEvery = .milliseconds(Int(completenessEvery * 1000))
        settings.smtp = smtpURL.flatMap { try? smtpSettings(url: $0) }
        settings.smsWebhook = smsWebhook
        settings.smsTo = smsTo
        return settings
    }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: storageDir, withIntermediateDirectories: true)
        var logging = Logger(label: "kaodian.central")
        logging.logLevel = .info
        let logger = logging
        let database = try database.open(logger: logger)
        let configuration = CentralConfiguration(host: host, port: port)
        let issuer = try IssuerSettings.load(
            folder: URL(fileURLWithPath: storageDir).appendingPathComponent("keys"), issuer: issuerId, name: issuerName,
            releaseLead: sealReleaseMinutes * 60)
        try await withDatabase(database, waiting: .seconds(10)) {
            let app = CentralApp.buildApplication(
                database: database, configuration: configuration, logger: logger, uploads: .files(at: storageDir, keepFreeBytes: max(0, storageKeepFreeMb) << 20),
                alerts: alerts, issuer: issuer
            ) { port in
                let shown = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
                FileHandle.standardOutput.write(Data(
                    "Kaodian central is ready 中心服务已启动: http://\(shown):\(port)/healthz\n  office pages 中心管理页面: http://\(shown):\(port)/office/\n".utf8))
            }
            try await app.runService()
        }
    }
}

struct VenueCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "venue", abstract: "Register venues and give them their enrolment codes.",
        subcommands: [Add.self, Renew.self, Revoke.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a venue; prints its one-time enrolment code (valid 7 days) for `venue enrol`.")
        @Option(help: "The venue's id, as in its venue packages.") var id: String
        @Option(help: "The venue's name.") var name: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let (venue, code) = try await withDatabase(database) { try await database.addVenue(id: id, name: name) }
            print("venue \(venue.id) (\(venue.name)) registered 考点已登记")
            print("enrolment code 注册码: \(code)  (valid until \(ISO8601DateFormatter().string(from: venue.enrolmentExpiresAt ?? Date())))")
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a venue a new enrolment code (a replaced appliance); its old key no longer counts.")
        @Option(help: "The venue's id.") var id: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let code = try await withDatabase(database) { try await database.renewEnrolment(id: id) }
            print("enrolment code 注册码: \(code)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a venue (a stolen or retired appliance): nothing from it is accepted any more.")
        @Option(help: "The venue's id.") var id: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            try await withDatabase(database) { try await database.revokeVenue(id: id) }
            print("venue \(id) revoked 考点已吊销")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the venues: id, state, name.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let venues = try await withDatabase(database) { try await database.venues() }
            for venue in venues {
                let state = venue.revokedAt != nil ? "revoked" : venue.enrolledAt != nil ? "enrolled" : "waiting"
                print("\(venue.id)\t\(state)\t\(venue.name)")
            }
        }
    }
}

extension CentralError: CustomStringConvertible {
    public var description: String { "\(code): \(messageEn) / \(messageZh)" }
}

struct AccountCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Office accounts for the admin pages (/office/).",
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Create an office account, or give an existing one a new password; prints the password once.")
        @Option(help: "User name (letters, digits, '-', '_', '.').") var username: String
        @Option(help: "The person's name, as the pages show it.") var name: String?
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let password = try await withDatabase(database) { try await database.setOfficeAccount(username: username, name: name) }
            print("account \(username) ready 账号已就绪; password 密码: \(password)")
        }
    }
}

struct PackageCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Venue packages the venues fetch over the sync channel.",
        subcommands: [Issue.self, List.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a signed venue package to its venue: checked whole first, then fetched by the venue when online.",
            discussion: """
                The package is read and checked as a venue would (archive, format version, the issuer's signature \
                against --issuer-key, every part's digest, the content) and must be for --venue. The venue fetches it \
                the next time it reaches the central office, imports it under its own rules and reports the outcome \
                (`central package list`).
                """)
        @Option(help: "The venue it is for.") var venue: String
        @Option(help: "The issuer's public key (ISSUER.pub.json from `venue keygen`) the package must be signed with.")
        var issuerKey: String
        @Argument(help: "The package file.") var file: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let url = URL(fileURLWithPath: file)
            let key = try IssuerPublicKey.load(from: URL(fileURLWithPath: issuerKey))
            let verified: VerifiedPackage
            do {
                verified = try PackageReader.read(url, trusting: [key])
            } catch {
                throw ValidationError("\(file): \(error.code): \(error.message.en) / \(error.message.zh)")
            }
            guard verified.manifest.venue.id.rawValue == venue else {
                throw ValidationError("the package is for venue \(verified.manifest.venue.id.rawValue), not \(venue) / 考务包不属于该考点")
            }
            let data = try Data(contentsOf: url)
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let issued = try await withDatabase(database) {
                try await database.issuePackage(venueID: venue, packageID: verified.manifest.packageID, file: data)
            }
            print("package \(issued.packageId) issued to \(venue) 考务包已下发 (\(issued.bytes) bytes, SHA-256 \(issued.sha256))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A venue's packages: id, issued, fetched, imported or refused (why).")
        @Option(help: "The venue.") var venue: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let database = try database.open(logger: Logger(label: "kaodian.central"))
            let packages = try await withDatabase(database) { try await database.packages(venueID: venue) }
            let format = ISO8601DateFormatter()
            for package in packages {
                let state = package.imported.map { $0 ? "imported" : "refused" } ?? (package.fetchedAt == nil ? "waiting" : "fetched")
                print([package.packageId, state, format.string(from: package.issuedAt), package.result ?? ""].joined(separator: "\t"))
            }
        }
    }
}

struct IssuerKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issuer-key",
        abstract: "Print the public key central signs venue packages with (made on first use), for a venue's trusted-issuers/ folder.",
        discussion: """
            Venues enrolled with `venue enrol` receive this key with their enrolment and trust it already. A venue that \
            enrolled earlier, or takes packages by USB only, needs the printed JSON saved as DATA/trusted-issuers/ISSUER.json.
            """)
    @Option(help: "The folder `central serve` keeps its storage in.") var storageDir = "./central-storage"
    @Option(help: "The issuer id when the key is made now (default kaodian-central); a different one than an existing key's is refused.")
    var issuerId: String?

    func run() async throws {
        let settings = try IssuerSettings.load(
            folder: URL(fileURLWithPath: storageDir).appendingPathComponent("keys"), issuer: issuerId, name: "", releaseLead: 0)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        print(String(decoding: try encoder.encode(try settings.key.publicKey()), as: UTF8.self))
    }
}
