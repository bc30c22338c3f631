import ArgumentParser
import CentralStore
import Foundation
import Logging
import SyncProtocol

/// `central import DIR`: ingests the bundles a venue wrote with `venue export` (a USB stick, when the venue had no
/// link at all), with the same checks and the same idempotency as online batches.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest the signed bundles written by `venue export` (from a USB stick).",
        discussion: """
            DIR is a bundle folder (kaodian-VENUE-…) or a folder holding several. Each bundle's signature is checked \
            against its venue's enrolled key, then its batches are received exactly like online ones: items central \
            already holds are counted as duplicates, so importing twice, or receiving the same items online later, \
            doubles nothing. A refused bundle or batch is reported with its reason, and the command exits with 3.
            """)

    @Argument(help: "A bundle folder, or a folder holding bundle folders.") var directory: String
    @OptionGroup var database: DatabaseOption
    @Option(help: "Folder for the venues' video (as for `central serve`).") var storageDir = "./central-storage"

    func run() async throws {
        var logging = Logger(label: "kaodian.central")
        logging.logLevel = .warning
        let logger = logging
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        let bundles = Self.bundles(in: root)
        guard !bundles.isEmpty else {
            throw ValidationError("no bundle (bundle.json) in \(root.path) / 未找到导出包")
        }
        let database = try database.open(logger: logger)
        let storage = FileRecordingStorage(root: URL(fileURLWithPath: storageDir, isDirectory: true))
        let failed = try await withDatabase(database) {
            var failed = 0
            for folder in bundles {
                do {
                    let outcome = try await database.importBundle(at: folder, storage: storage)
                    say(
                        "\(folder.lastPathComponent): \(outcome.stored) items stored 条新记录, \(outcome.duplicates) already held 条已有, "
                            + "\(outcome.batchesAlreadyImported) batches already imported 批已导入过, "
                            + "\(outcome.videosStored) videos stored 段录像, \(outcome.videosAlreadyHeld) already held 段已有")
                    for problem in outcome.problems { say("  ! \(problem)") }
                    if !outcome.problems.isEmpty { failed += 1 }
                } catch let error as CentralError {
                    failed += 1
                    say("\(folder.lastPathComponent): refused 拒收: \(error.code): \(error.messageEn) / \(error.messageZh)")
                }
            }
            return failed
        }
        if failed > 0 { throw ExitCode(3) }
    }

    static func bundles(in root: URL) -> [URL] {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("bundle.json").path) { return [root] }
        let children = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
        return children.filter { !$0.lastPathComponent.hasPrefix(".") && FileManager.default.fileExists(atPath: $0.appendingPathComponent("bundle.json").path) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
