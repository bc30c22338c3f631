import ArgumentParser
import CameraKit
import Foundation
import Logging

struct CameraCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera",
        abstract: "IP cameras: check that a camera's RTSP stream can be recorded.",
        subcommands: [CameraProbeCommand.self])
}

struct CameraProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Open a camera's RTSP stream and print codec, resolution, frame rate and bitrate.",
        discussion: """
            The last line reads `codec=h264 width=1280 height=720 fps=25.00 bitrate=BITS_PER_SECOND audio=none`. \
            On failure the reason (code, Chinese and English) goes to stderr and the exit code is 3 (2 for an \
            address that is not an rtsp:// or rtsps:// URL). Passwords in the URL are never printed.
            """)

    @Argument(help: "Camera stream, e.g. rtsp://user:password@192.168.1.64:554/Streaming/Channels/101.")
    var url: String
    @Option(help: "Seconds to wait for the camera at each step before giving up.") var timeout: Double = 10
    @Option(help: "Seconds of video to read to measure the bitrate.") var measure: Double = 3

    func validate() throws {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        guard measure > 0, measure <= 60 else { throw ValidationError("--measure must be between 0 and 60 seconds") }
    }

    func run() async throws {
        var logger = Logger(label: "kaodian.camera")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LibAVLogging.route(to: logger)
        let probe = CameraProbe(logger: logger, measureFor: .milliseconds(Int(measure * 1000)))
        do throws(CameraError) {
            let info = try await probe.probe(url: url, timeout: .milliseconds(Int(timeout * 1000)))
            print("codec: \(info.codec)")
            print("resolution: \(info.width)x\(info.height)")
            print("frame rate: \(String(format: "%.2f", info.framesPerSecond)) fps")
            print("bitrate: \(info.bitrate / 1000) kb/s (measured over \(String(format: "%.1f", info.measuredSeconds)) s)")
            print("audio: \(info.audioCodec ?? "none")")
            print(info.summary)
        } catch {
            let shown = (try? CameraURL(url))?.masked ?? maskCredentials(in: url)
            FileHandle.standardError.write(Data("""
                camera: \(shown)
                \(error.code): \(error.messageZh)
                \(error.code): \(error.messageEn)

                """.utf8))
            if case .badURL = error { throw ExitCode(2) }
            throw ExitCode(3)
        }
    }
}
