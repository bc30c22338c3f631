import CLibAV
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One open segment: libav's MP4 muxer writing fragmented MP4 to `NAME.mp4.part`, video stream copied as is.
///
/// Fragments end at keyframes and every packet is flushed, so a copy of the `.part` taken at any moment (what a
/// power cut or SIGKILL leaves) plays up to its last complete fragment. Used on the recorder's thread only.
final class SegmentWriter {
    let session: String
    let sequence: Int
    let startedAt: Date
    let partURL: URL
    let finalURL: URL
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let inputTimeBase: AVRational
    private var outputTimeBase: AVRational
    /// DTS of the first packet (a keyframe), in the input time base: every timestamp is rebased by it.
    private let firstDTS: Int64
    /// End of the last packet written (DTS + duration), rebased, in the input time base.
    private var writtenEnd: Int64 = 0

    /// Creates `folder/<session>-<sequence>-<millis>.mp4.part` and writes the MP4 header (ftyp and an empty moov).
    init(folder: URL, session: String, sequence: Int, startedAt: Date,
         parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational, firstDTS: Int64) throws(CameraError) {
        self.session = session
        self.sequence = sequence
        self.startedAt = startedAt
        self.partURL = folder.appendingPathComponent(
            SegmentName.part(session: session, sequence: sequence, startedAt: startedAt))
        self.finalURL = folder.appendingPathComponent(SegmentName.final(session: session, sequence: sequence))
        self.inputTimeBase = timeBase
        self.outputTimeBase = timeBase
        self.firstDTS = firstDTS

        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let created = avformat_alloc_output_context2(&allocated, nil, "mp4", partURL.path)
        guard created >= 0, let allocated else { throw .failed("cannot create the MP4 muxer (\(created))") }
        context = allocated
        do throws(CameraError) {
            let stream = try MP4Video.addStream(to: allocated, copying: parameters, timeBase: timeBase)
            let opened = avio_open(&allocated.pointee.pb, partURL.path, AVIO_FLAG_WRITE)
            guard opened >= 0 else { throw .failed("cannot create \(partURL.lastPathComponent) (\(opened))") }
            var options: OpaquePointer?
            defer { av_dict_free(&options) }
            av_dict_set(&options, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0)
            av_dict_set(&options, "flush_packets", "1", 0)
            let header = avformat_write_header(allocated, &options)
            guard header >= 0 else { throw .failed("cannot write the MP4 header (\(header))") }
            outputTimeBase = stream.pointee.time_base
        } catch {
            abandon()
            throw error
        }
    }

    deinit { abandon() }

    /// Seconds of video written so far, from the stream timestamps.
    var duration: Double { Double(writtenEnd) * Double(inputTimeBase.num) / Double(max(inputTimeBase.den, 1)) }

    /// Seconds from this segment's first packet to `dts` (input time base).
    func elapsed(toDTS dts: Int64) -> Double {
        Double(dts - firstDTS) * Double(inputTimeBase.num) / Double(max(inputTimeBase.den, 1))
    }

    /// Writes `packet` (input time base, absolute timestamps, `duration` set); the packet is rebased in place.
    func write(_ packet: UnsafeMutablePointer<AVPacket>) throws(CameraError) {
        guard let context else { throw .failed("segment already closed") }
        packet.pointee.pts -= firstDTS
        packet.pointee.dts -= firstDTS
        writtenEnd = packet.pointee.dts + packet.pointee.duration
        packet.pointee.stream_index = 0
        packet.pointee.pos = -1
        av_packet_rescale_ts(packet, inputTimeBase, outputTimeBase)
        let written = av_write_frame(context, packet)
        guard written >= 0 else { throw .failed("cannot write to \(partURL.lastPathComponent) (\(written))") }
    }

