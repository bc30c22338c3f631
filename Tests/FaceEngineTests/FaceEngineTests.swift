import FaceEngine
import Foundation
import Testing

/// The repository root, the installed models (scripts/install-face-models.sh) and the shared face photos.
enum FaceFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = root.appendingPathComponent("models")
    static let photos = root.deletingLastPathComponent().appendingPathComponent("shared/face/people")

    static func photo(_ path: String) throws -> Data {
        let url = photos.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FaceTestError("missing test photo \(url.path): the shared face folder must sit beside the repository")
        }
        return data
    }

    /// One engine for the whole suite: loading the networks takes seconds.
    static let shared: Result<FaceEngine, FaceError> = Result { () throws(FaceError) in try FaceEngine(modelsFolder: models) }

    static func requireEngine() throws -> FaceEngine {
        switch shared {
        case .success(let engine): return engine
        case .failure(let error): throw FaceTestError("\(error.messageEn) — run scripts/install-face-models.sh")
        }
    }
}

struct FaceTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("Face engine on real photos")
struct FaceEngineTests {
    @Test func theSamePersonFromTwoPhotosMatchesAndTwoPeopleDoNot() async throws {
        let engine = try FaceFixtures.requireEngine()
        let obama = try await engine.enrol(try FaceFixtures.photo("obama/obama.jpg"))
        let same = try await engine.verify(try FaceFixtures.photo("obama/obama2.jpg"), against: obama)
        #expect(same.decision == "match", "obama2 against obama scored \(same.similarity ?? -9)")
        #expect((same.similarity ?? 0) >= engine.configuration.threshold)
        #expect(same.faceCount == 1)
        let face = try #require(same.face)
        #expect(face.width > 40 && face.x >= 0 && face.y >= 0)
        let biden = try await engine.verify(try FaceFixtures.photo("biden/biden.jpg"), against: obama)
        #expect(biden.decision == "mismatch", "biden against obama scored \(biden.similarity ?? -9)")
        let kit = try await engine.enrol(try FaceFixtures.photo("kit_harington/john1.jpeg"))
        let kitAgain = try await engine.verify(try FaceFixtures.photo("kit_harington/john2.jpeg"), against: kit)
        #expect(kitAgain.decision == "match", "john2 against john1 scored \(kitAgain.similarity ?? -9)")
        let rose = try await engine.verify(try FaceFixtures.photo("rose_leslie/img1.jpg"), against: kit)
        #expect(rose.decision == "mismatch", "rose against kit scored \(rose.similarity ?? -9)")
    }

