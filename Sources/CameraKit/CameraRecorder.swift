import CLibAV
import Foundation
import Logging
import Synchronization

/// Records one camera into segment files until cancelled, reconnecting with backoff when the camera fails.
///
/// The video stream is copied as it comes (no transcoding) into fragmented MP4 segments of about
/// `segmentSeconds`, each starting at a keyframe with timestamps from 0; audio and any other stream are dropped.
/// Every libav call runs on one thread of the recorder's own, never on Swift's cooperative pool. A frozen or
/// vanished camera is noticed within about `ioTimeout`: RTSP runs over TCP with libav's socket `timeout` and an
/// interrupt callback armed with a deadline before every open and every read; cancelling the task trips the
/// same callback. Events are delivered on that thread, in order: keep `onEvent` short.
public final class CameraRecorder: Sendable {
    public let configuration: RecorderConfiguration
    let logger: Logger
    let onEvent: @Sendable (RecorderEvent) -> Void
    /// The wall clock (tests move it to simulate a clock jump).
    let wallClock: @Sendable () -> Date

    public convenience init(configuration: RecorderConfiguration, logger: Logger = Logger(label: "kaodian.recorder"),
                            onEvent: @escaping @Sendable (RecorderEvent) -> Void) {
        self.init(configuration: configuration, logger: logger, wallClock: { Date() }, onEvent: onEvent)
    }

    init(configuration: RecorderConfiguration, logger: Logger = Logger(label: "kaodian.recorder"), wallClock: @escaping @Sendable () -> Date,
         onEvent: @escaping @Sendable (RecorderEvent) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
        self.wallClock = wallClock
    }

    /// Records until the task is cancelled: connect, write segments, on failure close the open segment, report the
    /// gap, back off, reconnect. Returns after the open segment is closed (renamed, fsynced) when cancelled.
    public func run() async {
        let interrupt = InterruptDeadline()
        await withTaskCancellationHandler {
            await LibAVThread.run(named: "camera-recorder") { RecorderLoop(recorder: self, interrupt: interrupt).run() }
        } onCancel: {
            interrupt.cancel()
        }
    }

    /// After a crash: every `*.mp4.part` in `folder` becomes a closed segment (cut after its last complete
    /// fragment, fsynced, renamed to `.mp4`, hashed); a `.part` without a complete fragment is deleted. Session,
    /// sequence and start time come from the `.part` name; duration, codec and size from the MP4 boxes. Call it
    /// before starting a recorder on `folder`, never while one runs there (it would take the open segment).
    public static func recoverUnfinished(in folder: URL) throws -> [RecordedSegment] {
        try SegmentRecovery.recover(in: folder)
    }
}

/// libav's interrupt callback for the recorder: `opaque` is an unretained `InterruptDeadline` owned by the loop.
private let recorderInterruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
    guard let opaque else { return 0 }
    return Unmanaged<InterruptDeadline>.fromOpaque(opaque).takeUnretainedValue().shouldInterrupt() ? 1 : 0
}

/// The recorder's thread: connection attempts, backoff, and the bookkeeping of gaps between sessions.
private struct RecorderLoop {
    let recorder: CameraRecorder
    let interrupt: InterruptDeadline
    var configuration: RecorderConfiguration { recorder.configuration }

    /// Why and since when there has been no video (nil while recording or before the first attempt failed).
    struct Outage {
        var since: Date
        var error: CameraError
    }

    func run() {
        let logger = recorder.logger
        let masked = (try? CameraURL(configuration.url))?.masked ?? "(bad url)"
        do {
            try FileManager.default.createDirectory(at: configuration.folder, withIntermediateDirectories: true)
        } catch {
            logger.error("cannot create the recording folder", metadata: ["folder": "\(configuration.folder.path)"])
        }
        var outage: Outage?
        var failures = 0
        while !interrupt.isCancelled {
            var session = RecordingSession(recorder: recorder, interrupt: interrupt, outage: outage)
            let end = session.record()
            if session.recordedVideo { failures = 0 }
            if interrupt.isCancelled {
                let now = recorder.wallClock()
                if let videoEnd = session.videoEnd {
                    recorder.onEvent(.gap(from: videoEnd, to: max(now, videoEnd), reason: "stopped"))
                } else if let outage {
                    recorder.onEvent(.gap(from: outage.since, to: max(now, outage.since), reason: outage.error.code))
                }
                break
            }
            let error = end ?? .failed("the stream ended")
            if let videoEnd = session.videoEnd {
                outage = Outage(since: videoEnd, error: error)
            } else if outage == nil {
                outage = Outage(since: recorder.wallClock(), error: error)
            }
            let backoff = configuration.backoff.isEmpty ? [.seconds(1)] : configuration.backoff
            let wait = backoff[min(failures, backoff.count - 1)]
            failures += 1
            logger.notice("camera recording interrupted", metadata: [
                "camera": "\(masked)", "code": "\(error.code)", "retry_in": "\(wait)",
            ])
            recorder.onEvent(.reconnecting(since: outage?.since ?? recorder.wallClock(), error: error, retryIn: wait))
            sleep(wait)
        }
    }

