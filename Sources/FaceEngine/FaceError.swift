import Foundation

/// Why a picture could not be used, with a stable code and a message in Chinese and English.
public enum FaceError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyImage
    case imageTooLarge(bytes: Int, limit: Int)
    case tooManyPixels(width: Int, height: Int, limit: Int)
    case notAnImage
    case truncatedImage
    case noFace
    case severalFaces(Int)
    case faceTooSmall(side: Int, minimum: Int)
    case tooDark
    case tooBright
    case tooBlurred
    case modelUnavailable(String)
    case configuration(String)
    case engine(String)

    /// A stable code for API bodies and the enrolment problem list.
    public var code: String {
        switch self {
        case .emptyImage: "image_empty"
        case .imageTooLarge: "image_too_large"
        case .tooManyPixels: "image_too_many_pixels"
        case .notAnImage: "image_not_decodable"
        case .truncatedImage: "image_truncated"
        case .noFace: "face_not_found"
        case .severalFaces: "face_several"
        case .faceTooSmall: "face_too_small"
        case .tooDark: "face_too_dark"
        case .tooBright: "face_too_bright"
        case .tooBlurred: "face_too_blurred"
        case .modelUnavailable: "face_engine_unavailable"
        case .configuration: "face_configuration"
        case .engine: "face_engine_failed"
        }
    }

    /// True when the picture itself is at fault (the person can retake it); false for engine trouble.
    public var isPictureProblem: Bool {
        switch self {
        case .modelUnavailable, .configuration, .engine: false
        default: true
        }
    }

    public var messageZh: String {
        switch self {
        case .emptyImage: "没有收到图片。"
        case .imageTooLarge(_, let limit): "图片过大（上限 \(limit / 1024 / 1024) MB）。"
        case .tooManyPixels(let w, let h, let limit): "图片分辨率过高（\(w)×\(h)，上限 \(limit / 1_000_000) 百万像素）。"
        case .notAnImage: "无法识别的图片格式（请使用 JPEG 或 PNG）。"
        case .truncatedImage: "图片不完整（文件被截断）。"
        case .noFace: "图片中未检测到人脸。"
        case .severalFaces(let n): "图片中有 \(n) 张人脸，只能有一人。"
        case .faceTooSmall(let side, let minimum): "人脸太小（\(side) 像素，至少 \(minimum) 像素），请靠近摄像头。"
        case .tooDark: "人脸太暗，请改善光线。"
        case .tooBright: "人脸过曝，请避开强光。"
        case .tooBlurred: "人脸模糊，请保持不动后重拍。"
        case .modelUnavailable(let why): "人脸核验未启用：\(why)"
        case .configuration(let why): "人脸核验配置有误：\(why)"
        case .engine(let why): "人脸核验失败：\(why)"
        }
    }

    public var messageEn: String {
        switch self {
        case .emptyImage: "No image was received."
        case .imageTooLarge(_, let limit): "The image is too large (limit \(limit / 1024 / 1024) MB)."
        case .tooManyPixels(let w, let h, let limit): "The image has too many pixels (\(w)×\(h), limit \(limit / 1_000_000) megapixels)."
        case .notAnImage: "The data is not an image this venue can read (use JPEG or PNG)."
        case .truncatedImage: "The image is incomplete (the file was cut short)."
        case .noFace: "No face was found in the image."
        case .severalFaces(let n): "The image shows \(n) faces; only one person may be in it."
        case .faceTooSmall(let side, let minimum): "The face is too small (\(side) px, at least \(minimum) px): come closer to the camera."
        case .tooDark: "The face is too dark: improve the light."
        case .tooBright: "The face is overexposed: avoid strong light."
        case .tooBlurred: "The face is blurred: hold still and try again."
        case .modelUnavailable(let why): "Face verification is not available: \(why)"
        case .configuration(let why): "The face verification settings are wrong: \(why)"
        case .engine(let why): "Face verification failed: \(why)"
        }
    }

    public var description: String { "\(code): \(messageEn)" }
}
