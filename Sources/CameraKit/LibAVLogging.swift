import CLibAV
import Logging
import Foundation
import Synchronization

/// Sends libav's own log lines (normally printed to stderr) to a swift-log `Logger`, with any credentials inside
/// URLs masked. libav's log callback is process-wide, so this is too; call `route(to:)` once at start-up.
public enum LibAVLogging {
    private static let sink = Mutex<Logger?>(nil)

    /// From now on libav's messages at `level` and above go to `logger` (errors as `.error`, warnings as `.warning`,
    /// the rest as `.debug`).
    public static func route(to logger: Logger, level: Int32 = AV_LOG_WARNING) {
        sink.withLock { $0 = logger }
        av_log_set_level(level)
        av_log_set_callback { avClass, level, format, arguments in
            guard level <= av_log_get_level(), let arguments else { return }
            var line = [CChar](repeating: 0, count: 1024)
            var printPrefix: Int32 = 1
            av_log_format_line2(avClass, level, format, arguments, &line, Int32(line.count), &printPrefix)
            let text = maskCredentials(in: String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                                  as: UTF8.self))
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, let logger = LibAVLogging.sink.withLock({ $0 }) else { return }
            let swiftLevel: Logger.Level = level <= AV_LOG_ERROR ? .error : level <= AV_LOG_WARNING ? .warning : .debug
            logger.log(level: swiftLevel, "libav: \(text)")
        }
    }
}

/// `text` with the password of every `scheme://user:password@host` in it replaced by `***`.
public func maskCredentials(in text: String) -> String {
    var result = ""
    var rest = Substring(text)
    while let scheme = rest.range(of: "://") {
        result += rest[..<scheme.upperBound]
        rest = rest[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " || $0 == "\n" })
            ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            result += authority[..<colon]
            result += ":***"
            result += authority[at...]
            rest = rest[authorityEnd...]
        }
    }
    return result + rest
}
