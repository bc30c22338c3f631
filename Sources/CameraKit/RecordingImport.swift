import CLibAV
import Foundation

/// What `RecordingImport.probe` found in an uploaded video.
public struct ImportedVideo: Sendable, Equatable {
    /// libavformat's short name of the container: `mp4`, `mov`, `matroska`, `mpegts`, `avi`, `flv`…
    public var container: String
    /// `h264` or `hevc`.
    public var codec: String
    public var width: Int
    public var height: Int
    /// Seconds.
    public var duration: Double
    /// The frame rate the file declares, if it declares a sensible one.
    public var framesPerSecond: Double?

    public init(container: String, codec: String, width: Int, height: Int, duration: Double,
                framesPerSecond: Double?) {
        self.container = container
        self.codec = codec
        self.width = width
        self.height = height
        self.duration = duration
        self.framesPerSecond = framesPerSecond
    }
}

/// An uploaded file as checked (`video`) and cut (`segments`).
public struct ImportedRecording: Sendable, Equatable {
    public var video: ImportedVideo
    public var segments: [RecordedSegment]
}

/// A recording made by other means and brought to the venue (手动上传): checked, then cut into segment files like
/// the recorder's.
public enum RecordingImport {
    /// Packets fed to the decoder, at most, before a file whose pictures do not decode is refused.
    static let decodePacketLimit = 100
    /// Time allowed for that, at most.
    static let decodeBudget: Duration = .seconds(5)

    /// Opens `file` with libavformat and checks it is a playable video: a container libavformat knows (MP4, MOV,
    /// MKV, AVI, MPEG-TS, FLV…) with a video stream in H.264 or H.265 (what the venue's pages play), a known
    /// picture size, a duration above zero, and first packets that libavcodec really decodes to a picture (a valid
    /// header over damaged data is refused). An empty file, a text file or a still picture is not a video; another
    /// codec is refused naming it, asking for H.264. Synchronous: run it off the cooperative pool.
    public static func probe(_ file: URL) throws(CameraError) -> ImportedVideo {
        guard let size = try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int else {
            throw RecordingFailure.notAVideo(en: "the file cannot be found or read", zh: "找不到或无法读取该文件")
        }
        guard size > 0 else { throw RecordingFailure.notAVideo(en: "the file is empty", zh: "文件为空") }
        let input = try MediaInput(file) { code in
            code == clibav_error_invalid_data()
                ? RecordingFailure.notAVideo(en: "it is in no format libav knows, or it is incomplete", zh: "格式无法识别，或文件不完整")
                : RecordingFailure.notAVideo(en: "it cannot be read (\(libavErrorText(code)))", zh: "无法读取（\(libavErrorText(code))）")
        }
        let format = String(cString: input.context.pointee.iformat.pointee.name)
        // Pictures come in through image demuxers (`png_pipe`, `jpeg_pipe`, `image2`…) as one-frame "videos".
        guard !format.hasSuffix("_pipe"), format != "image2" else {
            throw RecordingFailure.notAVideo(en: "it is a still picture", zh: "这是一张图片")
        }
        let found = avformat_find_stream_info(input.context, nil)
        guard found >= 0 else { throw RecordingFailure.notAVideo(en: "it cannot be read (\(libavErrorText(found)))", zh: "无法读取（\(libavErrorText(found))）") }
        guard let stream = input.videoStream(), let parameters = stream.pointee.codecpar else { throw .noVideo }
        let codecID = parameters.pointee.codec_id
        guard codecID == AV_CODEC_ID_H264 || codecID == AV_CODEC_ID_HEVC else {
            let name = String(cString: avcodec_get_name(codecID))
            throw RecordingFailure.unsupportedVideoCodec(name == "none" ? "an unknown codec" : name.uppercased())
        }
        guard parameters.pointee.width > 0, parameters.pointee.height > 0 else {
            throw RecordingFailure.notAVideo(en: "its picture size is unknown", zh: "画面尺寸未知")
        }
        // An index (MP4, MOV) that points past the end of the file: the file was cut short, by an upload perhaps.
        let indexed = Int(avformat_index_get_entries_count(stream))
        if indexed > 0, let last = avformat_index_get_entry(stream, Int32(indexed - 1)),
           Int(last.pointee.pos) + Int(last.pointee.size) > size {
            throw RecordingFailure.notAVideo(en: "it is incomplete: it ends before its last picture", zh: "文件不完整：在最后一幅画面之前就结束了（上传中断？）")
        }
        let first = try checkDecodes(input, stream: stream)
        let noTimestamp = clibav_nopts_value()
        if first.pts == noTimestamp && first.dts == noTimestamp {
            throw RecordingFailure.notAVideo(
                en: "its pictures carry no timestamps (a bare H.264/H.265 stream): put it in an MP4 first",
                zh: "画面没有时间戳（裸 H.264/H.265 码流），请先封装为 MP4")
        }
        if first.pts == noTimestamp && parameters.pointee.video_delay > 0 {
            throw RecordingFailure.notAVideo(
                en: "it does not say in which order its pictures are shown (B-frames in AVI): convert it to MP4",
                zh: "文件没有给出画面的显示顺序（AVI 中含 B 帧），请转换为 MP4")
        }
        let duration = try Self.duration(of: input, file: file, stream: stream)
        guard duration > 0 else { throw RecordingFailure.notAVideo(en: "its duration is zero", zh: "时长为零") }
        let rates = [stream.pointee.avg_frame_rate, stream.pointee.r_frame_rate]
            .map { $0.den > 0 ? Double($0.num) / Double($0.den) : 0 }
        return ImportedVideo(
            container: containerName(format, input: input), codec: String(cString: avcodec_get_name(codecID)),
            width: Int(parameters.pointee.width), height: Int(parameters.pointee.height), duration: duration,
            framesPerSecond: rates.first { $0 > 0 && $0 <= 300 })
    }

