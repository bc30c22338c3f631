/// Why a camera could not be used, with a stable code for APIs and logs and a message in Chinese and English.
///
/// No case carries the camera's URL or credentials; `failed` carries libav's own text with any password removed.
public enum CameraError: Error, Sendable, Equatable {
    /// Not an `rtsp://` or `rtsps://` URL, or one that cannot be parsed; the reason is for people, in English.
    case badURL(reason: String)
    /// Nothing listens at that address and port (connection refused).
    case refused
    /// The camera asked for credentials and rejected the ones given (RTSP 401 or 403).
    case unauthorised
    /// No answer, or the stream stopped, within the time allowed.
    case timeout
    /// The host name does not resolve, or the camera has no stream at that path (RTSP 404).
    case notFound
    /// The video is in a codec we cannot record by stream copy (only H.264 and H.265 are recorded).
    case unsupportedCodec(String)
    /// The stream has no video.
    case noVideo
    /// Anything else, with libav's description of the error.
    case failed(String)
    /// A recording file that cannot be used: an upload that is not a playable video (`upload_…`), a range that
    /// cannot be exported (`recording_…`). `code` is stable; the messages say why, in both languages.
    case recordingFile(code: String, en: String, zh: String)

    /// Stable machine-readable code, e.g. `camera_unauthorised`.
    public var code: String {
        switch self {
        case .badURL: "camera_bad_url"
        case .refused: "camera_refused"
        case .unauthorised: "camera_unauthorised"
        case .timeout: "camera_timeout"
        case .notFound: "camera_not_found"
        case .unsupportedCodec: "camera_unsupported_codec"
        case .noVideo: "camera_no_video"
        case .failed: "camera_failed"
        case .recordingFile(let code, _, _): code
        }
    }

    public var messageEn: String {
        switch self {
        case .badURL(let reason):
            "The camera address is not a valid rtsp:// or rtsps:// URL (\(reason))."
        case .refused:
            "The camera refused the connection: nothing listens at that address and port. Check the IP address, the RTSP port and that the camera is powered on."
        case .unauthorised:
            "The camera rejected the user name or password (401 Unauthorized)."
        case .timeout:
            "The camera did not answer, or stopped sending video, within the time allowed."
        case .notFound:
            "No such camera or stream: the host name is unknown or the stream path does not exist on the camera (404)."
        case .unsupportedCodec(let codec):
            "The camera sends \(codec) video; only H.264 and H.265 can be recorded. Switch the camera's main stream to H.264 or H.265."
        case .noVideo:
            "The stream has no video."
        case .failed(let detail):
            "The camera stream could not be opened: \(detail)."
        case .recordingFile(_, let en, _):
            en
        }
    }

    public var messageZh: String {
        switch self {
        case .badURL(let reason):
            "摄像机地址不是有效的 rtsp:// 或 rtsps:// 地址（\(reason)）。"
        case .refused:
            "摄像机拒绝连接：该地址和端口上没有服务。请检查 IP 地址、RTSP 端口以及摄像机是否通电。"
        case .unauthorised:
            "摄像机拒绝了用户名或密码（401 未授权）。"
        case .timeout:
            "摄像机在规定时间内没有应答，或已停止发送视频。"
        case .notFound:
            "找不到该摄像机或码流：主机名无法解析，或摄像机上没有这个码流路径（404）。"
        case .unsupportedCodec(let codec):
            "摄像机发送的是 \(codec) 视频，只能录制 H.264 和 H.265。请把摄像机主码流改为 H.264 或 H.265。"
        case .noVideo:
            "该码流中没有视频。"
        case .failed(let detail):
            "无法打开摄像机码流：\(detail)。"
        case .recordingFile(_, _, let zh):
            zh
        }
    }
}

extension CameraError: CustomStringConvertible {
    /// `code: English message / 中文消息`.
    public var description: String { "\(code): \(messageEn) / \(messageZh)" }
}