    /// Sleeps `duration` in short steps so that cancellation cuts it short.
    private func sleep(_ duration: Duration) {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ duration.nanoseconds
        while !interrupt.isCancelled {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { break }
            usleep(UInt32(min(deadline - now, 50_000_000) / 1000))
        }
    }
}

/// One connection to the camera and the segments written from it. Consecutive sessions get new ids.
private struct RecordingSession {
    let recorder: CameraRecorder
    let interrupt: InterruptDeadline
    let outageBefore: RecorderLoop.Outage?
    var configuration: RecorderConfiguration { recorder.configuration }
    var logger: Logger { recorder.logger }

    /// Whether any segment was opened.
    private(set) var recordedVideo = false
    /// Wall-clock end of the last video written (end of the last closed segment), if any.
    private(set) var videoEnd: Date?

    private var url: CameraURL?
    private var session = UUID().uuidString.lowercased()
    private var sequence = 0
    private var writer: SegmentWriter?
    /// The live picture, while someone watches (`configuration.live` has viewers).
    private var live: LiveMuxer?
    /// The video stream's parameters while connected (owned by the input context).
    private var parameters: UnsafeMutablePointer<AVCodecParameters>?
    private var codec = ""
    private var width = 0
    private var height = 0
    /// Session anchor: wall clock and DTS of its first keyframe.
    private var anchorWall = Date()
    private var anchorDTS: Int64 = 0
    private var timeBase = AVRational(num: 1, den: 90_000)
    /// A packet held back until the next one tells its duration.
    private var held: UnsafeMutablePointer<AVPacket>?
    private var lastDTS: Int64?
    private var lastInterval: Int64 = 0
    /// Arrival of the previous video packet: wall clock, monotonic nanoseconds.
    private var lastArrivalWall = Date()
    private var lastArrivalMono: UInt64 = 0
    /// Set when the wall clock jumped and the stream did not: a new session starts at the next keyframe.
    private var newSessionAtKeyframe = false
    /// Set when the stream skipped at a clock jump: the end of the video before the hole.
    private var clockJumpFrom: Date?
    /// Video bytes received since `bitrateSince` (monotonic nanoseconds), for the bitrate the status page shows.
    private var bitrateBytes = 0
    private var bitrateSince: UInt64 = 0
    static let bitrateEvery: UInt64 = 5_000_000_000

    init(recorder: CameraRecorder, interrupt: InterruptDeadline, outage: RecorderLoop.Outage?) {
        self.recorder = recorder
        self.interrupt = interrupt
        self.outageBefore = outage
    }

    /// Connects and records until the camera fails (returns the error) or the task is cancelled (returns nil).
    /// The open segment is always closed before this returns.
    mutating func record() -> CameraError? {
        let error: CameraError?
        do throws(CameraError) {
            try connectAndRecord()
            error = nil
        } catch let failure {
            error = failure
        }
        finishSegment(estimatingLastDuration: true)
        if let held {
            var freeable: UnsafeMutablePointer<AVPacket>? = held
            av_packet_free(&freeable)
            self.held = nil
        }
        live = nil
        parameters = nil
        configuration.live?.publish(interruption: interrupt.isCancelled ? "stopped" : (error?.code ?? "stopped"))
        return interrupt.isCancelled ? nil : error
    }

