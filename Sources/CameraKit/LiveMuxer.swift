import CLibAV
import Foundation

/// The live picture of one connection: libav's MP4 muxer writing fragmented MP4 into memory, one fragment per
/// frame (flushed as soon as the frame is written), published to a `LiveFeed`. Used on the recorder's thread only.
///
/// Timestamps start at 0 at the first packet, which must be a keyframe. Nothing here touches a file.
final class LiveMuxer {
    private let feed: LiveFeed
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let output = LiveOutput()
    private let inputTimeBase: AVRational
    private var outputTimeBase: AVRational
    private let firstDTS: Int64
    private let packet: UnsafeMutablePointer<AVPacket>

    init(feed: LiveFeed, parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational, firstDTS: Int64)
        throws(CameraError)
    {
        self.feed = feed
        self.inputTimeBase = timeBase
        self.outputTimeBase = timeBase
        self.firstDTS = firstDTS
        guard let packet = av_packet_alloc() else { throw .failed("out of memory") }
        self.packet = packet

        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let created = avformat_alloc_output_context2(&allocated, nil, "mp4", nil)
        guard created >= 0, let allocated else { throw .failed("cannot create the live MP4 muxer (\(created))") }
        context = allocated
        do throws(CameraError) {
            let stream = try MP4Video.addStream(to: allocated, copying: parameters, timeBase: timeBase)
            try MP4Video.attachOutput(to: allocated, opaque: Unmanaged.passUnretained(output).toOpaque(), write: liveWriteCallback)
            var options: OpaquePointer?
            defer { av_dict_free(&options) }
            // Fragments only when asked (after every frame): the browser gets each frame as soon as it is written.
            av_dict_set(&options, "movflags", "frag_custom+empty_moov+default_base_moof+skip_trailer", 0)
            let header = avformat_write_header(allocated, &options)
            guard header >= 0 else { throw .failed("cannot write the live MP4 header (\(header))") }
            avio_flush(allocated.pointee.pb)
            outputTimeBase = stream.pointee.time_base
            let initialization = output.takeBoxes().flatMap(\.bytes)
            guard !initialization.isEmpty else { throw .failed("the live MP4 header is empty") }
            feed.publish(start: LiveStart(
                codec: LiveCodec.string(initialization: initialization) ?? "avc1.640028",
                width: Int(parameters.pointee.width), height: Int(parameters.pointee.height),
                initialization: initialization))
        } catch {
            free()
            throw error
        }
    }

    deinit {
        free()
        var freeable: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&freeable)
    }

    /// Writes a copy of `source` (input time base, absolute timestamps, `duration` set) as one fragment and
    /// publishes it. `source` itself is left as it is.
    func write(_ source: UnsafeMutablePointer<AVPacket>) throws(CameraError) {
        guard let context else { throw .failed("live view already closed") }
        let referenced = av_packet_ref(packet, source)
        guard referenced >= 0 else { throw .failed("out of memory") }
        defer { av_packet_unref(packet) }
        let keyframe = packet.pointee.flags & clibav_packet_flag_key() != 0
        packet.pointee.pts -= firstDTS
        packet.pointee.dts -= firstDTS
        packet.pointee.stream_index = 0
        packet.pointee.pos = -1
        av_packet_rescale_ts(packet, inputTimeBase, outputTimeBase)
        let written = av_write_frame(context, packet)
        guard written >= 0 else { throw .failed("cannot write the live picture (\(written))") }
        let flushed = av_write_frame(context, nil)  // frag_custom: cut the fragment now
        guard flushed >= 0 else { throw .failed("cannot write the live picture (\(flushed))") }
        avio_flush(context.pointee.pb)
        var fragment: [UInt8] = []
        for box in output.takeBoxes() {
            fragment += box.bytes
            if box.type == "mdat" {
                feed.publish(fragment: fragment, keyframe: keyframe)
                fragment = []
            }
        }
    }

    private func free() {
        guard let context else { return }
        MP4Video.free(context)
        self.context = nil
    }
}

/// Where libav writes the live MP4: bytes collected and cut into whole top-level boxes.
private final class LiveOutput {
    struct Box {
        var type: String
        var bytes: [UInt8]
    }

    private var pending: [UInt8] = []

    func append(_ bytes: UnsafeBufferPointer<UInt8>) { pending.append(contentsOf: bytes) }

    /// The complete boxes written so far; an incomplete one stays for later.
    func takeBoxes() -> [Box] {
        var boxes: [Box] = []
        var offset = 0
        while pending.count - offset >= 8 {
            var size = pending[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            var header = 8
            if size == 1 {
                guard pending.count - offset >= 16 else { break }
                size = pending[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) }
                header = 16
            }
            guard size >= header, pending.count - offset >= size else { break }
            let type = String(decoding: pending[offset + 4..<offset + 8], as: UTF8.self)
            boxes.append(Box(type: type, bytes: Array(pending[offset..<offset + size])))
            offset += size
        }
        pending.removeFirst(offset)
        return boxes
    }
}

private let liveWriteCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = {
    opaque, buffer, size in
    guard let opaque, let buffer, size > 0 else { return size }
    Unmanaged<LiveOutput>.fromOpaque(opaque).takeUnretainedValue()
        .append(UnsafeBufferPointer(start: buffer, count: Int(size)))
    return size
}

/// The MSE codecs parameter of a fragmented MP4, read from its `avcC` or `hvcC` box (RFC 6381, ISO/IEC 14496-15).
enum LiveCodec {
    static func string(initialization bytes: [UInt8]) -> String? {
        if let at = find("avcC", in: bytes), at + 8 <= bytes.count {
            // configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication
            return String(format: "avc1.%02x%02x%02x", bytes[at + 5], bytes[at + 6], bytes[at + 7])
        }
        if let at = find("hvcC", in: bytes), at + 17 <= bytes.count {
            let c = at + 4  // configurationVersion is at c
            let profileByte = bytes[c + 1]
            let space = ["", "A", "B", "C"][Int(profileByte >> 6)]
            let tier = profileByte & 0x20 != 0 ? "H" : "L"
            let profile = Int(profileByte & 0x1F)
            let flags = bytes[c + 2..<c + 6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            var reversed: UInt32 = 0
            for bit in 0..<32 where flags & (1 << bit) != 0 { reversed |= 1 << (31 - bit) }
            var constraints = Array(bytes[c + 6..<c + 12])
            while let last = constraints.last, last == 0 { constraints.removeLast() }
            let level = Int(bytes[c + 12])
            var text = "hvc1.\(space)\(profile).\(String(reversed, radix: 16, uppercase: true)).\(tier)\(level)"
            for byte in constraints { text += String(format: ".%02X", byte) }
            return text
        }
        return nil
    }

    /// Offset of the first occurrence of a four-character box type.
    private static func find(_ type: String, in bytes: [UInt8]) -> Int? {
        let pattern = Array(type.utf8)
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == pattern[0] {
            if bytes[index + 1] == pattern[1], bytes[index + 2] == pattern[2], bytes[index + 3] == pattern[3] {
                return index
            }
        }
        return nil
    }
}
