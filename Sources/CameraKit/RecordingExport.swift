import CLibAV
import Foundation

/// One recorded segment file of a camera and the wall clock of its first packet.
public struct ExportPart: Sendable {
    public var file: URL
    public var startedAt: Date

    public init(file: URL, startedAt: Date) {
        self.file = file
        self.startedAt = startedAt
    }
}

/// What `RecordingExport.write` wrote: the real start (a keyframe, so at or before the start asked for), the
/// length, the size and the picture format of the MP4.
public struct ExportedRecording: Sendable, Equatable {
    /// Wall clock of the first picture shown (playback time 0).
    public var startedAt: Date
    /// Seconds from the first picture shown to the end of the last one, gaps included (what players show).
    public var duration: Double
    public var bytes: Int
    /// `h264` or `hevc`.
    public var codec: String
    public var width: Int
    public var height: Int

    public init(startedAt: Date, duration: Double, bytes: Int, codec: String, width: Int, height: Int) {
        self.startedAt = startedAt
        self.duration = duration
        self.bytes = bytes
        self.codec = codec
        self.width = width
        self.height = height
    }
}

/// A time range of one camera's recording as one MP4 a browser can seek in, made by stream copy.
public enum RecordingExport {
    /// Writes the video between `from` and `to` from `parts` (one camera's segments, in time order) into one MP4
    /// at `output` by stream copy.
    ///
    /// Stream copy cannot cut inside a GOP, so the file starts at the last keyframe at or before `from` (or, when
    /// `from` falls where nothing was recorded, at the first keyframe after it): the result says where it really
    /// starts. It ends with the last packet that starts (in decode order) before `to`. Every packet keeps its wall
    /// clock: its time is its part's `startedAt` plus its own timestamp, minus the export's start, so a hole between
    /// parts stays a hole (the picture before it stays on screen until the next one). The MP4 is a regular one with
    /// its index first (`+faststart`), H.265 tagged `hvc1`. It is written to `output.path + ".part"`, fsynced and
    /// renamed; on any error nothing is left at either path. Synchronous: run it off the cooperative pool.
    public static func write(parts: [ExportPart], from: Date, to: Date, output: URL) throws(CameraError)
        -> ExportedRecording
    {
        guard to > from else { throw RecordingFailure.emptyRange() }
        let ordered = parts.enumerated().sorted { ($0.element.startedAt, $0.offset) < ($1.element.startedAt, $1.offset) }
            .map(\.element)
        // A part followed by one starting at or before `from` holds nothing needed: that one starts with a keyframe.
        let relevant = ordered.indices.filter { index in
            ordered[index].startedAt < to && (index + 1 == ordered.count || ordered[index + 1].startedAt > from)
        }.map { ordered[$0] }

        let partURL = URL(fileURLWithPath: output.path + ".part")
        let job = ExportJob(from: ExportClock.ticks(from), to: ExportClock.ticks(to), partURL: partURL)
        do throws(CameraError) {
            for part in relevant {
                guard try job.copy(part) else { break }
            }
            return try job.finish(output: output)
        } catch {
            job.abandon()
            try? FileManager.default.removeItem(at: partURL)
            throw error
        }
    }
}

/// The export's clock: 90 kHz ticks since 1970, so parts in different time bases line up exactly.
enum ExportClock {
    static let hertz: Int64 = 90_000
    static let timeBase = AVRational(num: 1, den: 90_000)

    static func ticks(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * Double(hertz)).rounded()) }
    static func date(_ ticks: Int64) -> Date { Date(timeIntervalSince1970: Double(ticks) / Double(hertz)) }
    static func seconds(_ ticks: Int64) -> Double { Double(ticks) / Double(hertz) }
}

