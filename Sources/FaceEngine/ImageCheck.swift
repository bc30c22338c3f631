import Foundation

/// Checks an encoded image before anything decodes it: size limits, format, completeness, pixel count from the header.
enum ImageCheck {
    enum Format { case jpeg, png }

    static func validate(_ data: Data, maxBytes: Int, maxPixels: Int) throws(FaceError) {
        if data.isEmpty { throw .emptyImage }
        if data.count > maxBytes { throw .imageTooLarge(bytes: data.count, limit: maxBytes) }
        let bytes = [UInt8](data)
        let format: Format
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            format = .jpeg
        } else if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            format = .png
        } else {
            throw .notAnImage
        }
        let size: (Int, Int)?
        switch format {
        case .jpeg:
            size = jpegSize(bytes)
            // A complete JPEG ends with the EOI marker (some encoders pad a few bytes after it).
            let tail = bytes.suffix(64)
            var complete = false
            for index in tail.indices.dropLast() where tail[index] == 0xFF && tail[index + 1] == 0xD9 { complete = true }
            if !complete { throw .truncatedImage }
        case .png:
            size = pngSize(bytes)
            // A complete PNG ends with the IEND chunk.
            if bytes.count < 12 || !bytes.suffix(8).prefix(4).elementsEqual(Array("IEND".utf8)) { throw .truncatedImage }
        }
        guard let (width, height) = size, width > 0, height > 0 else { throw .notAnImage }
        if width * height > maxPixels { throw .tooManyPixels(width: width, height: height, limit: maxPixels) }
    }

    /// Width and height from the first start-of-frame segment.
    static func jpegSize(_ b: [UInt8]) -> (Int, Int)? {
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2 else { return nil }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard i + 8 < b.count else { return nil }
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                return (width, height)
            }
            if marker == 0xDA { return nil }  // scan data before any frame header
            i += 2 + length
        }
        return nil
    }

    static func pngSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 24, b[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
        func be32(_ at: Int) -> Int { Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3]) }
        return (be32(16), be32(20))
    }
}
