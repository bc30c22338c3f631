import Foundation

/// Which embedding network the engine loads.
public enum EmbedderKind: String, Codable, Sendable, CaseIterable {
    /// FaceNet (Inception-ResNet-v1) as a TensorFlow graph, 160×160 input, 512 values.
    case facenet
    /// OpenCV Zoo's SFace ONNX model through `cv::FaceRecognizerSF`, 128 values.
    case sface
}

/// Model files, decision threshold and quality limits. Read from `face.json` in the models folder, so an operator can
/// supply another model and its threshold without a new build.
public struct FaceConfiguration: Codable, Sendable, Equatable {
    /// YuNet ONNX file, relative to the models folder or absolute.
    public var detector = "face_detection_yunet_2022mar.onnx"
    public var embedder = "facenet_graph_final.pb"
    public var embedderKind = EmbedderKind.facenet
    /// Cosine similarity at or above which two faces are taken to be the same person.
    public var threshold = 0.50
    /// Also embed the mirrored face and average: steadier scores, twice the embedding time.
    public var embedFlipped = false
    /// Detector confidence below which a candidate face is ignored.
    public var detectionScore: Float = 0.8
    /// Pictures are scaled to this longest side for detection (the alignment and embedding use the full picture).
    /// 320 finds the faces of a desk camera and of ID photos, in a quarter of the time 640 takes.
    public var detectionMaxSide = 320
    /// Quality limits of the subject's face.
    public var minFaceSide = 48.0
    public var minBrightness = 40.0
    public var maxBrightness = 230.0
    public var minSharpness = 20.0
    /// A second whole face at least this fraction of the subject's width makes the picture ambiguous (two people side
    /// by side); smaller faces, and faces cut off by the picture's edge, are ignored.
    public var secondFaceRatio = 0.6
    /// Limits on what is decoded at all.
    public var maxBytes = 15 * 1024 * 1024
    public var maxPixels = 24_000_000
    /// Engines loaded side by side (each holds its own copy of the networks).
    public var engines = 2

    public init() {}

    public init(from decoder: any Decoder) throws {
        let defaults = FaceConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        detector = try c.decodeIfPresent(String.self, forKey: .detector) ?? defaults.detector
        embedder = try c.decodeIfPresent(String.self, forKey: .embedder) ?? defaults.embedder
        embedderKind = try c.decodeIfPresent(EmbedderKind.self, forKey: .embedderKind) ?? defaults.embedderKind
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? defaults.threshold
        embedFlipped = try c.decodeIfPresent(Bool.self, forKey: .embedFlipped) ?? defaults.embedFlipped
        detectionScore = try c.decodeIfPresent(Float.self, forKey: .detectionScore) ?? defaults.detectionScore
        detectionMaxSide = try c.decodeIfPresent(Int.self, forKey: .detectionMaxSide) ?? defaults.detectionMaxSide
        minFaceSide = try c.decodeIfPresent(Double.self, forKey: .minFaceSide) ?? defaults.minFaceSide
        minBrightness = try c.decodeIfPresent(Double.self, forKey: .minBrightness) ?? defaults.minBrightness
        maxBrightness = try c.decodeIfPresent(Double.self, forKey: .maxBrightness) ?? defaults.maxBrightness
        minSharpness = try c.decodeIfPresent(Double.self, forKey: .minSharpness) ?? defaults.minSharpness
        secondFaceRatio = try c.decodeIfPresent(Double.self, forKey: .secondFaceRatio) ?? defaults.secondFaceRatio
        maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? defaults.maxBytes
        maxPixels = try c.decodeIfPresent(Int.self, forKey: .maxPixels) ?? defaults.maxPixels
        engines = try c.decodeIfPresent(Int.self, forKey: .engines) ?? defaults.engines
        guard (-1.0...1.0).contains(threshold) else { throw FaceError.configuration("threshold must lie between -1 and 1") }
        guard (1...16).contains(engines) else { throw FaceError.configuration("engines must lie between 1 and 16") }
        guard detectionMaxSide >= 64 else { throw FaceError.configuration("detectionMaxSide must be at least 64") }
    }

    /// Reads `face.json` from the models folder when it is there; defaults otherwise.
    public static func load(modelsFolder: URL) throws -> FaceConfiguration {
        let file = modelsFolder.appendingPathComponent("face.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return FaceConfiguration() }
        do {
            return try JSONDecoder().decode(FaceConfiguration.self, from: Data(contentsOf: file))
        } catch let error as FaceError {
            throw error
        } catch {
            throw FaceError.configuration("\(file.path): \(error)")
        }
    }

    func path(_ name: String, in folder: URL) -> String {
        name.hasPrefix("/") ? name : folder.appendingPathComponent(name).path
    }
}
