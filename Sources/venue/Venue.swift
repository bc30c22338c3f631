import ArgumentParser
import DemoContent
import ExamCore
import Foundation
import Hummingbird
import Logging
import VenuePackage
import VenueServer
import VenueStore

@main
struct VenueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "venue",
        abstract: "Kaodian venue appliance: delivers theory exams to browser terminals on the test site's LAN.",
        subcommands: [Serve.self, Import.self, DemoPackageCommand.self, Keygen.self, FaceCommand.self, CameraCommand.self, Enrol.self, Export.self])
}

struct DataDirectoryOption: ParsableArguments {
    @Option(name: .long, help: "Folder holding the venue database, attachments and trusted issuer keys.")
    var dataDir: String = "venue-data"

    var url: URL { URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the venue server (candidate terminals, invigilator console, admin pages).")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Address to listen on; 0.0.0.0 serves the whole LAN.") var host = "0.0.0.0"
    @Option(help: "TCP port.") var port = 8080
    @Option(help: "HTTPS port (the same pages; browsers on other devices open the camera only over HTTPS); 0 turns it off.")
    var httpsPort = 8443
    @Flag(help: "Import a demo exam (signed by a demo issuer key kept in the data folder) if none is there yet.")
    var demo = false
    @Option(help: "With --demo: seconds from now until the demo sitting starts.") var demoStartIn = 300
    @Option(help: "With --demo: number of demo candidates.") var demoCandidates = 60
    @Option(help: "With --demo: sitting duration in minutes.") var demoDuration = 90
    @Flag(help: "With --demo: candidates check in by face at their terminal before the paper opens.")
    var demoSelfCheckIn = false
    @Option(help: "With --demo: random face re-checks per candidate during the exam (0-20).") var demoRechecks = 0
    @Flag(help: "With --demo: a skill sitting too, after the theory one, scored by examiner1/examiner2 at /examiner/ (a new data folder only).")
    var demoSkill = false
    @Option(
        name: .customLong("demo-camera"),
        help: "With --demo: a room camera for the demo, ROOM=rtsp://… (repeatable; scripts/demo.sh starts test cameras).")
    var demoCameras: [String] = []
    @Option(help: "With --demo: the shared face folder (…/shared/face) to take real photos from.")
    var facePhotos: String?
    @Option(help: "Serve the web pages from this folder instead of the built-in copy (page development).")
    var webRoot: String?
    @Option(help: "Folder with the face models and face.json (default: $KAODIAN_FACE_MODELS or ./models).")
    var faceModels: String?
    @Option(help: "Length of a camera recording segment in seconds (cut at a keyframe).") var segmentSeconds = 60.0
    @Option(help: "Seconds a room may sit an exam unrecorded, or a camera be down, before an alert is raised.")
    var recordingAlertsAfter = 60.0
    @Option(help: "Free space (GB) on the recordings' disk to keep: below it an alert is raised and uploaded recordings are deleted, oldest first; below half of it, the others too.")
    var recordingFreeFloorGb = 2.0
    @Option(help: "At most this many GB of recordings are kept (uploaded ones are deleted first); none by default.")
    var recordingQuotaGb: Double?
    @Option(help: "Upper limit for uploading recordings to the central office, in kilobits per second (results are never limited); none by default.")
    var syncVideoKbps: Int?
    @Option(help: "Size of one video chunk sent to the central office, in KiB (each is acknowledged, so a cut link re-sends at most one).")
    var syncVideoChunkKib = 4096
    @Option(help: "Days face pictures taken at the venue, and candidates' face templates, are kept after their sitting ended (then deleted; the verification records stay).")
    var faceKeepDays = 90
    @Option(help: "Days the outbox keeps items the central office acknowledged (copies of the venue's own records); 0 deletes them once all is sent.")
    var syncKeepDays = 30