    /// Stream-copies the video of `file` into closed segment files in `folder`, with the recorder's naming,
    /// format and crash safety (`SegmentWriter`: fragmented MP4, `.part`, fsync, rename): cut at the first keyframe
    /// at or after every `segmentSeconds`, under a new session id. `startedAt` is the wall clock of the file's
    /// first picture (the admin says when it was filmed); each segment's start follows from it and the file's own
    /// timestamps. Audio and every other stream are dropped: the venue keeps video only. Timestamps are repaired
    /// as the recorder does (strictly increasing DTS, PTS never before DTS; missing DTS before the first real one
    /// are counted back from it). A file that ends well before the duration it states is refused as incomplete.
    /// On failure the segments written so far are deleted. Returns the segments (`recovered: false`).
    ///
    /// With open GOPs (x265's default: keyframes after the first are CRAs), a segment played alone misses the few
    /// leading pictures of its first keyframe, which refer to the segment before; an export across the cut has them.
    /// Synchronous: run it off the cooperative pool.
    public static func split(_ file: URL, startedAt: Date, folder: URL, segmentSeconds: Double = 60)
        throws(CameraError) -> [RecordedSegment]
    {
        try importFile(file, startedAt: startedAt, folder: folder, segmentSeconds: segmentSeconds).segments
    }

    /// `probe` and `split` in one pass over the checks: what the file holds, and its segments.
    public static func importFile(_ file: URL, startedAt: Date, folder: URL, segmentSeconds: Double = 60)
        throws(CameraError) -> ImportedRecording
    {
        let video = try probe(file)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RecordingFailure.cannotWrite(folder.path, detail: "\(error)")
        }
        let input = try MediaInput(file) { code in
            RecordingFailure.notAVideo(en: "it cannot be read (\(libavErrorText(code)))", zh: "无法读取（\(libavErrorText(code))）")
        }
        let found = avformat_find_stream_info(input.context, nil)
        guard found >= 0 else { throw RecordingFailure.notAVideo(en: "it cannot be read (\(libavErrorText(found)))", zh: "无法读取（\(libavErrorText(found))）") }
        guard let stream = input.videoStream(), let parameters = stream.pointee.codecpar else { throw .noVideo }
        for other in input.streams where other != stream { other.pointee.discard = AVDISCARD_ALL }

