import ArgumentParser
import FaceEngine
import Foundation

struct FaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "face",
        abstract: "Face engine: accuracy on labelled pairs, and speed of one verification.",
        subcommands: [FaceEval.self, FaceBench.self, FaceInspect.self])
}

struct FaceModelOptions: ParsableArguments {
    @Option(help: "Folder with the face models and an optional face.json (default: $KAODIAN_FACE_MODELS or ./models).")
    var models: String?

    func engine(threshold: Double? = nil, engines: Int? = nil) throws -> FaceEngine {
        let folder = URL(fileURLWithPath: models ?? ProcessInfo.processInfo.environment["KAODIAN_FACE_MODELS"] ?? "models")
        var configuration = try FaceConfiguration.load(modelsFolder: folder)
        if let threshold { configuration.threshold = threshold }
        if let engines { configuration.engines = engines }
        do {
            return try FaceEngine(modelsFolder: folder, configuration: configuration)
        } catch {
            throw ValidationError(error.messageEn)
        }
    }
}

/// Scores of genuine and impostor pairs, and the error rates that follow from them.
struct PairScores {
    var genuine: [Double]
    var impostor: [Double]

    func far(at threshold: Double) -> Double {
        impostor.isEmpty ? 0 : Double(impostor.filter { $0 >= threshold }.count) / Double(impostor.count)
    }
    func frr(at threshold: Double) -> Double {
        genuine.isEmpty ? 0 : Double(genuine.filter { $0 < threshold }.count) / Double(genuine.count)
    }

    /// The threshold where FAR and FRR cross, and the rate there.
    func equalErrorRate() -> (rate: Double, threshold: Double) {
        let candidates = Set(genuine + impostor).sorted()
        var best = (rate: 1.0, threshold: 0.0, gap: Double.infinity)
        for t in candidates {
            let a = far(at: t)
            let r = frr(at: t)
            if abs(a - r) < best.gap { best = ((a + r) / 2, t, abs(a - r)) }
        }
        return (best.rate, best.threshold)
    }

    /// The lowest threshold whose FAR does not exceed `target`.
    func threshold(forFAR target: Double) -> Double {
        let sorted = impostor.sorted(by: >)
        let allowed = Int((Double(sorted.count) * target).rounded(.down))
        guard allowed < sorted.count else { return -1 }
        return sorted[allowed].nextUp
    }
}

