import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum ChildExit: CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signalled(let signal): "signal \(signal)"
        }
    }
}

/// Processes started by the benchmark (the ffmpeg command lines). Whoever starts them calls `stopAll`, also on
/// every error path; the children get SIGINT and SIGTERM back at their default action and an empty signal mask,
/// whatever this process has set for itself.
final class ChildProcesses {
    struct Child {
        let pid: pid_t
        var exit: ChildExit?
    }

    private(set) var children: [Child] = []

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    deinit { stopAll(grace: 5) }

    /// Starts `arguments` (the first one found on PATH) with stdin and stdout on /dev/null and stderr into `logFile`.
    /// Returns the index of the child.
    @discardableResult
    func spawn(_ arguments: [String], stderrTo logFile: URL) throws -> Int {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            environment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environment)
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        children.append(Child(pid: pid, exit: nil))
        return children.count - 1
    }

    /// Reaps any child that has ended; returns the indices of those still running.
    @discardableResult
    func reap() -> [Int] {
        var running: [Int] = []
        for index in children.indices where children[index].exit == nil {
            var status: Int32 = 0
            let result = waitpid(children[index].pid, &status, WNOHANG)
            if result == children[index].pid {
                children[index].exit = Self.decode(status)
            } else if result < 0 && errno == ECHILD {
                children[index].exit = .exited(-1)
            } else {
                running.append(index)
            }
        }
        return running
    }

    /// SIGINT to every running child (ffmpeg then writes the end of its file), SIGKILL to any still running after
    /// `grace` seconds; every child is reaped before this returns.
    func stopAll(grace: Double) {
        for index in reap() { kill(children[index].pid, SIGINT) }
        let deadline = monotonicSeconds() + grace
        while !reap().isEmpty && monotonicSeconds() < deadline { usleep(20_000) }
        for index in reap() { kill(children[index].pid, SIGKILL) }
        while !reap().isEmpty { usleep(10_000) }
    }

    private static func decode(_ status: Int32) -> ChildExit {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