        let splitter = Splitter(
            folder: folder, startedAt: startedAt, segmentSeconds: max(segmentSeconds, 0.001), stream: stream,
            parameters: parameters, video: video)
        guard let packet = av_packet_alloc() else { throw .failed("out of memory") }
        defer {
            var freeable: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeable)
        }
        do throws(CameraError) {
            while true {
                let read = av_read_frame(input.context, packet)
                if read == clibav_error_again() { continue }
                if read == clibav_error_eof() { break }
                if read < 0 {
                    throw RecordingFailure.notAVideo(
                        en: "it is damaged after \(splitter.secondsDone) s (\(libavErrorText(read)))",
                        zh: "文件在 \(splitter.secondsDone) 秒处损坏（\(libavErrorText(read))）")
                }
                guard packet.pointee.stream_index == stream.pointee.index else {
                    av_packet_unref(packet)
                    continue
                }
                try splitter.handle(try OwnedPacket(taking: packet))
            }
            let segments = try splitter.finish()
            // A file that ends well before the duration it states was cut short (and libav just stops reading).
            let written = segments.map(\.duration).reduce(0, +)
            if written < video.duration - max(2, video.duration * 0.05) {
                throw RecordingFailure.notAVideo(
                    en: String(format: "it is incomplete: it holds %.1f s of the %.1f s it says it lasts", written, video.duration),
                    zh: String(format: "文件不完整：声明时长 %.1f 秒，实际只有 %.1f 秒", video.duration, written))
            }
            return ImportedRecording(video: video, segments: segments)
        } catch {
            splitter.abandon()
            throw error
        }
    }

    /// The video stream's duration when the file states one (zero included), else the container's (which may
    /// count a longer audio track), else measured from the packets' timestamps (read again from the start).
    private static func duration(of input: MediaInput, file: URL, stream: UnsafeMutablePointer<AVStream>)
        throws(CameraError) -> Double
    {
        let noTimestamp = clibav_nopts_value()
        let timeBase = stream.pointee.time_base
        let seconds = Double(timeBase.num) / Double(max(timeBase.den, 1))
        if stream.pointee.duration != noTimestamp { return Double(stream.pointee.duration) * seconds }
        let container = input.context.pointee.duration
        if container != noTimestamp { return Double(container) / Double(clibav_time_base()) }
        let scan = try MediaInput(file) { code in RecordingFailure.notAVideo(en: "it cannot be read (\(libavErrorText(code)))", zh: "无法读取（\(libavErrorText(code))）") }
        guard let packet = av_packet_alloc() else { throw .failed("out of memory") }
        defer {
            var freeable: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeable)
        }
        var first: Int64?
        var end: Int64 = 0
        while av_read_frame(scan.context, packet) >= 0 {
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == stream.pointee.index else { continue }
            let stamp = packet.pointee.pts != noTimestamp ? packet.pointee.pts : packet.pointee.dts
            guard stamp != noTimestamp else { continue }
            first = min(first ?? stamp, stamp)
            end = max(end, stamp + max(packet.pointee.duration, 0))
        }
        guard let first else { return 0 }
        return Double(end - first) * seconds
    }

    /// Decodes the first video packets until a clean picture comes out; refuses the file if none does within
    /// `decodePacketLimit` packets from the first keyframe, or `decodeBudget`. Returns the timestamps of the first
    /// video packet; leaves the input where it stopped reading.
    private static func checkDecodes(_ input: MediaInput, stream: UnsafeMutablePointer<AVStream>)
        throws(CameraError) -> (pts: Int64, dts: Int64)
    {
        guard let decoder = avcodec_find_decoder(stream.pointee.codecpar.pointee.codec_id) else {
            throw .failed("this libav has no decoder for the video")
        }
        var allocated = avcodec_alloc_context3(decoder)
        defer { avcodec_free_context(&allocated) }
        guard let codec = allocated, avcodec_parameters_to_context(codec, stream.pointee.codecpar) >= 0 else {
            throw .failed("out of memory")
        }
        codec.pointee.thread_count = 1
        codec.pointee.pkt_timebase = stream.pointee.time_base
        let opened = avcodec_open2(codec, decoder, nil)
        guard opened >= 0 else { throw .failed("cannot open the video decoder (\(libavErrorText(opened)))") }
        var packetSlot = av_packet_alloc()
        var frameSlot = av_frame_alloc()
        defer {
            av_packet_free(&packetSlot)
            av_frame_free(&frameSlot)
        }
        guard let packet = packetSlot, let frame = frameSlot else { throw .failed("out of memory") }

        /// Whether the decoder has a picture without errors in it ready.
        func cleanPicture() -> Bool {
            while avcodec_receive_frame(codec, frame) >= 0 {
                defer { av_frame_unref(frame) }
                if frame.pointee.decode_error_flags == 0 && frame.pointee.flags & AV_FRAME_FLAG_CORRUPT == 0 {
                    return true
                }
            }
            return false
        }

        let deadline = ContinuousClock.now + decodeBudget
        var first: (pts: Int64, dts: Int64)?
        var sent = 0
        var skipped = 0
        while sent < decodePacketLimit && skipped < 20 * decodePacketLimit && ContinuousClock.now < deadline {
            let read = av_read_frame(input.context, packet)
            if read == clibav_error_again() { continue }
            if read < 0 { break }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == stream.pointee.index else { continue }
            if first == nil { first = (packet.pointee.pts, packet.pointee.dts) }
            // A file cut inside a GOP (MPEG-TS often is) starts decoding at its first keyframe.
            if sent == 0 && packet.pointee.flags & clibav_packet_flag_key() == 0 {
                skipped += 1
                continue
            }
            sent += 1
            _ = avcodec_send_packet(codec, packet)  // errors show as no clean picture
            if cleanPicture() { return first ?? (packet.pointee.pts, packet.pointee.dts) }
        }
        _ = avcodec_send_packet(codec, nil)
        if let first, cleanPicture() { return first }
        if first == nil { throw .noVideo }
        throw RecordingFailure.notAVideo(
            en: "its first pictures do not decode (\(sent) packets tried): the file is damaged",
            zh: "开头的画面无法解码（已尝试 \(sent) 个数据包），文件已损坏")
    }

    /// `mp4` or `mov` for the ISO family (by its brand), the first of libav's names for the others.
    private static func containerName(_ format: String, input: MediaInput) -> String {
        if format.hasPrefix("mov,") {
            let brand = av_dict_get(input.context.pointee.metadata, "major_brand", nil, 0)
                .map { String(cString: $0.pointee.value) } ?? ""
            return brand.hasPrefix("qt") ? "mov" : "mp4"
        }
        return String(format.split(separator: ",").first ?? Substring(format))
    }
}