/// The errors of exports and imports, in one place until `CameraError` has cases of its own for them.
enum RecordingFailure {
    static func emptyRange() -> CameraError {
        .recordingFile(
            code: "recording_range_empty", en: "The end of the time range must be after its start.",
            zh: "时间范围的结束时间必须晚于开始时间。")
    }
    static func nothingRecorded() -> CameraError {
        .recordingFile(code: "recording_nothing_in_range", en: "Nothing was recorded in this time range.", zh: "该时间段内没有录像。")
    }
    static func formatChanged(file: String, was: String, now: String) -> CameraError {
        .recordingFile(
            code: "recording_format_changed",
            en: "The picture format changes in this time range (\(was) before \(file), \(now) from it): download it in parts, before and after the change.",
            zh: "该时间段内录像的画面格式有变化（\(was) → \(now)，自 \(file) 起），请以变化时刻为界分段下载。")
    }
    static func partsOverlap(file: String, seconds: Double) -> CameraError {
        let text = String(format: "%.3f", seconds)
        return .recordingFile(
            code: "recording_parts_overlap",
            en: "The recording \(file) starts \(text) s before the one before it ends: the list of segments is inconsistent.",
            zh: "录像文件 \(file) 在前一段结束前 \(text) 秒就已开始：录像段列表不一致。")
    }
    static func unreadablePart(file: String, detail: String) -> CameraError {
        .recordingFile(
            code: "recording_unreadable", en: "The recording file \(file) cannot be read: \(detail).",
            zh: "无法读取录像文件 \(file)：\(detail)。")
    }
    static func notAVideo(en reason: String, zh reasonZh: String) -> CameraError {
        .recordingFile(
            code: "upload_not_a_video", en: "The file is not a video that can be played: \(reason).",
            zh: "该文件不是可播放的视频：\(reasonZh)。")
    }
    static func unsupportedVideoCodec(_ codec: String) -> CameraError {
        .recordingFile(
            code: "upload_unsupported_codec",
            en: "The video is in \(codec); the venue plays only H.264 and H.265. Convert it to H.264 (MP4) and upload it again.",
            zh: "该视频的编码为 \(codec)，考点只能播放 H.264 和 H.265。请转换为 H.264（MP4）后重新上传。")
    }
    static func cannotWrite(_ file: String, detail: String) -> CameraError {
        .recordingFile(code: "recording_write_failed", en: "Cannot write \(file): \(detail).", zh: "无法写入 \(file)：\(detail)。")
    }
}

/// A packet owned by Swift: freed when released.
final class OwnedPacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    /// Takes over the contents of `packet`, leaving it blank.
    init(taking packet: UnsafeMutablePointer<AVPacket>) throws(CameraError) {
        guard let allocated = av_packet_alloc() else { throw .failed("out of memory") }
        av_packet_move_ref(allocated, packet)
        pointer = allocated
    }

    deinit {
        var freeable: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&freeable)
    }

    var dts: Int64 {
        get { pointer.pointee.dts }
        set { pointer.pointee.dts = newValue }
    }
    var pts: Int64 {
        get { pointer.pointee.pts }
        set { pointer.pointee.pts = newValue }
    }
    var duration: Int64 {
        get { pointer.pointee.duration }
        set { pointer.pointee.duration = newValue }
    }
    var isKey: Bool { pointer.pointee.flags & clibav_packet_flag_key() != 0 }
}

/// A local media file opened with libavformat, closed when released.
final class MediaInput {
    let context: UnsafeMutablePointer<AVFormatContext>

    /// Opens `url`; `failure` turns libav's error code into the caller's error.
    init(_ url: URL, failure: (Int32) -> CameraError) throws(CameraError) {
        var context: UnsafeMutablePointer<AVFormatContext>?
        let opened = avformat_open_input(&context, url.path, nil, nil)
        guard opened >= 0, let context else { throw failure(opened) }
        self.context = context
    }

    deinit {
        var closable: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closable)
    }

    var streams: [UnsafeMutablePointer<AVStream>] {
        (0..<Int(context.pointee.nb_streams)).compactMap { context.pointee.streams[$0] }
    }

    /// The main video stream: libav's best one, never a cover picture; nil when there is none.
    func videoStream() -> UnsafeMutablePointer<AVStream>? {
        let isMovingVideo = { (stream: UnsafeMutablePointer<AVStream>) -> Bool in
            stream.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        let best = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if best >= 0, let stream = context.pointee.streams[Int(best)], isMovingVideo(stream) { return stream }
        return streams.first(where: isMovingVideo)
    }
}

/// The codec parameters an MP4 track is made of, to tell whether two parts can go into one file.
struct PictureFormat: Equatable {
    var codec: AVCodecID
    var width: Int32
    var height: Int32
    var extradata: [UInt8]

    init(_ parameters: UnsafePointer<AVCodecParameters>) {
        codec = parameters.pointee.codec_id
        width = parameters.pointee.width
        height = parameters.pointee.height
        let size = Int(max(parameters.pointee.extradata_size, 0))
        extradata = parameters.pointee.extradata.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    var codecName: String { String(cString: avcodec_get_name(codec)) }
    var summary: String { "\(codecName) \(width)x\(height)" }
}

/// One export in progress: the keyframe it starts at, the muxer, the packet waiting for its duration.
private final class ExportJob {
    let from: Int64
    let to: Int64
    let partURL: URL
    private var muxer: ExportMuxer?
    private var format: PictureFormat?
    /// Ticks of the start keyframe's PTS: output timestamps are counted from it, so that the first picture is
    /// shown at 0 (with B-frames the first DTS is below 0, as ffmpeg writes them; an MP4 edit list starting later
    /// would make players show nothing for a moment).
    private var origin: Int64?
    /// Before the start is known: the current GOP of the part being read, up to `from`.
    private var pending: [OwnedPacket] = []
    /// The last packet, written once the next one tells how long it lasts (output ticks).
    private var held: OwnedPacket?
    private var heldOwnDuration: Int64 = 0
    private var lastInterval: Int64 = 0
    /// End of the last picture shown (PTS + duration, output ticks: the export's duration).
    private var endPTS: Int64 = 0
    /// The part being read, for error messages.
    private var currentFile = ""