    private mutating func connectAndRecord() throws(CameraError) {
        let url = try CameraURL(configuration.url)
        self.url = url
        try resolveHost(url)
        guard let allocated = avformat_alloc_context() else { throw .failed("out of memory") }
        allocated.pointee.interrupt_callback = AVIOInterruptCB(
            callback: recorderInterruptCallback, opaque: Unmanaged.passUnretained(interrupt).toOpaque())
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        let timeoutMicroseconds = max(1, configuration.ioTimeout.nanoseconds / 1000)
        av_dict_set(&options, "rtsp_transport", "tcp", 0)
        av_dict_set(&options, "timeout", String(timeoutMicroseconds), 0)  // socket I/O timeout (FFmpeg ≥ 5)
        av_dict_set(&options, "analyzeduration", "2000000", 0)
        av_dict_set(&options, "probesize", "5000000", 0)
        av_dict_set(&options, "user_agent", "Kaodian venue", 0)

        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        interrupt.arm(for: configuration.ioTimeout)
        let opened = avformat_open_input(&context, url.string, nil, &options)
        guard opened >= 0, let context else { throw cameraError(opened) }
        defer {
            // Closing sends TEARDOWN: give it a short deadline of its own (a cancelled run skips it at once).
            interrupt.arm(for: .seconds(1))
            var closable: UnsafeMutablePointer<AVFormatContext>? = context
            avformat_close_input(&closable)
        }
        interrupt.arm(for: configuration.ioTimeout + .seconds(3))
        let found = avformat_find_stream_info(context, nil)
        if found < 0 { throw cameraError(found) }
        let videoIndex = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard videoIndex >= 0, let video = context.pointee.streams[Int(videoIndex)] else { throw .noVideo }
        for index in 0..<Int(context.pointee.nb_streams) where index != Int(videoIndex) {
            context.pointee.streams[index]?.pointee.discard = AVDISCARD_ALL
        }
        guard let parameters = video.pointee.codecpar else { throw .noVideo }
        guard parameters.pointee.codec_id == AV_CODEC_ID_H264 || parameters.pointee.codec_id == AV_CODEC_ID_HEVC else {
            let name = String(cString: avcodec_get_name(parameters.pointee.codec_id))
            throw .unsupportedCodec(name == "none" ? "unknown" : name.uppercased())
        }
        guard parameters.pointee.width > 0, parameters.pointee.height > 0 else {
            throw interrupt.hasExpired ? .timeout : .failed("the stream did not say its picture size")
        }
        self.parameters = parameters
        codec = String(cString: avcodec_get_name(parameters.pointee.codec_id))
        width = Int(parameters.pointee.width)
        height = Int(parameters.pointee.height)
        timeBase = video.pointee.time_base
        logger.info("camera connected", metadata: [
            "camera": "\(url.masked)", "codec": "\(codec)", "size": "\(width)x\(height)",
        ])

        guard let packet = av_packet_alloc(), let held = av_packet_alloc() else { throw .failed("out of memory") }
        self.held = held
        defer {
            var freeable: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeable)
        }
        while true {
            interrupt.arm(for: configuration.ioTimeout)
            let read = av_read_frame(context, packet)
            if read == clibav_error_again() { continue }
            if read < 0 {
                if read == clibav_error_eof() { throw .failed("the camera ended the stream") }
                throw cameraError(read)
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == videoIndex else { continue }
            try handle(packet, parameters: parameters)
        }
    }