struct FaceEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Genuine and impostor score distributions, EER, FAR and FRR on a pairs file.",
        discussion: """
            The pairs file has a header line and tab-separated lines `same image_a image_b` (1 = same person), paths \
            relative to --images. A picture in which no usable face is found counts as a non-match: a false reject in \
            a genuine pair. The last line reads `EER=…% FAR=…% FRR=…% threshold=…`, FAR and FRR at the threshold used.
            """)

    @OptionGroup var model: FaceModelOptions
    @Option(help: "Pairs file (e.g. ../shared/face/lfw-dev-pairs.tsv).") var pairs: String
    @Option(help: "Folder the image paths are relative to.") var images: String
    @Option(help: "Threshold to report FAR and FRR at (default: the configured one).") var threshold: Double?

    func run() async throws {
        let engine = try model.engine(threshold: threshold)
        let text = try String(contentsOfFile: pairs, encoding: .utf8)
        var list: [(Bool, String, String)] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: "\t").map(String.init)
            if number == 0 && fields.first == "same" { continue }
            guard fields.count == 3, let same = Int(fields[0]), same == 0 || same == 1 else {
                throw ValidationError("\(pairs) line \(number + 1): expected `same<TAB>image_a<TAB>image_b`")
            }
            list.append((same == 1, fields[1], fields[2]))
        }
        let names = Array(Set(list.flatMap { [$0.1, $0.2] })).sorted()
        print("model: \(engine.modelName)  threshold: \(engine.configuration.threshold)  pairs: \(list.count)  images: \(names.count)")
        let folder = URL(fileURLWithPath: images)
        var embeddings: [String: [Float]] = [:]
        var unusable: [String: String] = [:]
        var embedTimes: [Double] = []
        var engineFailure: FaceError?
        let started = Date()
        try await withThrowingTaskGroup(of: (String, Result<FaceAnalysis, FaceError>).self) { group in
            var next = 0
            func add() throws {
                guard next < names.count else { return }
                let name = names[next]
                next += 1
                let data = try Data(contentsOf: folder.appendingPathComponent(name))
                group.addTask {
                    do { return (name, .success(try await engine.analyse(data))) } catch let error as FaceError { return (name, .failure(error)) }
                }
            }
            for _ in 0..<(engine.configuration.engines * 2) { try add() }
            while let (name, result) = try await group.next() {
                switch result {
                case .success(let analysis):
                    if let embedding = analysis.embedding, !analysis.flags.contains(.noFace) {
                        embeddings[name] = embedding
                        embedTimes.append(analysis.timings.total)
                    } else {
                        unusable[name] = FaceError.noFace.code
                    }
                case .failure(let error):
                    unusable[name] = error.code
                    if !error.isPictureProblem { engineFailure = engineFailure ?? error }
                }
                try add()
            }
        }
        print(String(format: "embedded %d images in %.1f s (%.0f ms each on average); no usable face in %d",
                     embeddings.count, Date().timeIntervalSince(started), embedTimes.reduce(0, +) / Double(max(1, embedTimes.count)),
                     unusable.count))
        for (name, code) in unusable.sorted(by: { $0.key < $1.key }).prefix(20) { print("  \(code): \(name)") }
        if let engineFailure {
            throw ValidationError("the face engine failed: \(engineFailure.messageEn)")
        }

        var scores = PairScores(genuine: [], impostor: [])
        for (same, a, b) in list {
            let score: Double = if let x = embeddings[a], let y = embeddings[b] { faceSimilarity(x, y) } else { -1 }
            if same { scores.genuine.append(score) } else { scores.impostor.append(score) }
        }
        print("")
        print("score distribution (cosine similarity)   genuine   impostor")
        var edge = -0.2
        while edge < 1.0 - 1e-9 {
            let upper = edge + 0.1
            let low = edge
            let inBin = { (s: Double) in (low <= -0.2 + 1e-9 ? s < upper : s >= low && s < upper) }
            let g = scores.genuine.filter(inBin).count
            let i = scores.impostor.filter(inBin).count
            print(String(format: "  %@ %5.2f … %5.2f   %7d   %8d", low <= -0.2 + 1e-9 ? "≤" : " ", low, upper, g, i))
            edge = upper
        }
        func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return "none" }
            let mean = sorted.reduce(0, +) / Double(sorted.count)
            let sd = (sorted.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(sorted.count)).squareRoot()
            func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
            return String(format: "n=%d mean=%.3f sd=%.3f min=%.3f p5=%.3f median=%.3f p95=%.3f max=%.3f",
                          sorted.count, mean, sd, sorted[0], q(0.05), q(0.5), q(0.95), sorted[sorted.count - 1])
        }
        print("genuine:  \(summary(scores.genuine))")
        print("impostor: \(summary(scores.impostor))")
        let eer = scores.equalErrorRate()
        print(String(format: "equal error rate %.2f%% at threshold %.3f", eer.rate * 100, eer.threshold))
        for target in [0.01, 0.001] {
            let t = scores.threshold(forFAR: target)
            print(String(format: "at FAR ≤ %.1f%%: threshold %.3f, FAR %.2f%%, FRR %.2f%%", target * 100, t,
                         scores.far(at: t) * 100, scores.frr(at: t) * 100))
        }
        print("FAR and FRR by threshold:")
        for step in 0...10 {
            let t = 0.40 + Double(step) * 0.02
            print(String(format: "  %.2f   FAR %5.2f%%   FRR %5.2f%%", t, scores.far(at: t) * 100, scores.frr(at: t) * 100))
        }
        let used = engine.configuration.threshold
        print(String(format: "EER=%.2f%% FAR=%.2f%% FRR=%.2f%% threshold=%.3f", eer.rate * 100, scores.far(at: used) * 100,
                     scores.frr(at: used) * 100, used))
    }
}

