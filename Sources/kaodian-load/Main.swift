import ArgumentParser
import DemoContent
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

@main
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaodian-load",
        abstract: "Benchmarks for the venue: simulated candidates against a running venue, and the SQLite commit ceiling.",
        subcommands: [Candidates.self, SQLiteCeiling.self])
}

struct Candidates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate candidates (the demo package's, one connection each): log in, fetch the paper, autosave every "
            + "interval with jitter, heartbeat, submit at the end. Prints latency percentiles, rates, errors, server CPU and RSS.")

    @Option(help: "Venue host.") var host = "127.0.0.1"
    @Option(help: "Venue port.") var port = 8080
    @Option(help: "Number of candidates (the first N of the demo package).") var candidates = 1000
    @Option(help: "Seconds over which logins are spread.") var ramp = 60.0
    @Option(help: "Seconds of steady load after the ramp (measured).") var duration = 120.0
    @Option(help: "Seconds between one candidate's autosaves (and heartbeats).") var interval = 10.0
    @Option(help: "The venue server's process id, to report its CPU and memory.") var serverPid: Int32?
    @Flag(help: "Submit every attempt at the end.") var submit = false

    func run() async throws {
        let metrics = Metrics()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let begin = ContinuousClock.now
        let steadyAt = begin + .seconds(ramp)
        let interval = self.interval
        say("kaodian-load: \(candidates) candidates, ramp \(Int(ramp)) s, measuring \(Int(duration)) s, autosave every \(interval) s")

        let reporter = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                let window = metrics.drainWindow()
                let now = ContinuousClock.now
                let seconds = Double((now - last).components.seconds) + Double((now - last).components.attoseconds) / 1e18
                last = now
                let sorted = window.latencies.sorted()
                say(String(
                    format: "  t=%4.0fs  logged in %5d  autosaves/s %7.1f  p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  errors %d",
                    Double((now - begin).components.seconds), window.loggedIn, Double(sorted.count) / seconds,
                    percentile(sorted, 0.5), percentile(sorted, 0.95), percentile(sorted, 0.99), window.errors))
            }
        }
        let startSample = Task { () -> (server: ProcessSample?, own: ProcessSample?) in
            try? await Task.sleep(until: steadyAt)
            metrics.startRecording()
            return (serverPid.flatMap(ProcessSample.read), ProcessSample.read(pid: getpid()))
        }

        let allDone = Mutex(0)
        let finishedAll = group.next().makePromise(of: Void.self)
        let candidates = self.candidates
        let endDeadline = NIODeadline.now() + .nanoseconds(Int64((ramp + duration) * 1e9))
        let submit = self.submit
        let host = "\(self.host):\(port)"
        let targetHost = self.host
        let finished: @Sendable () -> Void = {
            if allDone.withLock({ $0 += 1; return $0 }) == candidates { finishedAll.succeed(()) }
        }
        for index in 0..<candidates {
            let loginAt = NIODeadline.now() + .nanoseconds(Int64(ramp * 1e9 * Double(index) / Double(max(candidates, 1))))
            let connect: @Sendable () -> EventLoopFuture<any Channel> = {
                ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            TerminalHandler(
                                index: index, host: host, metrics: metrics, interval: .nanoseconds(Int64(interval * 1e9)),
                                end: endDeadline, submit: submit, finished: finished))
                    }
                }
                .connect(host: targetHost, port: port)
            }
            group.next().scheduleTask(deadline: loginAt) {
                connect().whenFailure { error in
                    metrics.error("connect: \(error)")
                    finished()
                }
            }
        }
        let steadyEnd = steadyAt + .seconds(duration)
        let endSamples = Task { () -> (server: ProcessSample?, own: ProcessSample?) in
            try? await Task.sleep(until: steadyEnd)
            metrics.stopRecording()
            return (serverPid.flatMap(ProcessSample.read), ProcessSample.read(pid: getpid()))
        }
        try await finishedAll.futureResult.get()
        let (endSample, ownEnd) = await endSamples.value
        reporter.cancel()
        let (first, ownStart) = await startSample.value
        try await group.shutdownGracefully()

        let state = metrics.snapshot()
        let saves = state.autosaveMs.sorted()
        let beats = state.heartbeatMs.sorted()
        var lines = [
            "",
            "result (steady state, \(Int(duration)) s after a \(Int(ramp)) s ramp):",
            "  concurrent candidates   \(state.loggedIn) logged in of \(candidates); submitted \(state.submitted)",
            String(format: "  autosaves               %d (%.1f/s)", state.autosaves, Double(state.autosaves) / duration),
            String(format: "  autosave latency        p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms",
                   percentile(saves, 0.5), percentile(saves, 0.95), percentile(saves, 0.99), saves.last ?? .nan),
            String(format: "  heartbeat latency       p50 %.1f ms  p99 %.1f ms (%d)", percentile(beats, 0.5), percentile(beats, 0.99), state.heartbeats),
            "  errors                  \(state.errors.isEmpty ? "none" : state.errors.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", "))",
        ]
        if let first, let endSample {
            lines.append(String(format: "  server CPU              %.2f cores (%.1f s of CPU in %.0f s)",
                                (endSample.cpuSeconds - first.cpuSeconds) / duration, endSample.cpuSeconds - first.cpuSeconds, duration))
            lines.append(String(format: "  server memory           RSS %.0f MiB, peak %.0f MiB",
                                Double(endSample.rssKiB) / 1024, Double(endSample.peakRSSKiB) / 1024))
        }
        if let ownStart, let ownEnd {
            lines.append(String(format: "  load generator CPU      %.2f cores (same machine)", (ownEnd.cpuSeconds - ownStart.cpuSeconds) / duration))
        }
        say(lines.joined(separator: "\n"))
    }
}

func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
