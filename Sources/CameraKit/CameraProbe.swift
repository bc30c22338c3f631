import CLibAV
import Foundation
import Logging
import Synchronization

/// Opens a camera's RTSP stream and reports codec, picture size, frame rate and measured bitrate.
///
/// libav blocks, so every libav call runs on a thread of its own, never on Swift's cooperative pool. Three things
/// keep a silent or frozen camera from blocking for ever: RTSP over TCP, libav's socket I/O `timeout`, and an
/// interrupt callback with a deadline for each step (opening, reading stream info, measuring), which also ends
/// the probe when the calling task is cancelled.
public struct CameraProbe: Sendable {
    public var logger: Logger
    /// Stream time read to measure the bitrate.
    public var measureFor: Duration

    public init(logger: Logger = Logger(label: "kaodian.camera"), measureFor: Duration = .seconds(3)) {
        self.logger = logger
        self.measureFor = measureFor
    }

    /// Probes `url` with the default logger; see `probe(url:timeout:)`.
    public static func probe(url: String, timeout: Duration) async throws(CameraError) -> CameraInfo {
        try await CameraProbe().probe(url: url, timeout: timeout)
    }

    /// Probes the camera at `url` (`rtsp://` or `rtsps://`). `timeout` bounds each step: connecting and reading the
    /// stream description, reading stream info, and each wait for packets while the bitrate is measured.
    public func probe(url: String, timeout: Duration) async throws(CameraError) -> CameraInfo {
        let cameraURL = try CameraURL(url)
        let interrupt = InterruptDeadline()
        let session = ProbeSession(url: cameraURL, timeout: timeout, measureFor: measureFor, interrupt: interrupt,
                                   logger: logger)
        let result: Result<CameraInfo, CameraError> = await withTaskCancellationHandler {
            await LibAVThread.run(named: "camera-probe") { session.run() }
        } onCancel: {
            interrupt.cancel()
        }
        switch result {
        case .success(let info):
            logger.info("camera probed", metadata: ["camera": "\(cameraURL.masked)", "stream": "\(info.summary)"])
            return info
        case .failure(let error):
            logger.notice("camera probe failed", metadata: ["camera": "\(cameraURL.masked)", "code": "\(error.code)"])
            throw error
        }
    }
}

/// The deadline libav's interrupt callback checks; shared between the libav thread and a cancelling task.
final class InterruptDeadline: Sendable {
    private let deadline = Atomic<UInt64>(.max)
    private let cancelled = Atomic<Bool>(false)
    private let expired = Atomic<Bool>(false)

    /// Interrupts libav once `duration` has passed from now.
    func arm(for duration: Duration) {
        expired.store(false, ordering: .relaxed)
        deadline.store(Self.now() &+ duration.nanoseconds, ordering: .relaxed)
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    /// Whether the last interruption came from the deadline.
    var hasExpired: Bool { expired.load(ordering: .relaxed) }

    func shouldInterrupt() -> Bool {
        if isCancelled { return true }
        if Self.now() >= deadline.load(ordering: .relaxed) {
            expired.store(true, ordering: .relaxed)
            return true
        }
        return false
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return seconds <= 0 && attoseconds <= 0 ? 0 : UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
    var seconds: Double { Double(nanoseconds) / 1e9 }
}

/// libav's interrupt callback: `opaque` is an unretained `InterruptDeadline` kept alive by the probe session.
private let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
    guard let opaque else { return 0 }
    return Unmanaged<InterruptDeadline>.fromOpaque(opaque).takeUnretainedValue().shouldInterrupt() ? 1 : 0
}

/// One probe, run start to end on one thread: every libav object it makes is freed before `run` returns.
struct ProbeSession: Sendable {
    let url: CameraURL
    let timeout: Duration
    let measureFor: Duration
    let interrupt: InterruptDeadline
    let logger: Logger

    func run() -> Result<CameraInfo, CameraError> {
        do throws(CameraError) {
            return .success(try probe())
        } catch {
            return .failure(error)
        }
    }