    /// Writes the last fragment, fsyncs the file, hashes it, renames it to its final name and fsyncs the folder.
    func close(codec: String, width: Int, height: Int) throws(CameraError) -> RecordedSegment {
        guard let context else { throw .failed("segment already closed") }
        let trailer = av_write_trailer(context)
        var pb: UnsafeMutablePointer<AVIOContext>? = context.pointee.pb
        avio_closep(&pb)
        context.pointee.pb = nil
        avformat_free_context(context)
        self.context = nil
        guard trailer >= 0 else { throw .failed("cannot finish \(partURL.lastPathComponent) (\(trailer))") }
        do {
            let (bytes, sha256) = try SegmentFile.seal(part: partURL, final: finalURL)
            let duration = self.duration
            return RecordedSegment(
                session: session, sequence: sequence, fileName: finalURL.lastPathComponent, startedAt: startedAt,
                endedAt: startedAt.addingTimeInterval(duration), duration: duration, bytes: bytes, sha256: sha256,
                codec: codec, width: width, height: height, recovered: false)
        } catch {
            throw .failed("cannot close \(partURL.lastPathComponent): \(error)")
        }
    }

    /// Frees the muxer without a trailer (after a failure); the `.part` stays for `recoverUnfinished`.
    private func abandon() {
        guard let context else { return }
        var pb: UnsafeMutablePointer<AVIOContext>? = context.pointee.pb
        if pb != nil { avio_closep(&pb) }
        context.pointee.pb = nil
        avformat_free_context(context)
        self.context = nil
    }
}

/// The one video stream of the MP4 files the venue writes (segments, the live picture, exports).
enum MP4Video {
    /// Adds a stream to `context` carrying `parameters` as they are (stream copy). The RTSP or container tag means
    /// nothing in MP4; H.265 goes as hvc1 (parameter sets in the sample entry), which Safari and Chrome play, rather
    /// than libav's default hev1.
    static func addStream(
        to context: UnsafeMutablePointer<AVFormatContext>, copying parameters: UnsafePointer<AVCodecParameters>,
        timeBase: AVRational
    ) throws(CameraError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else { throw .failed("out of memory") }
        let copied = avcodec_parameters_copy(stream.pointee.codecpar, parameters)
        guard copied >= 0 else { throw .failed("cannot copy the codec parameters (\(copied))") }
        stream.pointee.codecpar.pointee.codec_tag = parameters.pointee.codec_id == AV_CODEC_ID_HEVC ? clibav_tag_hvc1() : 0
        stream.pointee.time_base = timeBase
        return stream
    }
}

/// The durable end of a segment file's life: fsync, hash, rename, fsync the folder.
enum SegmentFile {
    struct IOError: Error, CustomStringConvertible {
        let description: String
    }

    /// fsyncs `part`, hashes it, renames it to `final` and fsyncs their folder. Returns the size and the hash.
    static func seal(part: URL, final: URL) throws -> (bytes: Int, sha256: String) {
        try fsync(path: part.path, directory: false)
        let (bytes, sha256) = try hash(part)
        guard rename(part.path, final.path) == 0 else { throw IOError(description: "rename: \(errnoText())") }
        try fsync(path: final.deletingLastPathComponent().path, directory: true)
        return (bytes, sha256)
    }

    static func fsync(path: String, directory: Bool) throws {
        let descriptor = open(path, directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)
        guard descriptor >= 0 else { throw IOError(description: "open \(path): \(errnoText())") }
        defer { close(descriptor) }
        guard Glibc.fsync(descriptor) == 0 else { throw IOError(description: "fsync \(path): \(errnoText())") }
    }

    /// Size and lowercase hex SHA-256 of the file at `url` (libavutil's SHA-256, read in 1 MiB chunks).
    static func hash(_ url: URL) throws -> (bytes: Int, sha256: String) {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw IOError(description: "open \(url.path): \(errnoText())") }
        defer { close(descriptor) }
        guard let sha = av_sha_alloc() else { throw IOError(description: "out of memory") }
        defer { av_free(UnsafeMutableRawPointer(sha)) }
        av_sha_init(sha, 256)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError(description: "read \(url.path): \(errnoText())")
            }
            if count == 0 { break }
            buffer.withUnsafeBufferPointer { av_sha_update(sha, $0.baseAddress, count) }
            total += count
        }
        var digest = [UInt8](repeating: 0, count: 32)
        av_sha_final(sha, &digest)
        return (total, digest.map { String(format: "%02x", $0) }.joined())
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
