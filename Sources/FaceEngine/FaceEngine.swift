import CFaceEngine
import Dispatch
import Foundation
import Synchronization

/// A face found in a picture, in the picture's pixels.
public struct FaceBox: Codable, Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double
    public var score: Double
}

/// Quality of the subject's face; any flag set makes the picture unusable for enrolment.
public enum QualityFlag: String, Codable, Sendable, CaseIterable {
    case noFace, severalFaces, tooSmall, tooDark, tooBright, blurred
}

/// Milliseconds spent in each step of one analysis.
public struct FaceTimings: Codable, Sendable {
    public var decode: Double
    public var detect: Double
    public var align: Double
    public var embed: Double
    public var total: Double { decode + detect + align + embed }
}

/// What the engine saw in one picture.
public struct FaceAnalysis: Sendable {
    public var imageWidth: Int
    public var imageHeight: Int
    /// Every face the detector kept, the subject first (the largest, favouring faces near the centre).
    public var faces: [FaceBox]
    public var brightness: Double
    public var sharpness: Double
    /// The subject's embedding (L2-normalised); nil when no face was found.
    public var embedding: [Float]?
    public var flags: [QualityFlag]
    /// Faces big enough to make the picture ambiguous (the subject, and others near its size).
    public var prominentFaceCount = 0
    public var timings: FaceTimings

    /// The faces that make the picture ambiguous: the subject, and any other whole face (not cut by the picture's
    /// edge) at least `ratio` of its width. People cut off at the edge of a press photo are not counted.
    func prominentFaces(ratio: Double) -> Int {
        guard let subject = faces.first else { return 0 }
        let others = faces.dropFirst().filter {
            $0.width >= subject.width * ratio && $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= Double(imageWidth)
                && $0.y + $0.height <= Double(imageHeight)
        }
        return 1 + others.count
    }

    /// The first quality problem as an error, in the order a person should fix them.
    public var problem: FaceError? {
        if flags.contains(.noFace) { return .noFace }
        if flags.contains(.severalFaces) { return .severalFaces(prominentFaceCount) }
        if flags.contains(.tooSmall), let face = faces.first { return .faceTooSmall(side: Int(face.width), minimum: 0) }
        if flags.contains(.tooDark) { return .tooDark }
        if flags.contains(.tooBright) { return .tooBright }
        if flags.contains(.blurred) { return .tooBlurred }
        return nil
    }
}

/// A face template: the embedding of an enrolled photo and the model it came from.
public struct FaceTemplate: Codable, Sendable, Equatable {
    public var model: String
    public var embedding: [Float]

    public init(model: String, embedding: [Float]) {
        self.model = model
        self.embedding = embedding
    }

    /// Little-endian float32 values, for storage.
    public var bytes: Data {
        var data = Data(capacity: embedding.count * 4)
        for value in embedding { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    public init?(model: String, bytes: Data) {
        guard bytes.count % 4 == 0, !bytes.isEmpty else { return nil }
        let raw = [UInt8](bytes)
        embedding = stride(from: 0, to: raw.count, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        }
        self.model = model
    }
}

/// The outcome of comparing a live picture with a template.
public struct FaceVerification: Codable, Sendable {
    /// Cosine similarity, −1…1; nil when the picture held no usable face.
    public var similarity: Double?
    public var threshold: Double
    /// `match`, `mismatch`, or `unusable` (no face, several faces, too dark …: see `problem`).
    public var decision: String
    public var face: FaceBox?
    public var faceCount: Int
    public var flags: [QualityFlag]
    /// The code of the picture's problem when the decision is `unusable`.
    public var problem: String?
    public var imageWidth: Int
    public var imageHeight: Int
    public var milliseconds: Double
}

/// Cosine similarity of two L2-normalised embeddings.
public func faceSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count, !a.isEmpty else { return -1 }
    var sum: Float = 0
    for i in a.indices { sum += a[i] * b[i] }
    return Double(sum)
}

/// OpenCV face detection and embedding, with a few engines side by side. Work runs on the engines' own threads,
/// never on Swift's cooperative pool.
public final class FaceEngine: Sendable {
    public let configuration: FaceConfiguration
    /// Names the model in stored templates, so templates from another model are never compared.
    public let modelName: String
    private let engines: [EngineSlot]
    private let free: Mutex<(idle: [Int], waiting: [CheckedContinuation<Int, Never>])>