    /// One video packet: timestamp repair, clock-jump check, segment cut at keyframes, write of the previous packet.
    private mutating func handle(_ packet: UnsafeMutablePointer<AVPacket>,
                                 parameters: UnsafeMutablePointer<AVCodecParameters>) throws(CameraError) {
        let noTimestamp = clibav_nopts_value()
        var pts = packet.pointee.pts
        var dts = packet.pointee.dts
        if pts == noTimestamp && dts == noTimestamp { return }
        // A packet with no picture in it (a lone access-unit delimiter, as some cameras send on connecting) makes
        // decoders report "no frame!"; it carries nothing worth keeping.
        guard Self.containsPicture(packet, hevc: codec == "hevc") else { return }
        if dts == noTimestamp { dts = pts }
        if pts == noTimestamp { pts = dts }
        let isKey = packet.pointee.flags & clibav_packet_flag_key() != 0
        let nowWall = recorder.wallClock()
        let nowMono = DispatchTime.now().uptimeNanoseconds
        countForBitrate(Int(packet.pointee.size), now: nowMono)

        guard let lastDTS else {
            // Nothing written yet in this session: wait for a keyframe to start the first segment.
            guard isKey else { return }
            packet.pointee.pts = pts
            packet.pointee.dts = dts
            startSession(at: nowWall, dts: dts)
            try openSegment(dts: dts, parameters: parameters)
            hold(packet, arrivalWall: nowWall, arrivalMono: nowMono)
            return
        }

        // A wall clock that moved more than 2 s differently from the stream and the monotonic clock jumped.
        let seconds = Double(timeBase.num) / Double(max(timeBase.den, 1))
        let wallDelta = nowWall.timeIntervalSince(lastArrivalWall)
        let monoDelta = Double(nowMono &- lastArrivalMono) / 1e9
        let streamDelta = Double(dts - lastDTS) * seconds
        let streamHole = streamDelta < -1 || streamDelta > monoDelta + 2
        if abs(wallDelta - streamDelta) > 2 && (abs(wallDelta - monoDelta) > 2 || streamHole) {
            logger.notice("clock jump: new recording session", metadata: [
                "camera": "\(url?.masked ?? "")", "wall_delta": "\(wallDelta)", "stream_delta": "\(streamDelta)",
            ])
            if streamHole {
                // The stream itself skipped: close now, start again at the next keyframe, report the hole.
                finishSegment(estimatingLastDuration: true)
                live = nil
                clockJumpFrom = videoEnd
                if isKey { try handle(packet, parameters: parameters) }
                return
            }
            newSessionAtKeyframe = true
        }

        // Strictly increasing DTS, PTS never before DTS.
        if dts <= lastDTS { dts = lastDTS + 1 }
        if pts < dts { pts = dts }
        packet.pointee.pts = pts
        packet.pointee.dts = dts

        // The held packet lasts until this one.
        lastInterval = dts - lastDTS
        try writeHeld(duration: lastInterval)

        if isKey, let writer,
           newSessionAtKeyframe || writer.elapsed(toDTS: dts) >= configuration.segmentSeconds {
            finishSegment(estimatingLastDuration: false)
            if newSessionAtKeyframe {
                newSessionAtKeyframe = false
                startSession(at: nowWall, dts: dts)
            }
            try openSegment(dts: dts, parameters: parameters)
        }
        hold(packet, arrivalWall: nowWall, arrivalMono: nowMono)
    }

    /// Reports the bitrate every `bitrateEvery`.
    private mutating func countForBitrate(_ bytes: Int, now: UInt64) {
        if bitrateSince == 0 { bitrateSince = now }
        bitrateBytes += bytes
        let elapsed = now &- bitrateSince
        guard elapsed >= Self.bitrateEvery else { return }
        recorder.onEvent(.bitrate(bitsPerSecond: Int(Double(bitrateBytes) * 8 / (Double(elapsed) / 1e9))))
        bitrateBytes = 0
        bitrateSince = now
    }

    /// A new session id anchored at this keyframe; the first session after an outage reports the gap.
    private mutating func startSession(at wall: Date, dts: Int64) {
        if recordedVideo { session = UUID().uuidString.lowercased() }
        sequence = 0
        anchorWall = wall
        anchorDTS = dts
        if !recordedVideo, configuration.writesSegments, let outage = outageBefore, wall > outage.since {
            recorder.onEvent(.gap(from: outage.since, to: wall, reason: outage.error.code))
        }
        if let from = clockJumpFrom, configuration.writesSegments, wall > from {
            recorder.onEvent(.gap(from: from, to: wall, reason: "clock_jump"))
        }
        clockJumpFrom = nil
        recordedVideo = true
        recorder.onEvent(.recording(session: session, codec: codec, width: width, height: height))
    }

    private mutating func openSegment(dts: Int64, parameters: UnsafeMutablePointer<AVCodecParameters>)
        throws(CameraError)
    {
        guard configuration.writesSegments else { return }
        let seconds = Double(timeBase.num) / Double(max(timeBase.den, 1))
        let startedAt = anchorWall.addingTimeInterval(Double(dts - anchorDTS) * seconds)
        writer = try SegmentWriter(folder: configuration.folder, session: session, sequence: sequence,
                                   startedAt: startedAt, parameters: parameters, timeBase: timeBase, firstDTS: dts)
        sequence += 1
    }

