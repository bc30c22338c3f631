import CLibAV
import Foundation

/// Where blocking libav work runs: a thread of its own, never Swift's cooperative pool (opening a camera waits on the
/// network for seconds, a recorder reads for hours, an uploaded file takes seconds to check and cut).
public enum LibAVThread {
    /// Runs `work` on a new thread named `name` (as top, perf and /proc show it, 15 characters at most) and returns
    /// its result.
    public static func run<T: Sendable>(named name: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread {
                // Named from inside: a name set on the Thread object before it starts does not reach the kernel.
                clibav_name_current_thread(name)
                continuation.resume(returning: work())
            }.start()
        }
    }
}
