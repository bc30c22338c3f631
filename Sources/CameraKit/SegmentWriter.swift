import CLibAV
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One open segment: libav's MP4 muxer writing fragmented MP4 to `NAME.mp4.part`, video stream copied as is.
///
/// Fragments end at keyframes and every packet is flushed, so a copy of the `.part` taken at any moment (what a
/// power cut or SIGKILL leaves) plays up to its last complete fragment. The muxer writes through libav's I/O
/// callbacks into `HashedFile`, which hashes every byte on its way to the disk: closing a segment never reads it
/// back. Used on the recorder's thread only.
final class SegmentWriter {
    let session: String
    let sequence: Int
    let startedAt: Date
    let partURL: URL
    let finalURL: URL
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let file: HashedFile
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
        do {
            file = try HashedFile(creating: partURL)
        } catch {
            throw .failed("cannot create \(partURL.lastPathComponent): \(error)")
        }

        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let created = avformat_alloc_output_context2(&allocated, nil, "mp4", partURL.path)
        guard created >= 0, let allocated else {
            file.abandon()
            throw .failed("cannot create the MP4 muxer (\(created))")
        }
        context = allocated
        do throws(CameraError) {
            let stream = try MP4Video.addStream(to: allocated, copying: parameters, timeBase: timeBase)
            try MP4Video.attachOutput(to: allocated, opaque: Unmanaged.passUnretained(file).toOpaque(), write: hashedFileWriteCallback)
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

    /// Writes the last fragment, fsyncs the file, renames it to its final name and fsyncs the folder.
    func close(codec: String, width: Int, height: Int) throws(CameraError) -> RecordedSegment {
        guard let context else { throw .failed("segment already closed") }
        let trailer = av_write_trailer(context)
        if let io = context.pointee.pb { avio_flush(io) }
        freeMuxer()
        guard trailer >= 0, file.failure == nil else {
            file.abandon()
            throw .failed("cannot finish \(partURL.lastPathComponent) (\(file.failure ?? "\(trailer)"))")
        }
        do {
            let (bytes, sha256) = try file.finish()
            guard rename(partURL.path, finalURL.path) == 0 else {
                throw SegmentFile.IOError(description: "rename: \(SegmentFile.errnoText())")
            }
            try SegmentFile.fsync(path: finalURL.deletingLastPathComponent().path, directory: true)
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
        guard context != nil else { return }
        if let io = context?.pointee.pb { avio_flush(io) }
        freeMuxer()
        file.abandon()
    }

    private func freeMuxer() {
        guard let context else { return }
        MP4Video.free(context)
        self.context = nil
    }
}

/// A segment file being written: every byte goes to the disk with write(2) and into a SHA-256 (swift-crypto's,
/// which uses the CPU's SHA instructions where it has them).
final class HashedFile {
    private var descriptor: Int32
    private var hasher = SHA256()
    private(set) var bytes = 0
    /// The first write error, if any: later writes are refused.
    private(set) var failure: String?

    init(creating url: URL) throws {
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SegmentFile.IOError(description: "open: \(SegmentFile.errnoText())") }
    }

    deinit { abandon() }

    /// Writes all of `data` (retrying short writes and interruptions); false after an error.
    func write(_ data: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil, descriptor >= 0, let base = data.baseAddress else { return false }
        var done = 0
        while done < data.count {
            let written = Glibc.write(descriptor, base + done, data.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                failure = SegmentFile.errnoText()
                return false
            }
            done += written
        }
        hasher.update(bufferPointer: data)
        bytes += data.count
        return true
    }

    /// fsyncs and closes the file; its size and lowercase hex SHA-256.
    func finish() throws -> (bytes: Int, sha256: String) {
        guard descriptor >= 0 else { throw SegmentFile.IOError(description: "the file is already closed") }
        defer { abandon() }
        guard Glibc.fsync(descriptor) == 0 else { throw SegmentFile.IOError(description: "fsync: \(SegmentFile.errnoText())") }
        return (bytes, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// Closes the file as it is (a `.part` left for recovery).
    func abandon() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }
}

/// libav's write callback for a `HashedFile`: `opaque` is the unretained file, owned by its `SegmentWriter`.
private let hashedFileWriteCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = {
    opaque, buffer, size in
    guard let opaque, let buffer, size > 0 else { return size }
    let file = Unmanaged<HashedFile>.fromOpaque(opaque).takeUnretainedValue()
    return file.write(UnsafeRawBufferPointer(start: buffer, count: Int(size))) ? size : clibav_error_posix(clibav_errno_io())
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

    typealias WriteCallback = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32

    /// Makes the muxer write through `write(opaque, bytes, count)` (a 64 KiB buffer) instead of to a file of its own.
    static func attachOutput(
        to context: UnsafeMutablePointer<AVFormatContext>, opaque: UnsafeMutableRawPointer, write: WriteCallback
    ) throws(CameraError) {
        let size: Int32 = 64 * 1024
        guard let buffer = av_malloc(Int(size)) else { throw .failed("out of memory") }
        guard let io = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), size, 1, opaque, nil, write, nil) else {
            av_free(buffer)
            throw .failed("out of memory")
        }
        context.pointee.pb = io
        context.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
    }

    /// Frees a muxer and the output `attachOutput` gave it.
    static func free(_ context: UnsafeMutablePointer<AVFormatContext>) {
        if let io = context.pointee.pb {
            av_free(io.pointee.buffer)  // libav may have replaced the buffer given at creation
            io.pointee.buffer = nil
            var freeable: UnsafeMutablePointer<AVIOContext>? = io
            avio_context_free(&freeable)
            context.pointee.pb = nil
        }
        avformat_free_context(context)
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

    /// Size and lowercase hex SHA-256 of the file at `url` (read in 1 MiB chunks; recovery after a crash).
    static func hash(_ url: URL) throws -> (bytes: Int, sha256: String) {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw IOError(description: "open \(url.path): \(errnoText())") }
        defer { close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError(description: "read \(url.path): \(errnoText())")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += count
        }
        return (total, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
