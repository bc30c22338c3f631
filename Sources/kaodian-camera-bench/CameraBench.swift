import ArgumentParser
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `kaodian-camera-bench`: CPU and memory per camera of the venue's recorder, against the ffmpeg command line doing
/// the same job on the same cameras.
struct CameraBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaodian-camera-bench",
        abstract: "Record N RTSP cameras at once with the venue's CameraRecorder, then with N ffmpeg command lines, "
            + "and compare CPU and memory per stream.",
        discussion: """
            Each round starts N clients, waits --warmup seconds, then measures over --seconds: CPU time (this \
            process's getrusage for the venue, /proc/PID/stat summed for ffmpeg), resident memory (the venue's growth \
            since before the recorders started; ffmpeg's RSS and PSS summed), bytes written, and the whole machine's \
            busy share from /proc/stat. A run where a camera wrote nothing, or a recorder reconnected or reported a \
            gap, fails (exit code 1). scripts/bench-cameras.sh starts a GStreamer camera server and runs this.
            """)

    @Option(help: "Number of cameras recorded at once.") var cameras = 32
    @Option(help: "Length of the measuring window in seconds.") var seconds = 60.0
    @Option(help: "Seconds between starting the clients and the start of the window.") var warmup = 10.0
    @Option(help: "Camera URL with {n} for the camera number 1…N, e.g. rtsp://127.0.0.1:8554/cam{n}.")
    var urlTemplate: String?
    @Option(name: .customLong("url"), help: "Camera URL, one per camera (repeat; the first N are used).")
    var urls: [String] = []
    @Option(help: "Folder in which a fresh run folder is made for segments and ffmpeg outputs (default: $TMPDIR or /tmp).")
    var outputFolder: String?
    @Flag(help: "Keep the run folder instead of deleting it at the end.") var keep = false
    @Option(help: "Segment length of the venue's recorders in seconds (the venue's default is 60).")
    var segmentSeconds = 60.0
    @Option(help: "Process id of a camera server whose CPU to report (repeat for several).")
    var serverPid: [Int32] = []
    @Flag(help: "Record with the venue only.") var skipFfmpeg = false
    @Option(help: "The ffmpeg executable.") var ffmpeg = "ffmpeg"
    @Option(help: "Log messages shown on standard error from this level: trace, debug, info, notice, warning, error.")
    var logLevel = "error"
    @Flag(help: "Also print the figures as one line of JSON.") var json = false

    func validate() throws {
        guard cameras >= 1 else { throw ValidationError("--cameras must be at least 1") }
        guard seconds >= 1, warmup >= 0 else { throw ValidationError("--seconds must be ≥ 1 and --warmup ≥ 0") }
        guard segmentSeconds >= 1 else { throw ValidationError("--segment-seconds must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard urlTemplate != nil || !urls.isEmpty else { throw ValidationError("give --url-template or --url") }
        if urlTemplate == nil, urls.count < cameras {
            throw ValidationError("\(cameras) cameras but only \(urls.count) --url given")
        }
        if let urlTemplate, !urlTemplate.contains("{n}") { throw ValidationError("--url-template needs {n}") }
    }

    func run() async throws {
        // A reader of our output that goes away (the end of a pipe) must not kill the run before it cleans up.
        signal(SIGPIPE, SIG_IGN)
        let cameraURLs = urlTemplate.map { template in
            (1...cameras).map { template.replacingOccurrences(of: "{n}", with: "\($0)") }
        } ?? Array(urls.prefix(cameras))
        let base = outputFolder.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let runFolder = base.appendingPathComponent("kaodian-camera-bench-\(getpid())-\(Int(Date().timeIntervalSince1970))")
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        defer {
            if keep {
                say("kept \(runFolder.path)")
            } else {
                try? FileManager.default.removeItem(at: runFolder)
            }
        }
        let benchmark = Benchmark(
            urls: cameraURLs, warmup: warmup, seconds: seconds, segmentSeconds: segmentSeconds, folder: runFolder,
            serverPIDs: serverPid, ffmpeg: ffmpeg, skipFFmpeg: skipFfmpeg, logLevel: Logger.Level(rawValue: logLevel) ?? .error)
        say("kaodian-camera-bench: \(cameras) cameras, warm-up \(format(warmup, 0)) s, window \(format(seconds, 0)) s, "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores; run folder \(runFolder.path)")

        // SIGINT or SIGTERM cancel the run: the recorders close their segments, the ffmpeg processes are stopped,
        // the run folder is deleted.
        let work = Task { try await benchmark.run() }
        let signals = SignalWatcher([SIGINT, SIGTERM]) { work.cancel() }
        defer { signals.stop() }
        let report: BenchReport
        do {
            report = try await work.value
        } catch is CancellationError {
            say("interrupted: recorders and ffmpeg processes stopped")
            throw ExitCode(130)
        }

        say("")
        for line in report.table() { say(line) }
        say("")
        for line in report.details() { say(line) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            say(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
        if !report.failures.isEmpty {
            say("")
            say("FAILED: \(report.failures.count) problem(s)")
            for failure in report.failures.prefix(40) { say("  - \(failure)") }
            throw ExitCode(1)
        }
    }
}

/// Runs `handler` when one of `signals` arrives, instead of the default action, until `stop`.
final class SignalWatcher {
    private let signals: [Int32]
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32], handler: @escaping @Sendable () -> Void) {
        self.signals = signals
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}
