import ArgumentParser
import DemoContent
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

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
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let begin = ContinuousClock.now
        let steadyAt = begin + .seconds(ramp)
        let endAt = steadyAt + .seconds(duration)
        let interval = self.interval
        let connection = HTTPConnection(host: host, port: port)
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

        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<candidates {
                let loginAt = begin + .seconds(ramp * Double(index) / Double(max(candidates, 1)))
                tasks.addTask {
                    try? await Task.sleep(until: loginAt)
                    do {
                        try await connection.with(group: group) { send in
                            try await Terminal(index: index, metrics: metrics, interval: interval)
                                .run(send: send, until: endAt, submit: submit)
                        }
                    } catch {
                        metrics.error("connection: \(type(of: error))")
                    }
                }
            }
        }
        metrics.stopRecording()
        let endSample = serverPid.flatMap(ProcessSample.read)
        let ownEnd = ProcessSample.read(pid: getpid())
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

/// One simulated candidate terminal.
struct Terminal {
    let index: Int
    let metrics: Metrics
    let interval: Double

    struct Item: Decodable {
        var id: String
        var type: String
        var options: [Option]?
        var blankCount: Int?
        var subQuestions: [Item]?
        struct Option: Decodable { var id: String }
    }
    struct Paper: Decodable {
        struct Inner: Decodable {
            struct Section: Decodable { var items: [Item] }
            var sections: [Section]
        }
        var paper: Inner
    }

    func run(
        send: (HTTPMethod, String, [(String, String)], ByteBuffer?) async throws -> HTTPConnection.Answer,
        until end: ContinuousClock.Instant, submit: Bool
    ) async throws {
        let credentials = DemoPackage.candidateCredentials(index)
        let login = try JSONSerialization.data(withJSONObject: [
            "admissionNumber": credentials.admissionNumber, "idNumber": credentials.idNumber, "terminalId": "load-\(index)",
        ])
        let answer = try await send(.POST, "/api/candidate/login", [], ByteBuffer(bytes: login))
        guard answer.status == .ok, let object = try JSONSerialization.jsonObject(with: Data(answer.body.readableBytesView)) as? [String: Any],
            let token = object["token"] as? String
        else {
            metrics.error("login \(answer.status.code)")
            return
        }
        let auth = [("Authorization", "Bearer \(token)")]
        metrics.loggedIn()
        let paperAnswer = try await send(.GET, "/api/attempt/paper", auth, nil)
        guard paperAnswer.status == .ok else {
            metrics.error("paper \(paperAnswer.status.code)")
            return
        }
        let paper = try JSONDecoder().decode(Paper.self, from: Data(paperAnswer.body.readableBytesView))
        let items = paper.paper.sections.flatMap(\.items).flatMap { $0.subQuestions ?? [$0] }
            .filter { ["singleChoice", "multipleChoice", "trueFalse", "fillBlank", "shortAnswer", "essay"].contains($0.type) }
        var seq: Int64 = 0
        // Spread the first save over one interval so candidates do not save in lockstep.
        var next = ContinuousClock.now + .seconds(Double.random(in: 0..<interval))
        var heartbeatDue = next + .seconds(interval / 2)
        while next < end {
            try await Task.sleep(until: min(next, heartbeatDue))
            if heartbeatDue <= next {
                let started = ContinuousClock.now
                let beat = try await send(.POST, "/api/attempt/heartbeat", auth, nil)
                if beat.status == .ok { metrics.heartbeat(milliseconds(since: started)) } else { metrics.error("heartbeat \(beat.status.code)") }
                heartbeatDue += .seconds(interval)
                continue
            }
            seq += 1
            let item = items[Int.random(in: 0..<items.count)]
            let change: [String: Any] = [
                "changeId": "L\(index)-\(seq)", "questionId": item.id, "kind": "answer", "clientSeq": seq,
                "clientTime": Int64(Date().timeIntervalSince1970 * 1000), "response": response(for: item, seq: seq),
            ]
            let body = try JSONSerialization.data(withJSONObject: ["changes": [change]])
            let started = ContinuousClock.now
            let saved = try await send(.POST, "/api/attempt/answers", auth, ByteBuffer(bytes: body))
            if saved.status == .ok { metrics.autosave(milliseconds(since: started)) } else { metrics.error("autosave \(saved.status.code)") }
            // 10 s with ±20 % jitter.
            next += .seconds(interval * Double.random(in: 0.8...1.2))
        }
        if submit {
            let done = try await send(.POST, "/api/attempt/submit", auth, ByteBuffer(bytes: Data(#"{"confirm":true}"#.utf8)))
            if done.status == .ok { metrics.submitted() } else { metrics.error("submit \(done.status.code)") }
        }
    }

    func response(for item: Item, seq: Int64) -> [String: Any] {
        switch item.type {
        case "singleChoice": ["choice": item.options?.randomElement()?.id ?? "a"]
        case "multipleChoice": ["choices": Array((item.options ?? []).shuffled().prefix(2).map(\.id))]
        case "trueFalse": ["value": Bool.random()]
        case "fillBlank": ["blanks": (0..<(item.blankCount ?? 1)).map { "答案\($0)-\(seq)" }]
        default: ["text": "考生\(index)第\(seq)次保存：" + String(repeating: "电气安全操作规程。", count: Int.random(in: 1...40))]
        }
    }
}

func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