struct FaceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Latency of one verification (detect, align, embed, compare) on a picture, alone and under concurrency.",
        discussion: "The picture is scaled to 640×480 unless --keep-size is given. Prints p50 and p95 per concurrency level.")

    @OptionGroup var model: FaceModelOptions
    @Option(help: "Picture to verify (JPEG or PNG).") var image: String
    @Option(help: "Verifications per concurrency level.") var count = 60
    @Option(help: "Concurrency levels, comma-separated.") var concurrency = "1,8"
    @Option(help: "OpenCV threads per verification (0: OpenCV's choice).") var threads = 0
    @Option(help: "Engines side by side (default: face.json, else 2).") var engines: Int?

    func run() async throws {
        FaceEngine.setThreads(threads)
        let engine = try model.engine(engines: engines)
        let picture = try Data(contentsOf: URL(fileURLWithPath: image))
        let template = try await engine.enrol(picture)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("model: \(engine.modelName)  engines: \(engine.configuration.engines)  cores: \(cores)  OpenCV threads: \(threads == 0 ? "default" : String(threads))")
        let first = try await engine.analyse(picture)
        print("picture: \(first.imageWidth)×\(first.imageHeight), \(picture.count / 1024) KB")
        for _ in 0..<3 { _ = try await engine.verify(picture, against: template) }  // warm up
        for level in concurrency.split(separator: ",").compactMap({ Int($0) }) where level > 0 {
            var times: [Double] = []
            var steps: [FaceTimings] = []
            let started = Date()
            try await withThrowingTaskGroup(of: (Double, FaceTimings).self) { group in
                var issued = 0
                func add() {
                    guard issued < count else { return }
                    issued += 1
                    group.addTask {
                        let clock = ContinuousClock.now
                        let analysis = try await engine.analyse(picture)
                        _ = faceSimilarity(analysis.embedding ?? [], template.embedding)
                        let d = ContinuousClock.now - clock
                        return (Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15, analysis.timings)
                    }
                }
                for _ in 0..<level { add() }
                while let (ms, timing) = try await group.next() {
                    times.append(ms)
                    steps.append(timing)
                    add()
                }
            }
            let wall = Date().timeIntervalSince(started)
            times.sort()
            func q(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count - 1) * p))] }
            func mean(_ f: (FaceTimings) -> Double) -> Double { steps.map(f).reduce(0, +) / Double(steps.count) }
            print(String(format: "concurrency %2d: p50 %.1f ms  p95 %.1f ms  max %.1f ms  throughput %.1f/s  | mean decode %.1f  detect %.1f  align %.1f  embed %.1f ms",
                         level, q(0.5), q(0.95), times.last ?? 0, Double(times.count) / wall, mean(\.decode), mean(\.detect),
                         mean(\.align), mean(\.embed)))
        }
    }
}

struct FaceInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "What the engine sees in photos: faces, their boxes and scores, quality, and whether each can be enrolled.")

    @OptionGroup var model: FaceModelOptions
    @Argument(help: "Photos (JPEG or PNG).") var photos: [String]

    func run() async throws {
        let engine = try model.engine()
        for path in photos {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                print("\(path): cannot be read")
                continue
            }
            do {
                let analysis = try await engine.analyse(data)
                let largest = analysis.faces.first?.width ?? 1
                let faces = analysis.faces.map {
                    String(format: "[%.0f,%.0f %.0f×%.0f score %.2f size %.2f]", $0.x, $0.y, $0.width, $0.height, $0.score, $0.width / largest)
                }.joined(separator: " ")
                let verdict = analysis.problem.map { "not usable: \($0.code)" } ?? "usable"
                print(String(format: "%@: %d×%d, %d face(s) %@, brightness %.0f, sharpness %.0f — %@", path, analysis.imageWidth,
                             analysis.imageHeight, analysis.faces.count, faces, analysis.brightness, analysis.sharpness, verdict))
            } catch {
                print("\(path): \(error.code) — \(error.messageEn)")
            }
        }
    }
}