    private mutating func hold(_ packet: UnsafeMutablePointer<AVPacket>, arrivalWall: Date, arrivalMono: UInt64) {
        guard let held else { return }
        av_packet_unref(held)
        av_packet_move_ref(held, packet)
        lastDTS = held.pointee.dts
        lastArrivalWall = arrivalWall
        lastArrivalMono = arrivalMono
    }

    private mutating func writeHeld(duration: Int64) throws(CameraError) {
        guard let held, held.pointee.data != nil || held.pointee.size > 0 else { return }
        defer { av_packet_unref(held) }
        held.pointee.duration = max(1, duration)
        showLive(held)
        guard let writer else { return }
        try writer.write(held)
    }

    /// Hands the packet to the live view while someone watches: the live MP4 starts at a keyframe and stops when
    /// the last viewer leaves. A failure of the live view is logged and never touches the recording.
    private mutating func showLive(_ packet: UnsafeMutablePointer<AVPacket>) {
        guard let feed = configuration.live else { return }
        guard feed.viewerCount > 0 else {
            if live != nil {
                live = nil
                feed.publish(interruption: "no_viewers")
            }
            return
        }
        if live == nil {
            guard packet.pointee.flags & clibav_packet_flag_key() != 0, let parameters else { return }
            do throws(CameraError) {
                live = try LiveMuxer(feed: feed, parameters: parameters, timeBase: timeBase, firstDTS: packet.pointee.dts)
            } catch {
                logger.error("cannot start the live view", metadata: ["camera": "\(url?.masked ?? "")", "error": "\(error)"])
                return
            }
        }
        do throws(CameraError) {
            try live?.write(packet)
        } catch {
            logger.error("live view stopped", metadata: ["camera": "\(url?.masked ?? "")", "error": "\(error)"])
            live = nil
            feed.publish(interruption: "failed")
        }
    }

    /// Closes the open segment (writing the held packet first) and reports it; failures are logged, the `.part`
    /// is then left for `recoverUnfinished`.
    private mutating func finishSegment(estimatingLastDuration: Bool) {
        if estimatingLastDuration {
            let fallback = Int64(Double(max(timeBase.den, 1)) / Double(max(timeBase.num, 1)) / 25)
            do throws(CameraError) {
                try writeHeld(duration: lastInterval > 0 ? lastInterval : fallback)
            } catch {
                logger.error("cannot write the last packet", metadata: ["code": "\(error.code)", "error": "\(error)"])
            }
            lastDTS = nil
        }
        guard let writer else { return }
        self.writer = nil
        do throws(CameraError) {
            let segment = try writer.close(codec: codec, width: width, height: height)
            videoEnd = segment.endedAt
            logger.debug("segment closed", metadata: ["file": "\(segment.fileName)", "seconds": "\(segment.duration)"])
            recorder.onEvent(.segmentClosed(segment))
        } catch {
            logger.error("cannot close a segment", metadata: ["file": "\(writer.partURL.lastPathComponent)",
                                                              "error": "\(error)"])
        }
    }

    /// Whether an Annex B packet holds a coded slice (H.264 NAL types 1–5, H.265 types 0–31). Packets not in
    /// Annex B are let through.
    static func containsPicture(_ packet: UnsafeMutablePointer<AVPacket>, hevc: Bool) -> Bool {
        guard let data = packet.pointee.data else { return false }
        let size = Int(packet.pointee.size)
        guard size >= 4, data[0] == 0, data[1] == 0, data[2] == 1 || (data[2] == 0 && data[3] == 1) else {
            return size > 0
        }
        var index = 0
        while index + 3 < size {
            if data[index] == 0, data[index + 1] == 0, data[index + 2] == 1 {
                let header = data[index + 3]
                let isSlice = hevc ? (header >> 1) & 0x3F < 32 : (1...5).contains(header & 0x1F)
                if isSlice { return true }
                index += 3
            } else {
                index += 1
            }
        }
        return false
    }

    /// A host name that does not resolve is `notFound` (libav reports it only as a generic I/O error).
    private func resolveHost(_ url: CameraURL) throws(CameraError) {
        guard hostResolves(url.host) else {
            logger.debug("camera host does not resolve", metadata: ["camera": "\(url.masked)"])
            throw .notFound
        }
    }

    private func cameraError(_ code: Int32) -> CameraError {
        CameraError.fromLibAV(code, interrupt: interrupt, url: url)
    }
}