    init(from: Int64, to: Int64, partURL: URL) {
        self.from = from
        self.to = to
        self.partURL = partURL
    }

    /// Copies what `part` holds of the range; false once a packet at or after `to` was met.
    func copy(_ part: ExportPart) throws(CameraError) -> Bool {
        let name = part.file.lastPathComponent
        currentFile = name
        let input = try MediaInput(part.file) { code in
            RecordingFailure.unreadablePart(file: name, detail: libavErrorText(code))
        }
        guard let stream = input.videoStream(), let parameters = stream.pointee.codecpar else {
            throw RecordingFailure.unreadablePart(file: name, detail: "it has no video")
        }
        let partFormat = PictureFormat(parameters)
        if origin != nil { try checkFormat(partFormat, file: name) }
        let timeBase = stream.pointee.time_base
        let partStart = ExportClock.ticks(part.startedAt)
        let noTimestamp = clibav_nopts_value()
        guard let packet = av_packet_alloc() else { throw .failed("out of memory") }
        defer {
            var freeable: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeable)
        }
        var firstDTS: Int64?
        var partEnd = partStart
        while true {
            let read = av_read_frame(input.context, packet)
            if read == clibav_error_again() { continue }
            if read == clibav_error_eof() { break }
            if read < 0 { throw RecordingFailure.unreadablePart(file: name, detail: libavErrorText(read)) }
            guard packet.pointee.stream_index == stream.pointee.index,
                  packet.pointee.dts != noTimestamp || packet.pointee.pts != noTimestamp else {
                av_packet_unref(packet)
                continue
            }
            let item = try OwnedPacket(taking: packet)
            if item.dts == noTimestamp { item.dts = item.pts }
            if item.pts == noTimestamp { item.pts = item.dts }
            let base = firstDTS ?? item.dts
            firstDTS = base
            // Absolute ticks: the part's wall clock plus the packet's own time in the part.
            let dts = partStart + av_rescale_q(item.dts - base, timeBase, ExportClock.timeBase)
            item.pts = dts + av_rescale_q(item.pts - item.dts, timeBase, ExportClock.timeBase)
            item.dts = dts
            item.duration = av_rescale_q(max(item.duration, 0), timeBase, ExportClock.timeBase)
            partEnd = max(partEnd, dts + item.duration)
            if dts >= to {
                // A range shorter than a frame: the pending picture is the one on screen all through it.
                if origin == nil && !pending.isEmpty { try start(format: partFormat, parameters: parameters) }
                return false
            }

            if origin != nil {
                try emit(item)
            } else if item.isKey && dts <= from {
                pending = [item]
            } else if !pending.isEmpty && dts <= from {
                pending.append(item)
            } else if !pending.isEmpty || item.isKey {
                // The first packet after `from`: start at the pending GOP, or here if this part had none.
                try start(format: partFormat, parameters: parameters)
                try emit(item)
            }
        }
        if origin == nil && !pending.isEmpty {
            // `from` is inside this part (after its last keyframe): start there; otherwise it falls in a hole.
            if from < partEnd {
                try start(format: partFormat, parameters: parameters)
            } else {
                pending.removeAll()
            }
        }
        return true
    }

    /// Opens the output and writes the pending GOP.
    private func start(format: PictureFormat, parameters: UnsafePointer<AVCodecParameters>) throws(CameraError) {
        self.format = format
        muxer = try ExportMuxer(partURL: partURL, parameters: parameters)
        let gop = pending
        pending.removeAll()
        guard let first = gop.first else { return }
        origin = first.pts
        for item in gop { try emit(item) }
    }

    private func checkFormat(_ partFormat: PictureFormat, file: String) throws(CameraError) {
        guard let format, partFormat != format else { return }
        var now = partFormat.summary
        if partFormat.codec == format.codec && partFormat.width == format.width && partFormat.height == format.height {
            now += " with other codec settings"
        }
        throw RecordingFailure.formatChanged(file: file, was: format.summary, now: now)
    }

    /// Rebases `item` (absolute ticks) on the export's start and writes the packet held before it.
    private func emit(_ item: OwnedPacket) throws(CameraError) {
        if origin == nil { origin = item.pts }
        guard let origin, let muxer else { return }
        var dts = item.dts - origin
        var pts = item.pts - origin
        if let held {
            if dts <= held.dts {
                // Parts a few milliseconds out (rounded start times) are evened out; real overlaps are refused.
                let overlap = held.dts + max(heldOwnDuration, 0) - dts
                if overlap > ExportClock.hertz / 2 {
                    throw RecordingFailure.partsOverlap(file: currentFile, seconds: ExportClock.seconds(overlap))
                }
                dts = held.dts + 1
            }
            pts = max(pts, dts)
            lastInterval = dts - held.dts
            held.duration = lastInterval
            endPTS = max(endPTS, held.pts + held.duration)
            try muxer.write(held)
        }
        item.dts = dts
        item.pts = pts
        heldOwnDuration = item.duration
        held = item
    }

