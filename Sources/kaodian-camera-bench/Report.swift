import Foundation

/// One round's figures over the measuring window. CPU percentages are of one core.
struct RoundFigures: Codable, Sendable {
    var windowSeconds: Double
    var cpuUserSeconds: Double
    var cpuSystemSeconds: Double
    var cpuPercentPerStream: Double
    /// Venue: growth of this process's RSS since before the recorders started; ffmpeg: the processes' RSS summed.
    var rssMiBTotal: Double
    var rssMiBPerStream: Double
    /// ffmpeg only: proportional set size (shared libraries divided among the processes), per process.
    var pssMiBPerStream: Double?
    var bytesPerSecond: Double
    /// Whole machine, % of all cores, from /proc/stat.
    var machineBusyPercent: Double
    /// The camera servers given with `--server-pid`, % of one core.
    var serverCPUPercent: Double?
}

struct VenueDetails: Codable, Sendable {
    var rssBeforeMiB: Double
    var rssAtEndMiB: Double
    var camerasConnected: Int
    var sessions: Int
    var segmentsClosedInWindow: Int
    var segmentsClosed: Int
    var segmentBytes: Int
    var reconnects: Int
    var gaps: [String]
    /// Warning and error messages from the recorders and libav.
    var warningsInWindow: Int
    var warnings: Int
    var stopSeconds: Double
}

struct FFmpegDetails: Codable, Sendable {
    /// How the processes ended, e.g. `exit 255` (ffmpeg's status after SIGINT) → count.
    var exits: [String: Int]
    /// Processes that wrote anything to stderr (at `-loglevel error`, only errors).
    var logsWithErrors: Int
    var stopSeconds: Double
}

/// Everything one run measured, printed as a table and as JSON.
struct BenchReport: Codable, Sendable {
    var cameras: Int
    var warmupSeconds: Double
    var windowSeconds: Double
    var segmentSeconds: Double
    var cores: Int
    var venue: RoundFigures?
    var venueDetails: VenueDetails?
    var ffmpeg: RoundFigures?
    var ffmpegDetails: FFmpegDetails?
    var failures: [String] = []

    /// Venue CPU per stream divided by ffmpeg's (set by `finish`).
    var ratio: Double?
    /// No failures (set by `finish`).
    var valid = false

    init(cameras: Int, warmupSeconds: Double, windowSeconds: Double, segmentSeconds: Double, cores: Int) {
        self.cameras = cameras
        self.warmupSeconds = warmupSeconds
        self.windowSeconds = windowSeconds
        self.segmentSeconds = segmentSeconds
        self.cores = cores
    }

    /// Fills in the figures derived from both rounds.
    mutating func finish() {
        if let venue, let ffmpeg, ffmpeg.cpuPercentPerStream > 0 {
            ratio = venue.cpuPercentPerStream / ffmpeg.cpuPercentPerStream
        }
        valid = failures.isEmpty
    }

    static let tableHeader = [
        "| N | venue CPU %/stream | ffmpeg CPU %/stream | ratio | venue MiB/stream | ffmpeg MiB/stream RSS (PSS) "
            + "| machine busy % venue / ffmpeg | camera server CPU % venue / ffmpeg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    /// The row of the summary table (CPU as % of one core; machine busy as % of all cores).
    var tableRow: String {
        func cell(_ value: Double?, _ decimals: Int) -> String { value.map { format($0, decimals) } ?? "–" }
        let ffmpegMemory = ffmpeg.map { "\(format($0.rssMiBPerStream, 1)) (\(cell($0.pssMiBPerStream, 1)))" } ?? "–"
        return "| \(cameras) | \(cell(venue?.cpuPercentPerStream, 2)) | \(cell(ffmpeg?.cpuPercentPerStream, 2)) "
            + "| \(cell(ratio, 2)) | \(cell(venue?.rssMiBPerStream, 1)) | \(ffmpegMemory) "
            + "| \(cell(venue?.machineBusyPercent, 0)) / \(cell(ffmpeg?.machineBusyPercent, 0)) "
            + "| \(cell(venue?.serverCPUPercent, 1)) / \(cell(ffmpeg?.serverCPUPercent, 1)) |"
    }

    func table() -> [String] { Self.tableHeader + [tableRow] }

    func details() -> [String] {
        var lines: [String] = []
        func mb(_ bytes: Double) -> String { format(bytes / 1_000_000, 2) }
        func cpu(_ round: RoundFigures) -> String {
            let total = round.cpuUserSeconds + round.cpuSystemSeconds
            return "\(format(total, 1)) CPU s in \(format(round.windowSeconds, 1)) s (user \(format(round.cpuUserSeconds, 1)), "
                + "system \(format(round.cpuSystemSeconds, 1))) = \(format(total / round.windowSeconds, 3)) cores"
        }
        func written(_ round: RoundFigures) -> String {
            "wrote \(mb(round.bytesPerSecond)) MB/s (\(mb(round.bytesPerSecond / Double(cameras))) per camera)"
        }
        if let venue, let detail = venueDetails {
            lines.append("venue:  \(cpu(venue)); RSS \(format(detail.rssBeforeMiB, 1)) MiB before the recorders, "
                + "\(format(detail.rssAtEndMiB, 1)) MiB at the end of the window")
            lines.append("        \(written(venue)); \(detail.camerasConnected)/\(cameras) connected, \(detail.sessions) "
                + "sessions; segments closed: \(detail.segmentsClosedInWindow) in the window, \(detail.segmentsClosed) in all; "
                + "reconnects \(detail.reconnects), gaps \(detail.gaps.count); warnings \(detail.warningsInWindow) in the "
                + "window, \(detail.warnings) in all; stopped in \(format(detail.stopSeconds, 1)) s")
        }
        if let ffmpeg, let detail = ffmpegDetails {
            let endings = detail.exits.map { "\($0.value) × \($0.key)" }.sorted().joined(separator: ", ")
            lines.append("ffmpeg: \(cpu(ffmpeg)); RSS \(format(ffmpeg.rssMiBTotal, 1)) MiB summed over \(cameras) processes")
            lines.append("        \(written(ffmpeg)); processes with errors on stderr \(detail.logsWithErrors); ended: "
                + "\(endings); stopped in \(format(detail.stopSeconds, 1)) s")
            lines.append("        (command: ffmpeg -rtsp_transport tcp -i URL -c copy -an -f mp4 "
                + "-movflags frag_keyframe+empty_moov+default_base_moof OUT.mp4; -an because the venue records video only)")
        }
        lines.append("CPU %/stream is of one core; machine busy is the share of all \(cores) cores used by everything on "
            + "the machine during each window; the camera server's CPU is % of one core.")
        return lines
    }
}
