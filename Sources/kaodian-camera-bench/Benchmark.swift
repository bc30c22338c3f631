import CameraKit
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One run: the venue's recorders on N cameras, then (unless skipped) N ffmpeg command lines on the same cameras,
/// each measured over the same window after the same warm-up.
struct Benchmark: Sendable {
    var urls: [String]
    var warmup: Double
    var seconds: Double
    var segmentSeconds: Double
    var folder: URL
    var serverPIDs: [Int32]
    var ffmpeg: String
    var skipFFmpeg: Bool
    var logLevel: Logger.Level

    var cameras: Int { urls.count }

    /// The ffmpeg command line for one camera: the job the venue does (stream copy into fragmented MP4), video only.
    static func ffmpegArguments(_ ffmpeg: String, url: String, output: String) -> [String] {
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
         "-c", "copy", "-an", "-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof", output]
    }

    func run() async throws -> BenchReport {
        var report = BenchReport(cameras: cameras, warmupSeconds: warmup, windowSeconds: seconds,
                                 segmentSeconds: segmentSeconds, cores: ProcessInfo.processInfo.activeProcessorCount)
        try await recordWithVenue(into: &report)
        if !skipFFmpeg {
            try await recordWithFFmpeg(into: &report)
        }
        report.finish()
        return report
    }

    // MARK: - The venue's recorders

    private func recordWithVenue(into report: inout BenchReport) async throws {
        let counter = CountingLogHandler.Counter()
        let level = logLevel
        let logger = Logger(label: "kaodian.camera-bench") { CountingLogHandler(label: $0, level: level, counter: counter) }
        LibAVLogging.route(to: logger)
        let tally = RecorderTally(cameras: cameras)
        let folders = (1...cameras).map { folder.appendingPathComponent("venue/cam\(String(format: "%02d", $0))") }
        say("venue round: starting \(cameras) recorders (segments of \(format(segmentSeconds, 0)) s) …")

        let rssBefore = ownRSSKiB()
        let tasks = urls.enumerated().map { index, url in
            var cameraLogger = logger
            cameraLogger[metadataKey: "camera"] = "\(index + 1)"
            let recorder = CameraRecorder(
                configuration: RecorderConfiguration(url: url, folder: folders[index], segmentSeconds: segmentSeconds),
                logger: cameraLogger, onEvent: { tally.record($0, camera: index) })
            return Task { await recorder.run() }
        }
        let stopAll: @Sendable () async -> Double = {
            let began = monotonicSeconds()
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
            return monotonicSeconds() - began
        }

        let start: WindowSample
        let end: WindowSample
        let bytesAtStart: [Int]
        let bytesAtEnd: [Int]
        let rssAfter: Int
        let warningsAtStart: Int
        do {
            try await Task.sleep(for: .seconds(warmup))
            let connected = tally.cameras.filter { $0.sessions > 0 }.count
            say("venue round: \(connected)/\(cameras) recording after the \(format(warmup, 0)) s warm-up; "
                + "measuring \(format(seconds, 0)) s …")
            bytesAtStart = folders.map(folderBytes)
            warningsAtStart = counter.value
            tally.setMeasuring(true)
            start = WindowSample.now(servers: serverPIDs, own: true)
            try await Task.sleep(for: .seconds(seconds))
            end = WindowSample.now(servers: serverPIDs, own: true)
            tally.setMeasuring(false)
            bytesAtEnd = folders.map(folderBytes)
            rssAfter = ownRSSKiB()
        } catch {
            _ = await stopAll()
            throw error
        }
        let stopSeconds = await stopAll()

        let window = end.monotonic - start.monotonic
        let cpu = end.own - start.own
        let cameraTallies = tally.cameras
        let written = zip(bytesAtStart, bytesAtEnd).map { $1 - $0 }
        let figures = RoundFigures(
            windowSeconds: window, cpuUserSeconds: cpu.userSeconds, cpuSystemSeconds: cpu.systemSeconds,
            cpuPercentPerStream: cpu.totalSeconds / window / Double(cameras) * 100,
            rssMiBTotal: Double(rssAfter - rssBefore) / 1024,
            rssMiBPerStream: Double(rssAfter - rssBefore) / 1024 / Double(cameras), pssMiBPerStream: nil,
            bytesPerSecond: Double(written.reduce(0, +)) / window,
            machineBusyPercent: end.machine.busyPercent(since: start.machine),
            serverCPUPercent: WindowSample.serverPercent(start, end))
        report.venue = figures
        report.venueDetails = VenueDetails(
            rssBeforeMiB: Double(rssBefore) / 1024, rssAtEndMiB: Double(rssAfter) / 1024,
            camerasConnected: cameraTallies.filter { $0.sessions > 0 }.count,
            sessions: cameraTallies.reduce(0) { $0 + $1.sessions },
            segmentsClosedInWindow: cameraTallies.reduce(0) { $0 + $1.segmentsClosedInWindow },
            segmentsClosed: cameraTallies.reduce(0) { $0 + $1.segmentsClosed },
            segmentBytes: cameraTallies.reduce(0) { $0 + $1.segmentBytes },
            reconnects: cameraTallies.reduce(0) { $0 + $1.reconnects },
            gaps: cameraTallies.flatMap(\.gaps),
            warningsInWindow: counter.value - warningsAtStart, warnings: counter.value,
            stopSeconds: stopSeconds)

        for (index, camera) in cameraTallies.enumerated() {
            let name = "venue camera \(index + 1)"
            if camera.sessions == 0 {
                report.failures.append("\(name) never started recording (\(camera.lastError ?? "no error reported"))")
            }
            if written[index] <= 0 { report.failures.append("\(name) wrote nothing during the window") }
            if camera.segmentsClosed == 0 { report.failures.append("\(name) closed no segment") }
            if camera.reconnects > 0 {
                report.failures.append("\(name) reconnected \(camera.reconnects) times (\(camera.lastError ?? ""))")
            }
            if !camera.gaps.isEmpty { report.failures.append("\(name) reported gaps: \(camera.gaps.joined(separator: ", "))") }
            if camera.sessions > 1 { report.failures.append("\(name) started \(camera.sessions) recording sessions") }
        }
        say("venue round: stopped in \(format(stopSeconds, 1)) s")
    }

    // MARK: - The ffmpeg command line

    private func recordWithFFmpeg(into report: inout BenchReport) async throws {
        let outputFolder = folder.appendingPathComponent("ffmpeg")
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        let outputs = (1...cameras).map { outputFolder.appendingPathComponent("cam\(String(format: "%02d", $0)).mp4") }
        let logs = outputs.map { $0.deletingPathExtension().appendingPathExtension("log") }
        let commandLine = Self.ffmpegArguments(ffmpeg, url: "URL", output: "OUT.mp4").joined(separator: " ")
        say("ffmpeg round: starting \(cameras) × `\(commandLine)`")
        say("  (-an: the venue records video only; -nostdin: stdin is /dev/null)")

        let children = ChildProcesses()
        defer { children.stopAll(grace: 5) }
        for (index, url) in urls.enumerated() {
            try children.spawn(Self.ffmpegArguments(ffmpeg, url: url, output: outputs[index].path), stderrTo: logs[index])
        }
        try await Task.sleep(for: .seconds(warmup))
        let runningAtStart = Set(children.reap())
        say("ffmpeg round: \(runningAtStart.count)/\(cameras) running after the warm-up; measuring \(format(seconds, 0)) s …")
        let bytesAtStart = outputs.map(fileBytes)
        let pids = children.children.map(\.pid)
        let start = WindowSample.now(servers: serverPIDs, own: false)
        let processesAtStart = pids.map { ProcessSample.read(pid: $0) }
        try await Task.sleep(for: .seconds(seconds))
        let processesAtEnd = pids.map { ProcessSample.read(pid: $0) }
        let end = WindowSample.now(servers: serverPIDs, own: false)
        let bytesAtEnd = outputs.map(fileBytes)
        let runningAtEnd = Set(children.reap())

        let began = monotonicSeconds()
        children.stopAll(grace: 5)
        let stopSeconds = monotonicSeconds() - began

        let window = end.monotonic - start.monotonic
        var used = ProcessSample.zero
        var memory = ProcessSample.zero
        for index in pids.indices {
            guard let first = processesAtStart[index], let last = processesAtEnd[index] else { continue }
            used = used + ProcessSample(userSeconds: last.userSeconds - first.userSeconds,
                                        systemSeconds: last.systemSeconds - first.systemSeconds, rssKiB: 0, pssKiB: 0)
            memory = memory + ProcessSample(userSeconds: 0, systemSeconds: 0, rssKiB: last.rssKiB, pssKiB: last.pssKiB)
        }
        let written = zip(bytesAtStart, bytesAtEnd).map { $1 - $0 }
        report.ffmpeg = RoundFigures(
            windowSeconds: window, cpuUserSeconds: used.userSeconds, cpuSystemSeconds: used.systemSeconds,
            cpuPercentPerStream: used.totalSeconds / window / Double(cameras) * 100,
            rssMiBTotal: Double(memory.rssKiB) / 1024, rssMiBPerStream: Double(memory.rssKiB) / 1024 / Double(cameras),
            pssMiBPerStream: Double(memory.pssKiB) / 1024 / Double(cameras),
            bytesPerSecond: Double(written.reduce(0, +)) / window,
            machineBusyPercent: end.machine.busyPercent(since: start.machine),
            serverCPUPercent: WindowSample.serverPercent(start, end))

        var exits: [String: Int] = [:]
        for child in children.children { exits[child.exit?.description ?? "running", default: 0] += 1 }
        var logsWithErrors = 0
        for (index, log) in logs.enumerated() {
            let text = (try? String(contentsOf: log, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !text.isEmpty {
                logsWithErrors += 1
                if logsWithErrors <= 3 {
                    say("  ffmpeg \(index + 1) said: \(text.split(separator: "\n").prefix(3).joined(separator: " | "))")
                }
            }
        }
        report.ffmpegDetails = FFmpegDetails(exits: exits, logsWithErrors: logsWithErrors, stopSeconds: stopSeconds)
        for index in pids.indices {
            let name = "ffmpeg camera \(index + 1)"
            if !runningAtStart.contains(index) || !runningAtEnd.contains(index) {
                let exit = children.children[index].exit?.description ?? "?"
                report.failures.append("\(name) ended before the window was over (\(exit))")
            }
            if written[index] <= 0 { report.failures.append("\(name): its output did not grow during the window") }
        }
        let endings = exits.map { "\($0.value) × \($0.key)" }.sorted().joined(separator: ", ")
        say("ffmpeg round: stopped in \(format(stopSeconds, 1)) s (\(endings))")
    }
}

/// Counters read at the start and at the end of a measuring window.
struct WindowSample {
    var monotonic: Double
    var machine: MachineCPU
    var server: Double?
    var own: OwnCPU

    static func now(servers: [Int32], own: Bool) -> WindowSample {
        WindowSample(monotonic: monotonicSeconds(), machine: .now(), server: serverCPUSeconds(servers),
                     own: own ? .now() : OwnCPU(userSeconds: 0, systemSeconds: 0))
    }

    /// The camera servers' CPU over the window, % of one core.
    static func serverPercent(_ start: WindowSample, _ end: WindowSample) -> Double? {
        guard let first = start.server, let last = end.server else { return nil }
        return (last - first) / (end.monotonic - start.monotonic) * 100
    }
}

/// Writes a progress or result line to standard output; a closed output (a pipe whose reader is gone) is ignored,
/// so that the run still cleans up after it.
func say(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = write(STDOUT_FILENO, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
