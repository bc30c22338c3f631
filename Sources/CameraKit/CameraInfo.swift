import Foundation

/// What a probe found out about a camera's stream.
public struct CameraInfo: Sendable, Equatable, Codable {
    /// libav's codec name: `h264` or `hevc` (other codecs are refused with `CameraError.unsupportedCodec`).
    public var codec: String
    public var width: Int
    public var height: Int
    /// Frames per second, as the stream declares it or, failing that, as measured from the packets read.
    public var framesPerSecond: Double
    /// Video bits per second, measured from the packets read (cameras rarely declare it).
    public var bitrate: Int
    /// Seconds of stream time the bitrate was measured over.
    public var measuredSeconds: Double
    public var hasAudio: Bool
    /// libav's name of the first audio stream's codec, if any (e.g. `aac`, `pcm_alaw`).
    public var audioCodec: String?

    public init(codec: String, width: Int, height: Int, framesPerSecond: Double, bitrate: Int,
                measuredSeconds: Double, hasAudio: Bool, audioCodec: String?) {
        self.codec = codec
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.bitrate = bitrate
        self.measuredSeconds = measuredSeconds
        self.hasAudio = hasAudio
        self.audioCodec = audioCodec
    }

    /// One machine-readable line: `codec=h264 width=1280 height=720 fps=25.00 bitrate=2000000 audio=none`.
    public var summary: String {
        "codec=\(codec) width=\(width) height=\(height) fps=\(String(format: "%.2f", framesPerSecond)) "
            + "bitrate=\(bitrate) audio=\(audioCodec ?? "none")"
    }
}