/// One import in progress: timestamp repair, the segment being written, the segments closed.
private final class Splitter {
    let folder: URL
    let startedAt: Date
    let segmentSeconds: Double
    let parameters: UnsafeMutablePointer<AVCodecParameters>
    let timeBase: AVRational
    let video: ImportedVideo
    let session = UUID().uuidString.lowercased()
    /// The file's first picture time (stream time base): `startedAt` is its wall clock.
    private var origin: Int64?
    private var sequence = 0
    private var writer: SegmentWriter?
    private var closed: [RecordedSegment] = []
    /// Leading packets that came without a DTS (Matroska with B-frames), until the first one that has one.
    private var undated: [OwnedPacket] = []
    private var held: OwnedPacket?
    private var heldOwnDuration: Int64 = 0
    private var lastInterval: Int64 = 0

    init(folder: URL, startedAt: Date, segmentSeconds: Double, stream: UnsafeMutablePointer<AVStream>,
         parameters: UnsafeMutablePointer<AVCodecParameters>, video: ImportedVideo) {
        self.folder = folder
        self.startedAt = startedAt
        self.segmentSeconds = segmentSeconds
        self.parameters = parameters
        self.timeBase = stream.pointee.time_base
        self.video = video
        let start = stream.pointee.start_time
        origin = start == clibav_nopts_value() ? nil : start
    }

