import CLibAV
import Foundation

extension CameraError {
    /// What a libav error code means for a camera. The interrupt tells a passed deadline (`timeout`) and a
    /// cancellation apart from what libav itself reports; libav's own text is kept only with its password removed.
    static func fromLibAV(_ code: Int32, interrupt: InterruptDeadline, url: CameraURL?) -> CameraError {
        if interrupt.isCancelled { return .failed("cancelled") }
        if interrupt.hasExpired { return .timeout }
        switch code {
        case clibav_error_posix(clibav_errno_connection_refused()): return .refused
        case clibav_error_posix(clibav_errno_timed_out()),
            clibav_error_posix(clibav_errno_host_unreachable()),
            clibav_error_posix(clibav_errno_network_unreachable()):
            return .timeout
        case clibav_error_http_unauthorized(), clibav_error_http_forbidden(): return .unauthorised
        case clibav_error_http_not_found(): return .notFound
        case clibav_error_stream_not_found(): return .noVideo
        default:
            let message = maskCredentials(in: libavErrorText(code))
            return .failed(url.map { $0.redacting(message) } ?? message)
        }
    }
}

/// libav's description of an error code.
func libavErrorText(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: Int(clibav_error_max_string_size()))
    av_strerror(code, &text, text.count)
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Whether the camera's host name resolves (libav reports a name that does not only as a generic I/O error).
func hostResolves(_ host: String) -> Bool {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, nil, &hints, &list)
    if let list { freeaddrinfo(list) }
    return status == 0
}
