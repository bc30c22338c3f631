import Foundation

/// What a `CameraRecorder` records, where, and how it reacts to a camera that stops.
public struct RecorderConfiguration: Sendable {
    /// `rtsp://` or `rtsps://` URL, credentials included; logged only masked.
    public var url: String
    /// Where this camera's segment files go; created if missing.
    public var folder: URL
    /// Target segment length: a segment is cut at the first keyframe at or after it.
    public var segmentSeconds: Double
    /// Longest wait for the camera at each step (connect, each packet): a frozen camera is noticed within about this.
    public var ioTimeout: Duration
    /// Waits before each reconnection attempt; the last one repeats.
    public var backoff: [Duration]
    /// Where the live picture goes while someone watches it; nil: no live view.
    public var live: LiveFeed?
    /// False for a connection only for the live view: no segment is written and no gap reported.
    public var writesSegments: Bool

    public init(url: String, folder: URL, segmentSeconds: Double = 60, ioTimeout: Duration = .seconds(5),
                backoff: [Duration] = [.seconds(1), .seconds(5), .seconds(10), .seconds(60)],
                live: LiveFeed? = nil, writesSegments: Bool = true) {
        self.url = url
        self.folder = folder
        self.segmentSeconds = segmentSeconds
        self.ioTimeout = ioTimeout
        self.backoff = backoff
        self.live = live
        self.writesSegments = writesSegments
    }
}

/// One closed segment file: fragmented MP4, video only, starting with a keyframe, timestamps from 0.
public struct RecordedSegment: Sendable, Equatable, Codable {
    /// Recording-session id (UUID string): a new one after every reconnect and after a wall-clock jump.
    public var session: String
    /// 0, 1, 2… within the session.
    public var sequence: Int
    /// Final name in the recorder's folder, `<session>-<sequence, 6 digits>.mp4`.
    public var fileName: String
    /// Wall clock of the first packet.
    public var startedAt: Date
    /// `startedAt + duration`.
    public var endedAt: Date
    /// Seconds, from the stream timestamps.
    public var duration: Double
    public var bytes: Int
    /// Lowercase hex SHA-256 of the closed file.
    public var sha256: String
    /// `h264` or `hevc`.
    public var codec: String
    public var width: Int
    public var height: Int
    /// True when closed by `CameraRecorder.recoverUnfinished(in:)` after a crash.
    public var recovered: Bool

    public init(session: String, sequence: Int, fileName: String, startedAt: Date, endedAt: Date, duration: Double,
                bytes: Int, sha256: String, codec: String, width: Int, height: Int, recovered: Bool) {
        self.session = session
        self.sequence = sequence
        self.fileName = fileName
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.duration = duration
        self.bytes = bytes
        self.sha256 = sha256
        self.codec = codec
        self.width = width
        self.height = height
        self.recovered = recovered
    }
}

/// What a running recorder reports, in order, from its own thread.
public enum RecorderEvent: Sendable {
    /// Connected and writing.
    case recording(session: String, codec: String, width: Int, height: Int)
    /// A segment was closed: renamed from `.part` and fsynced.
    case segmentClosed(RecordedSegment)
    /// No video in `[from, to)`: `reason` is a `CameraError` code (`camera_timeout`, `camera_refused`, …) of the
    /// failure that began the outage, reported when video comes back (`to` = start of the new session) or when the
    /// recorder is cancelled during the outage (`to` = the moment it stopped); `clock_jump` when the stream itself
    /// skipped at a clock jump; `stopped` when the recorder was cancelled while recording (`from` = end of the last
    /// segment, `to` = the moment it stopped).
    case gap(from: Date, to: Date, reason: String)
    /// The camera failed at `since` (or could not be reached since then); the next attempt is in `retryIn`.
    case reconnecting(since: Date, error: CameraError, retryIn: Duration)
    /// The video's bitrate over the last few seconds, about every `RecordingSession.bitrateEvery` while connected.
    case bitrate(bitsPerSecond: Int)
}

/// File names of segments: the open file keeps session, sequence and start time so a crash loses none of them.
enum SegmentName {
    static let partSuffix = ".mp4.part"

    /// `<session>-000003.mp4`.
    static func final(session: String, sequence: Int) -> String {
        "\(session)-\(String(format: "%06d", sequence)).mp4"
    }

    /// `<session>-000003-<start, Unix milliseconds>.mp4.part`.
    static func part(session: String, sequence: Int, startedAt: Date) -> String {
        let millis = Int64((startedAt.timeIntervalSince1970 * 1000).rounded())
        return "\(session)-\(String(format: "%06d", sequence))-\(millis)\(partSuffix)"
    }

    /// Session, sequence and start time from a `.part` name, or nil if it is not one of ours.
    static func parsePart(_ name: String) -> (session: String, sequence: Int, startedAt: Date)? {
        guard name.hasSuffix(partSuffix) else { return nil }
        let stem = name.dropLast(partSuffix.count)
        let pieces = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count >= 3, let millis = Int64(pieces[pieces.count - 1]),
              let sequence = Int(pieces[pieces.count - 2]), sequence >= 0 else { return nil }
        let session = pieces.dropLast(2).joined(separator: "-")
        guard !session.isEmpty else { return nil }
        return (session, sequence, Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

/// The recordings' folders on disk.
public enum RecordingFolder {
    /// fsyncs `folder`, so that files just renamed or moved into it stay there after a power cut.
    public static func sync(_ folder: URL) throws {
        try SegmentFile.fsync(path: folder.path, directory: true)
    }
}