    private var unit: Double { Double(timeBase.num) / Double(max(timeBase.den, 1)) }
    var secondsDone: String {
        String(format: "%.1f", closed.map(\.duration).reduce(0, +) + (writer?.duration ?? 0))
    }

    func handle(_ packet: OwnedPacket) throws(CameraError) {
        let noTimestamp = clibav_nopts_value()
        if packet.dts == noTimestamp && packet.pts == noTimestamp { return }
        if packet.dts == noTimestamp && held == nil {
            // Nothing dated yet: keep it (from a keyframe on) until a packet with a DTS shows where they go.
            guard packet.isKey || !undated.isEmpty else { return }
            undated.append(packet)
            if undated.count > 64 {
                // No DTS ever comes: no reordering to respect, decode order is presentation order.
                for item in undated { item.dts = item.pts }
                try flushUndated()
            }
            return
        }
        if !undated.isEmpty {
            // Count back from this packet's DTS, one frame each, never after a packet's own PTS.
            let step = max(1, packet.duration > 0 ? packet.duration : undated.last?.duration ?? 1)
            var next = packet.dts
            for item in undated.reversed() {
                next = min(next - step, item.pts)
                item.dts = next
            }
            try flushUndated()
        }
        if packet.dts == noTimestamp, let held { packet.dts = held.dts + max(1, lastInterval) }
        if packet.pts == noTimestamp { packet.pts = packet.dts }
        try write(packet)
    }

    private func flushUndated() throws(CameraError) {
        let items = undated
        undated.removeAll()
        for item in items { try write(item) }
    }

    /// Timestamps repaired like the recorder's; cut at a keyframe once the segment is long enough.
    private func write(_ packet: OwnedPacket) throws(CameraError) {
        guard let held else {
            guard packet.isKey else { return }
            if origin == nil { origin = packet.pts }
            try open(at: packet.dts)
            hold(packet)
            return
        }
        if packet.dts <= held.dts { packet.dts = held.dts + 1 }
        if packet.pts < packet.dts { packet.pts = packet.dts }
        lastInterval = packet.dts - held.dts
        held.duration = lastInterval
        try writer?.write(held.pointer)
        self.held = nil
        if packet.isKey, let writer, writer.elapsed(toDTS: packet.dts) >= segmentSeconds {
            try close()
            try open(at: packet.dts)
        }
        hold(packet)
    }

    private func hold(_ packet: OwnedPacket) {
        heldOwnDuration = packet.duration
        held = packet
    }

    private func open(at dts: Int64) throws(CameraError) {
        let wall = startedAt.addingTimeInterval(Double(dts - (origin ?? dts)) * unit)
        writer = try SegmentWriter(folder: folder, session: session, sequence: sequence, startedAt: wall,
                                   parameters: parameters, timeBase: timeBase, firstDTS: dts)
        sequence += 1
    }

    private func close() throws(CameraError) {
        guard let writer else { return }
        self.writer = nil
        do throws(CameraError) {
            closed.append(try writer.close(codec: video.codec, width: video.width, height: video.height))
        } catch {
            try? FileManager.default.removeItem(at: writer.partURL)
            throw error
        }
    }

    func finish() throws(CameraError) -> [RecordedSegment] {
        if !undated.isEmpty {
            for item in undated { item.dts = item.pts }
            try flushUndated()
        }
        if let held {
            let frame = video.framesPerSecond.map { Int64((1 / $0 / unit).rounded()) } ?? 0
            held.duration = heldOwnDuration > 0 ? heldOwnDuration : lastInterval > 0 ? lastInterval : max(1, frame)
            try writer?.write(held.pointer)
            self.held = nil
        }
        try close()
        guard !closed.isEmpty else { throw RecordingFailure.notAVideo(en: "it holds no keyframe", zh: "文件中没有关键帧") }
        return closed
    }

    /// After a failure: the open `.part` and every segment already closed go.
    func abandon() {
        if let part = writer?.partURL {
            writer = nil
            try? FileManager.default.removeItem(at: part)
        }
        for segment in closed { try? FileManager.default.removeItem(at: folder.appendingPathComponent(segment.fileName)) }
        closed.removeAll()
        held = nil
        undated.removeAll()
    }
}