    @Test func aPhotoWithTwoFacesCannotBeEnrolledOrVerified() async throws {
        let engine = try FaceFixtures.requireEngine()
        // Two people side by side; Obama, Biden and a child in front of them.
        await #expect(throws: FaceError.severalFaces(2)) {
            _ = try await engine.enrol(try FaceFixtures.photo("_scenes/kit_with_rose.jpg"))
        }
        await #expect(throws: FaceError.severalFaces(3)) {
            _ = try await engine.enrol(try FaceFixtures.photo("_scenes/obama_and_biden.jpg"))
        }
        let obama = try await engine.enrol(try FaceFixtures.photo("obama/obama.jpg"))
        let both = try await engine.verify(try FaceFixtures.photo("_scenes/obama_and_biden.jpg"), against: obama)
        #expect(both.decision == "unusable")
        #expect(both.problem == "face_several")
        #expect(both.similarity == nil)
    }

    @Test func aPictureWithNoFaceSaysSo() async throws {
        let engine = try FaceFixtures.requireEngine()
        // The top strip of a portrait: hair and background, no face.
        let png = try pngOfFlatGrey(width: 320, height: 240)
        await #expect(throws: FaceError.noFace) { _ = try await engine.enrol(png) }
        let obama = try await engine.enrol(try FaceFixtures.photo("obama/obama.jpg"))
        let result = try await engine.verify(png, against: obama)
        #expect(result.decision == "unusable" && result.problem == "face_not_found" && result.faceCount == 0)
    }

    @Test func badInputGetsAClearErrorAndNeverACrash() async throws {
        let engine = try FaceFixtures.requireEngine()
        let jpeg = try FaceFixtures.photo("obama/obama.jpg")
        await #expect(throws: FaceError.emptyImage) { _ = try await engine.analyse(Data()) }
        await #expect(throws: FaceError.notAnImage) { _ = try await engine.analyse(Data("not a picture at all".utf8)) }
        await #expect(throws: FaceError.notAnImage) { _ = try await engine.analyse(Data([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 7, count: 500) + [0xFF, 0xD9])) }
        await #expect(throws: FaceError.truncatedImage) { _ = try await engine.analyse(jpeg.prefix(jpeg.count / 2)) }
        // A JPEG whose header says 10,000 × 5,000 (50 megapixels) is refused before anything decodes it.
        await #expect(throws: FaceError.tooManyPixels(width: 10_000, height: 5_000, limit: engine.configuration.maxPixels)) {
            _ = try await engine.analyse(try withJPEGSize(jpeg, width: 10_000, height: 5_000))
        }
        var big = Data(count: engine.configuration.maxBytes + 1)
        big[0] = 0xFF
        await #expect(throws: FaceError.imageTooLarge(bytes: big.count, limit: engine.configuration.maxBytes)) {
            _ = try await engine.analyse(big)
        }
        // The engine still works after all that.
        #expect(try await engine.analyse(jpeg).faces.count == 1)
    }

    @Test func aTemplateSurvivesStorageAndAnotherModelsTemplateIsRefused() async throws {
        let engine = try FaceFixtures.requireEngine()
        let template = try await engine.enrol(try FaceFixtures.photo("obama/obama.jpg"))
        let stored = try #require(FaceTemplate(model: template.model, bytes: template.bytes))
        #expect(stored == template)
        let foreign = FaceTemplate(model: "sface:other.onnx", embedding: template.embedding)
        await #expect(throws: FaceError.self) { _ = try await engine.verify(try FaceFixtures.photo("obama/obama2.jpg"), against: foreign) }
    }

    @Test func eightVerificationsAtOnceAllComeBack() async throws {
        let engine = try FaceFixtures.requireEngine()
        let template = try await engine.enrol(try FaceFixtures.photo("obama/obama.jpg"))
        let picture = try FaceFixtures.photo("obama/obama-480p.jpg")
        let decisions = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await engine.verify(picture, against: template).decision } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(decisions == Array(repeating: "match", count: 8))
    }
}

/// A flat grey PNG (stored, uncompressed deflate blocks), made here so the test needs no image library.
func pngOfFlatGrey(width: Int, height: Int) throws -> Data {
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }
    var raw: [UInt8] = []
    for _ in 0..<height { raw += [0] + [UInt8](repeating: 128, count: width) }
    // zlib stream of stored blocks
    var z: [UInt8] = [0x78, 0x01]
    var offset = 0
    while offset < raw.count {
        let n = min(65535, raw.count - offset)
        let final: UInt8 = offset + n == raw.count ? 1 : 0
        z += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        z += raw[offset..<offset + n]
        offset += n
    }
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in raw {
        a = (a + UInt32(byte)) % 65521
        b = (b + a) % 65521
    }
    z += be32(b << 16 | a)
    let header = be32(UInt32(width)) + be32(UInt32(height)) + [8, 0, 0, 0, 0]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", z) + chunk("IEND", []))
}

/// The JPEG with its frame header rewritten to claim another size.
func withJPEGSize(_ jpeg: Data, width: Int, height: Int) throws -> Data {
    var bytes = [UInt8](jpeg)
    var i = 2
    while i + 8 < bytes.count {
        guard bytes[i] == 0xFF else { break }
        let marker = bytes[i + 1]
        let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        if (0xC0...0xC3).contains(marker) {
            bytes[i + 5] = UInt8(height >> 8)
            bytes[i + 6] = UInt8(height & 0xFF)
            bytes[i + 7] = UInt8(width >> 8)
            bytes[i + 8] = UInt8(width & 0xFF)
            return Data(bytes)
        }
        i += 2 + length
    }
    throw FaceTestError("no frame header found")
}