    private func probe() throws(CameraError) -> CameraInfo {
        try resolveHost()
        guard let allocated = avformat_alloc_context() else { throw .failed("out of memory") }
        allocated.pointee.interrupt_callback = AVIOInterruptCB(
            callback: interruptCallback, opaque: Unmanaged.passUnretained(interrupt).toOpaque())
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        let timeoutMicroseconds = max(1, timeout.nanoseconds / 1000)
        av_dict_set(&options, "rtsp_transport", "tcp", 0)
        av_dict_set(&options, "timeout", String(timeoutMicroseconds), 0)  // socket I/O timeout (FFmpeg ≥ 5)
        av_dict_set(&options, "analyzeduration", String(min(timeoutMicroseconds, 5_000_000)), 0)
        av_dict_set(&options, "probesize", "5000000", 0)
        av_dict_set(&options, "user_agent", "Kaodian venue", 0)

        var context: UnsafeMutablePointer<AVFormatContext>? = allocated
        interrupt.arm(for: timeout)
        // On failure libav frees the context and sets it to nil.
        let opened = avformat_open_input(&context, url.string, nil, &options)
        guard opened >= 0, let context else { throw cameraError(opened) }
        var closable: UnsafeMutablePointer<AVFormatContext>? = context
        defer { avformat_close_input(&closable) }

        // The SDP already names the codecs: refuse MJPEG and friends before reading any video.
        let streams = (0..<Int(context.pointee.nb_streams)).compactMap { context.pointee.streams[$0] }
        guard let declaredVideo = streams.first(where: { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO })
        else { throw .noVideo }
        try checkCodec(declaredVideo.pointee.codecpar.pointee.codec_id)

        interrupt.arm(for: timeout)
        let found = avformat_find_stream_info(context, nil)
        if found < 0 { throw cameraError(found) }
        let videoIndex = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard videoIndex >= 0, let video = context.pointee.streams[Int(videoIndex)] else { throw .noVideo }
        let parameters = video.pointee.codecpar.pointee
        try checkCodec(parameters.codec_id)
        guard parameters.width > 0, parameters.height > 0 else {
            throw interrupt.hasExpired ? .timeout : .failed("the stream did not say its picture size")
        }
        let audio = streams.first { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO }

        let measured = try measure(context: context, videoIndex: videoIndex, timeBase: video.pointee.time_base)
        let rates: [AVRational] = [video.pointee.avg_frame_rate, video.pointee.r_frame_rate]
        let declaredRate = rates.lazy.map(Self.framesPerSecond).first { (rate: Double) in rate > 0 && rate <= 300 }
        var bitrate = measured.bitrate
        if bitrate == 0 { bitrate = Int(parameters.bit_rate) }
        return CameraInfo(
            codec: String(cString: avcodec_get_name(parameters.codec_id)),
            width: Int(parameters.width), height: Int(parameters.height),
            framesPerSecond: declaredRate ?? measured.framesPerSecond,
            bitrate: bitrate, measuredSeconds: measured.seconds,
            hasAudio: audio != nil,
            audioCodec: audio.map { String(cString: avcodec_get_name($0.pointee.codecpar.pointee.codec_id)) })
    }

    /// Reads `measureFor` of stream time (or what arrives before the deadline) and sums the video packet sizes.
    private func measure(context: UnsafeMutablePointer<AVFormatContext>, videoIndex: Int32, timeBase: AVRational)
        throws(CameraError) -> (bitrate: Int, framesPerSecond: Double, seconds: Double)
    {
        guard let packet = av_packet_alloc() else { throw .failed("out of memory") }
        defer {
            var freeable: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeable)
        }
        let noTimestamp = clibav_nopts_value()
        let unit = Double(timeBase.num) / Double(max(timeBase.den, 1))
        var first: Int64?
        var last: Int64 = 0
        var bytesBeforeLast = 0
        var lastSize = 0
        var packets = 0
        interrupt.arm(for: measureFor + timeout)
        while true {
            let read = av_read_frame(context, packet)
            if read == clibav_error_again() { continue }
            if read < 0 {
                if read == clibav_error_eof() || (interrupt.hasExpired && packets >= 2) { break }
                throw cameraError(read)
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == videoIndex else { continue }
            let stamp = packet.pointee.pts != noTimestamp ? packet.pointee.pts : packet.pointee.dts
            guard stamp != noTimestamp else { continue }
            if first == nil { first = stamp }
            bytesBeforeLast += lastSize
            lastSize = Int(packet.pointee.size)
            last = max(last, stamp)
            packets += 1
            if let first, Double(last - first) * unit >= measureFor.seconds { break }
        }
        guard let first, packets >= 2, last > first else {
            throw interrupt.hasExpired ? .timeout : .failed("too few video packets to measure the bitrate")
        }
        let seconds = Double(last - first) * unit
        return (Int((Double(bytesBeforeLast) * 8 / seconds).rounded()), Double(packets - 1) / seconds, seconds)
    }

    private static func framesPerSecond(_ rate: AVRational) -> Double {
        rate.den > 0 ? Double(rate.num) / Double(rate.den) : 0
    }

    private func checkCodec(_ codec: AVCodecID) throws(CameraError) {
        guard codec == AV_CODEC_ID_H264 || codec == AV_CODEC_ID_HEVC else {
            let name = String(cString: avcodec_get_name(codec))
            throw .unsupportedCodec(name == "none" ? "unknown" : name.uppercased())
        }
    }

    /// A host name that does not resolve is `notFound` (libav reports it only as a generic I/O error).
    private func resolveHost() throws(CameraError) {
        guard hostResolves(url.host) else {
            logger.debug("camera host does not resolve", metadata: ["camera": "\(url.masked)"])
            throw .notFound
        }
    }

    private func cameraError(_ code: Int32) -> CameraError {
        let error = CameraError.fromLibAV(code, interrupt: interrupt, url: url)
        if case .failed(let text) = error {
            logger.debug("libav error", metadata: ["camera": "\(url.masked)", "code": "\(code)", "error": "\(text)"])
        }
        return error
    }
}