    func run() async throws {
        var logger = Logger(label: "kaodian.venue")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var configuration = VenueConfiguration(
            dataDirectory: data.url, host: host, port: port, webRoot: webRoot,
            faceModels: faceModels.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? VenueConfiguration.defaultFaceModels)
        guard segmentSeconds >= 1, segmentSeconds <= 600 else {
            throw ValidationError("--segment-seconds must be between 1 and 600")
        }
        configuration.recording.segmentSeconds = segmentSeconds
        configuration.recording.notRecordedAfter = max(0, recordingAlertsAfter)
        configuration.recording.cameraDownAfter = max(0, recordingAlertsAfter)
        configuration.recording.freeSpaceFloor = Int64(max(0, recordingFreeFloorGb) * 1_073_741_824)
        configuration.recording.quotaBytes = recordingQuotaGb.map { Int64(max(0, $0) * 1_073_741_824) }
        configuration.sync.videoBytesPerSecond = syncVideoKbps.map { max(1, $0) * 1000 / 8 }
        configuration.sync.videoChunkBytes = max(16, min(syncVideoChunkKib, 16 * 1024)) * 1024
        configuration.sync.keepAcknowledged = TimeInterval(max(0, syncKeepDays)) * 86_400
        configuration.faceKeep = TimeInterval(max(1, faceKeepDays)) * 86_400
        let database = try VenueDatabase.open(folder: data.url, logger: logger)
        if demo {
            let setup = DemoSetup(
                configuration: configuration, database: database, startIn: TimeInterval(demoStartIn),
                candidates: demoCandidates, durationMinutes: demoDuration, facePhotos: facePhotos.map { URL(fileURLWithPath: $0) },
                faceChecks: try FaceChecks.demo(selfCheckIn: demoSelfCheckIn, rechecks: demoRechecks), skillSitting: demoSkill
            )
            try await setup.prepare()
            try await setup.registerCameras(demoCameras)
        }
        if httpsPort > 0 {
            // Made after the demo import, so that the certificate carries the venue's name.
            let names = (host == "0.0.0.0" ? lanAddresses() : [host]) + [ProcessInfo.processInfo.hostName]
            let tls = try VenueTLS.loadOrCreate(
                folder: configuration.tlsFolder, venueName: try await database.venue()?.name ?? "Kaodian venue", names: names)
            configuration.https = .init(port: httpsPort, tls: tls)
        }
        let firstPassword = try await database.ensureAdminAccount()
        if let firstPassword {
            let file = data.url.appendingPathComponent("initial-admin-password.txt")
            if !FileManager.default.createFile(
                atPath: file.path, contents: Data((firstPassword + "\n").utf8), attributes: [.posixPermissions: 0o600])
            {
                logger.warning("could not write \(file.path); the first admin password is only in the start-up banner")
            }
        }
        let httpsPort = configuration.https?.port
        let app = try VenueApp.buildApplication(database: database, configuration: configuration, logger: logger) { port in
            await Banner(
                host: host, port: port, httpsPort: httpsPort, demo: demo, database: database, firstAdminPassword: firstPassword
            ).show()
        }
        try await app.runService()
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a venue package (checked whole against the trusted issuer keys first).")

    @OptionGroup var data: DataDirectoryOption
    @Argument(help: "The venue package file (.kdpkg).") var package: String

    func run() async throws {
        let configuration = VenueConfiguration(dataDirectory: data.url)
        let database = try VenueDatabase.open(folder: data.url)
        do {
            let summary = try await VenueImporter(database: database, trustedIssuers: configuration.trustedIssuers)
                .importPackage(at: URL(fileURLWithPath: package))
            if summary.newlyImported {
                say("imported package \(summary.packageID): \(summary.sittings) sittings, \(summary.candidates) candidates, \(summary.papers) papers, \(summary.staff) staff accounts")
            } else {
                say("package \(summary.packageID) was already imported; nothing changed")
            }
        } catch let error as PackageError {
            FileHandle.standardError.write(Data("refused (\(error.code)):\n".utf8))
            for problem in error.problems {
                FileHandle.standardError.write(Data("  - [\(problem.code)] \(problem.message.en)\n    \(problem.message.zh)\n".utf8))
            }
            throw ExitCode(2)
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("refused (\(error.code)): \(error.message.en)\n  \(error.message.zh)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct DemoPackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-package", abstract: "Write the demo exam as a signed venue package.")

    @Option(help: "Output file.") var out: String
    @Option(help: "Issuer private key file (from `venue keygen`).") var key: String
    @Option(help: "Seconds from now until the sitting starts.") var startIn = 300
    @Option(help: "Sitting duration in minutes.") var duration = 90
    @Option(help: "Number of candidates (30 per room).") var candidates = 60
    @Option(help: "The shared face folder (…/shared/face) to take real photos from.") var facePhotos: String?
    @Flag(help: "Candidates check in by face at their terminal before the paper opens.") var selfCheckIn = false
    @Option(help: "Random face re-checks per candidate during the exam (0-20).") var rechecks = 0
    @Flag(help: "Seal the demo sitting's paper (format version 2) and print its code (启封码) for the venue admin.")
    var sealed = false

    func run() async throws {
        let issuerKey = try IssuerPrivateKey.load(from: URL(fileURLWithPath: key))
        var demo = DemoPackage(
            startsAt: Date().addingTimeInterval(TimeInterval(startIn)), candidateCount: candidates,
            facePhotos: facePhotos.map { URL(fileURLWithPath: $0) })
        demo.durationMinutes = duration
        demo.faceChecks = try FaceChecks.demo(selfCheckIn: selfCheckIn, rechecks: rechecks)
        var contents = demo.contents()
        contents.issuer.id = issuerKey.issuer
        var codes: [Sitting.ID: String] = [:]
        if sealed {
            for sitting in contents.sittings { codes[sitting.id] = SealCode.generate() }
        }
        try PackageWriter.write(contents, sealing: codes, signedWith: issuerKey, to: URL(fileURLWithPath: out))
        say("wrote \(out): \(contents.candidates.count) candidates in \(contents.rooms.count) rooms, sitting starts \(ISO8601DateFormatter().string(from: demo.startsAt))")
        for (sitting, code) in codes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            say("sealed \(sitting): code \(code)")
        }
    }
}

struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an issuer signing key pair: PREFIX.key (private) and PREFIX.pub.json (give this to venues).")

    @Option(help: "Issuer id written into packages and keys.") var issuer: String
    @Option(help: "Path prefix for the two files.") var out: String

    func run() async throws {
        let key = IssuerPrivateKey.generate(issuer: issuer)
        try key.write(privateTo: URL(fileURLWithPath: out + ".key"), publicTo: URL(fileURLWithPath: out + ".pub.json"))
        say("wrote \(out).key (keep it secret) and \(out).pub.json (copy it into a venue's data folder, trusted-issuers/)")
    }
}

/// Writes a line of the command's own output straight to standard output (unbuffered, so it shows at once
/// even when the output is a pipe or a log file).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

extension FaceChecks {
    /// The demo's face checks from the command line, or nil when none is asked for.
    static func demo(selfCheckIn: Bool, rechecks: Int) throws -> FaceChecks? {
        guard (0...FaceChecks.maxRechecks).contains(rechecks) else {
            throw ValidationError("re-checks must be between 0 and \(FaceChecks.maxRechecks)")
        }
        return selfCheckIn || rechecks > 0 ? FaceChecks(selfCheckIn: selfCheckIn, rechecks: rechecks) : nil
    }
}