    final class EngineSlot: @unchecked Sendable {
        // Used by one thread at a time: a slot is handed out by `free` and its work runs on `queue`.
        let pointer: OpaquePointer
        let queue: DispatchQueue
        init(pointer: OpaquePointer, index: Int) {
            self.pointer = pointer
            queue = DispatchQueue(label: "kaodian.face.\(index)")
        }
        deinit { kd_face_engine_destroy(pointer) }
    }

    /// Loads the models named by the configuration from `modelsFolder`.
    public init(modelsFolder: URL, configuration given: FaceConfiguration? = nil) throws(FaceError) {
        let configuration: FaceConfiguration
        if let given {
            configuration = given
        } else {
            do {
                configuration = try FaceConfiguration.load(modelsFolder: modelsFolder)
            } catch let error as FaceError {
                throw error
            } catch {
                throw .configuration("\(error)")
            }
        }
        let detector = configuration.path(configuration.detector, in: modelsFolder)
        let embedder = configuration.path(configuration.embedder, in: modelsFolder)
        for file in [detector, embedder] where !FileManager.default.fileExists(atPath: file) {
            throw .modelUnavailable("model file missing: \(file) (scripts/install-face-models.sh installs them)")
        }
        var slots: [EngineSlot] = []
        for index in 0..<configuration.engines {
            var message = [CChar](repeating: 0, count: 512)
            let kind: Int32 = configuration.embedderKind == .sface ? Int32(KD_EMBEDDER_SFACE) : Int32(KD_EMBEDDER_FACENET)
            guard
                let pointer = kd_face_engine_create(
                    detector, embedder, kind, configuration.detectionScore, Int32(configuration.detectionMaxSide),
                    configuration.embedFlipped ? 1 : 0, &message, message.count)
            else {
                throw .modelUnavailable(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            slots.append(EngineSlot(pointer: pointer, index: index))
        }
        self.configuration = configuration
        engines = slots
        free = Mutex((idle: Array(slots.indices), waiting: []))
        let embedderName = URL(fileURLWithPath: embedder).lastPathComponent
        modelName = "\(configuration.embedderKind.rawValue):\(embedderName)\(configuration.embedFlipped ? "+flip" : "")"
    }

    /// Sets OpenCV's threads per call (0: OpenCV's choice).
    public static func setThreads(_ threads: Int) { kd_face_set_threads(Int32(threads)) }

    private func acquire() async -> Int {
        await withCheckedContinuation { continuation in
            let index: Int? = free.withLock { state in
                if let index = state.idle.popLast() { return index }
                state.waiting.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = free.withLock { state in
            if state.waiting.isEmpty {
                state.idle.append(index)
                return nil
            }
            return state.waiting.removeFirst()
        }
        waiter?.resume(returning: index)
    }

    /// Decodes the picture, finds faces and embeds the subject's. Throws only for input that is not a usable image
    /// and for engine trouble; face quality problems come back as flags.
    public func analyse(_ image: Data) async throws(FaceError) -> FaceAnalysis {
        try ImageCheck.validate(image, maxBytes: configuration.maxBytes, maxPixels: configuration.maxPixels)
        let index = await acquire()
        defer { release(index) }
        let slot = engines[index]
        let result: Result<FaceAnalysis, FaceError> = await withCheckedContinuation { continuation in
            slot.queue.async {
                continuation.resume(returning: Self.run(slot.pointer, image, self.configuration))
            }
        }
        return try result.get()
    }

    private static func run(_ engine: OpaquePointer, _ image: Data, _ configuration: FaceConfiguration) -> Result<FaceAnalysis, FaceError> {
        var out = kd_face_analysis()
        var message = [CChar](repeating: 0, count: 512)
        let status = image.withUnsafeBytes { raw in
            kd_face_analyse(engine, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &out, &message, message.count)
        }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(KD_FACE_OK): break
        case Int(KD_FACE_ERROR_NOT_IMAGE): return .failure(.notAnImage)
        case Int(KD_FACE_ERROR_ARGUMENT): return .failure(.emptyImage)
        default: return .failure(.engine(text))
        }
        var faces: [FaceBox] = []
        withUnsafeBytes(of: out.faces) { raw in
            let boxes = raw.bindMemory(to: kd_face_box.self)
            for i in 0..<Int(out.face_count) {
                let b = boxes[i]
                faces.append(FaceBox(x: Double(b.x), y: Double(b.y), width: Double(b.width), height: Double(b.height), score: Double(b.score)))
            }
        }
        var embedding: [Float]?
        if out.embedding_length > 0 {
            embedding = withUnsafeBytes(of: out.embedding) { raw in Array(raw.bindMemory(to: Float.self).prefix(Int(out.embedding_length))) }
        }
        var analysis = FaceAnalysis(
            imageWidth: Int(out.image_width), imageHeight: Int(out.image_height), faces: faces,
            brightness: Double(out.brightness), sharpness: Double(out.sharpness), embedding: embedding, flags: [],
            timings: FaceTimings(decode: Double(out.decode_ms), detect: Double(out.detect_ms), align: Double(out.align_ms), embed: Double(out.embed_ms)))
        analysis.flags = flags(analysis, configuration)
        analysis.prominentFaceCount = analysis.prominentFaces(ratio: configuration.secondFaceRatio)
        return .success(analysis)
    }

    static func flags(_ analysis: FaceAnalysis, _ configuration: FaceConfiguration) -> [QualityFlag] {
        guard let face = analysis.faces.first else { return [.noFace] }
        var flags: [QualityFlag] = []
        if analysis.prominentFaces(ratio: configuration.secondFaceRatio) > 1 { flags.append(.severalFaces) }
        if min(face.width, face.height) < configuration.minFaceSide { flags.append(.tooSmall) }
        if analysis.brightness < configuration.minBrightness { flags.append(.tooDark) }
        if analysis.brightness > configuration.maxBrightness { flags.append(.tooBright) }
        if analysis.sharpness < configuration.minSharpness { flags.append(.blurred) }
        return flags
    }

    /// A template from an enrolment photo: exactly one clear face, or the reason there is none.
    public func enrol(_ photo: Data) async throws(FaceError) -> FaceTemplate {
        let analysis = try await analyse(photo)
        if var problem = analysis.problem {
            if case .faceTooSmall(let side, _) = problem { problem = .faceTooSmall(side: side, minimum: Int(configuration.minFaceSide)) }
            throw problem
        }
        guard let embedding = analysis.embedding else { throw .noFace }
        return FaceTemplate(model: modelName, embedding: embedding)
    }

    /// Compares a live picture with a template. A picture with no face, several faces, or a face too small, dark or
    /// blurred to judge is `unusable`; a template from another model is refused.
    public func verify(_ image: Data, against template: FaceTemplate) async throws(FaceError) -> FaceVerification {
        guard template.model == modelName else {
            throw .configuration("the template was made with \(template.model), the engine runs \(modelName): enrol again")
        }
        let started = ContinuousClock.now
        let analysis = try await analyse(image)
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var verification = FaceVerification(
            similarity: nil, threshold: configuration.threshold, decision: "unusable", face: analysis.faces.first,
            faceCount: analysis.faces.count, flags: analysis.flags, problem: nil, imageWidth: analysis.imageWidth,
            imageHeight: analysis.imageHeight, milliseconds: milliseconds)
        // Small, dark or blurred faces are still compared (the flags say why a score may be low); no face or
        // several faces cannot be.
        if analysis.flags.contains(.noFace) || analysis.flags.contains(.severalFaces) {
            verification.problem = analysis.problem?.code
            return verification
        }
        guard let embedding = analysis.embedding else {
            verification.problem = FaceError.noFace.code
            return verification
        }
        let similarity = faceSimilarity(embedding, template.embedding)
        verification.similarity = similarity
        verification.decision = similarity >= configuration.threshold ? "match" : "mismatch"
        return verification
    }
}