    /// Writes the last packet and the index, fsyncs, renames to `output`.
    func finish(output: URL) throws(CameraError) -> ExportedRecording {
        guard let origin, let muxer, let format, let held else { throw RecordingFailure.nothingRecorded() }
        held.duration = heldOwnDuration > 0 ? heldOwnDuration : (lastInterval > 0 ? lastInterval : ExportClock.hertz / 25)
        endPTS = max(endPTS, held.pts + held.duration)
        try muxer.write(held)
        self.held = nil
        try muxer.finish()
        self.muxer = nil
        let name = output.lastPathComponent
        let bytes: Int
        do {
            try SegmentFile.fsync(path: partURL.path, directory: false)
            bytes = (try FileManager.default.attributesOfItem(atPath: partURL.path)[.size] as? Int) ?? 0
            guard rename(partURL.path, output.path) == 0 else {
                throw SegmentFile.IOError(description: "rename: \(SegmentFile.errnoText())")
            }
            try SegmentFile.fsync(path: output.deletingLastPathComponent().path, directory: true)
        } catch {
            throw RecordingFailure.cannotWrite(name, detail: "\(error)")
        }
        return ExportedRecording(
            startedAt: ExportClock.date(origin), duration: ExportClock.seconds(endPTS), bytes: bytes,
            codec: format.codecName, width: Int(format.width), height: Int(format.height))
    }

    /// After a failure: frees the muxer (the caller deletes the `.part`).
    func abandon() {
        muxer = nil
        held = nil
        pending.removeAll()
    }
}

/// libav's MP4 muxer writing one regular MP4 (index first) from packets in 90 kHz ticks.
private final class ExportMuxer {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var timeBase = ExportClock.timeBase
    private let name: String

    init(partURL: URL, parameters: UnsafePointer<AVCodecParameters>) throws(CameraError) {
        name = partURL.lastPathComponent
        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let created = avformat_alloc_output_context2(&allocated, nil, "mp4", partURL.path)
        guard created >= 0, let allocated else { throw .failed("cannot create the MP4 muxer (\(created))") }
        context = allocated
        let stream = try MP4Video.addStream(to: allocated, copying: parameters, timeBase: ExportClock.timeBase)
        let opened = avio_open(&allocated.pointee.pb, partURL.path, AVIO_FLAG_WRITE)
        guard opened >= 0 else { throw RecordingFailure.cannotWrite(name, detail: libavErrorText(opened)) }
        var options: OpaquePointer?
        defer { av_dict_free(&options) }
        // The index (moov) goes first once the file is complete, so a browser can seek before it has it all.
        av_dict_set(&options, "movflags", "+faststart", 0)
        let header = avformat_write_header(allocated, &options)
        guard header >= 0 else { throw RecordingFailure.cannotWrite(name, detail: libavErrorText(header)) }
        timeBase = stream.pointee.time_base
    }

    deinit {
        guard let context else { return }
        var pb: UnsafeMutablePointer<AVIOContext>? = context.pointee.pb
        if pb != nil { avio_closep(&pb) }
        context.pointee.pb = nil
        avformat_free_context(context)
    }

    /// Writes `packet` (ticks, rebased, duration set); its timestamps are rescaled in place.
    func write(_ packet: OwnedPacket) throws(CameraError) {
        guard let context else { throw .failed("export already finished") }
        packet.pointer.pointee.stream_index = 0
        packet.pointer.pointee.pos = -1
        av_packet_rescale_ts(packet.pointer, ExportClock.timeBase, timeBase)
        let written = av_write_frame(context, packet.pointer)
        guard written >= 0 else { throw RecordingFailure.cannotWrite(name, detail: libavErrorText(written)) }
    }

    /// Writes the index (moving it to the front) and closes the file.
    func finish() throws(CameraError) {
        guard let context else { return }
        let trailer = av_write_trailer(context)
        var pb: UnsafeMutablePointer<AVIOContext>? = context.pointee.pb
        let closed = avio_closep(&pb)
        context.pointee.pb = nil
        avformat_free_context(context)
        self.context = nil
        guard trailer >= 0 else { throw RecordingFailure.cannotWrite(name, detail: libavErrorText(trailer)) }
        guard closed >= 0 else { throw RecordingFailure.cannotWrite(name, detail: libavErrorText(closed)) }
    }
}
