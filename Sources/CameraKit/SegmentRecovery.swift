import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns the `.part` files a crash left into closed segments, reading the MP4 boxes directly (no libav).
///
/// A `.part` is `ftyp`, an empty `moov`, then `moof`+`mdat` pairs, each a fragment starting at a keyframe. The
/// file is cut after the last fragment whose `moof` and `mdat` are both complete; the duration is the sum of the
/// sample durations in the kept fragments; codec and picture size come from the sample entry in the `moov`.
enum SegmentRecovery {
    struct RecoveryError: Error, CustomStringConvertible {
        let description: String
    }

    static func recover(in folder: URL) throws -> [RecordedSegment] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(SegmentName.partSuffix) }
            .sorted()
        var recovered: [RecordedSegment] = []
        for name in names {
            let part = folder.appendingPathComponent(name)
            guard let identity = SegmentName.parsePart(name) else { continue }
            let data = try Data(contentsOf: part)
            guard let layout = FragmentedMP4.layout(of: data) else {
                try FileManager.default.removeItem(at: part)
                try SegmentFile.fsync(path: folder.path, directory: true)
                continue
            }
            if layout.keptBytes < data.count {
                guard truncate(part.path, off_t(layout.keptBytes)) == 0 else {
                    throw RecoveryError(description: "truncate \(name): \(SegmentFile.errnoText())")
                }
            }
            let finalName = SegmentName.final(session: identity.session, sequence: identity.sequence)
            let (bytes, sha256) = try SegmentFile.seal(part: part, final: folder.appendingPathComponent(finalName))
            recovered.append(RecordedSegment(
                session: identity.session, sequence: identity.sequence, fileName: finalName,
                startedAt: identity.startedAt, endedAt: identity.startedAt.addingTimeInterval(layout.duration),
                duration: layout.duration, bytes: bytes, sha256: sha256, codec: layout.codec,
                width: layout.width, height: layout.height, recovered: true))
        }
        return recovered
    }
}

/// Just enough of ISO BMFF to find complete fragments and their durations.
enum FragmentedMP4 {
    struct Layout {
        /// Bytes up to the end of the last complete fragment (or the whole file if it was closed properly).
        var keptBytes: Int
        var duration: Double
        var codec: String
        var width: Int
        var height: Int
    }

    struct Box {
        var type: String
        var start: Int
        var payload: Range<Int>
        var end: Int { payload.upperBound }
    }

    /// The layout of a fragmented MP4, or nil when it has no `moov` or no complete fragment.
    static func layout(of data: Data) -> Layout? {
        let bytes = [UInt8](data)
        var offset = 0
        var kept = 0
        var fragments = 0
        var previous = ""
        var movie: Movie?
        var pendingTicks: Int64 = 0
        var totalTicks: Int64 = 0
        while let box = box(in: bytes, at: offset, limit: bytes.count) {
            switch box.type {
            case "moov":
                movie = Movie(bytes: bytes, payload: box.payload)
            case "moof":
                pendingTicks = movie.map { fragmentTicks(bytes: bytes, payload: box.payload, movie: $0) } ?? 0
            case "mdat" where previous == "moof" && movie != nil:
                fragments += 1
                totalTicks += pendingTicks
                kept = box.end
            case "mfra" where fragments > 0:
                kept = box.end
            default:
                break
            }
            previous = box.type
            offset = box.end
        }
        guard let movie, fragments > 0, movie.timescale > 0 else { return nil }
        return Layout(keptBytes: kept, duration: Double(totalTicks) / Double(movie.timescale), codec: movie.codec,
                      width: movie.width, height: movie.height)
    }

    /// The complete box at `offset`, or nil when the header or the body runs past `limit`.
    static func box(in bytes: [UInt8], at offset: Int, limit: Int) -> Box? {
        guard offset + 8 <= limit else { return nil }
        var size = Int(be32(bytes, offset))
        var header = 8
        if size == 1 {
            guard offset + 16 <= limit else { return nil }
            size = Int(clamping: be64(bytes, offset + 8))
            header = 16
        } else if size == 0 {
            size = limit - offset
        }
        guard size >= header, offset <= limit - size else { return nil }
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        return Box(type: type, start: offset, payload: (offset + header)..<(offset + size))
    }

    static func children(in bytes: [UInt8], _ payload: Range<Int>) -> [Box] {
        var result: [Box] = []
        var offset = payload.lowerBound
        while let child = box(in: bytes, at: offset, limit: payload.upperBound) {
            result.append(child)
            offset = child.end
        }
        return result
    }

    static func child(_ type: String, in bytes: [UInt8], _ payload: Range<Int>) -> Box? {
        children(in: bytes, payload).first { $0.type == type }
    }

    /// What the `moov` of a one-video-track file says: timescale, default sample duration, codec, size.
    struct Movie {
        var timescale: Int64 = 0
        var defaultSampleDuration: Int64 = 0
        var codec = ""
        var width = 0
        var height = 0

        init?(bytes: [UInt8], payload: Range<Int>) {
            guard let trak = child("trak", in: bytes, payload),
                  let mdia = child("mdia", in: bytes, trak.payload),
                  let mdhd = child("mdhd", in: bytes, mdia.payload) else { return nil }
            let version = bytes[mdhd.payload.lowerBound]
            let timescaleAt = mdhd.payload.lowerBound + (version == 1 ? 20 : 12)
            guard timescaleAt + 4 <= mdhd.end else { return nil }
            timescale = Int64(be32(bytes, timescaleAt))
            if let minf = child("minf", in: bytes, mdia.payload), let stbl = child("stbl", in: bytes, minf.payload),
               let stsd = child("stsd", in: bytes, stbl.payload),
               let entry = box(in: bytes, at: stsd.payload.lowerBound + 8, limit: stsd.end) {
                codec = switch entry.type {
                case "avc1", "avc3": "h264"
                case "hvc1", "hev1": "hevc"
                default: entry.type
                }
                // VisualSampleEntry: 8 bytes of SampleEntry, 16 reserved/pre-defined, then width and height.
                let sizeAt = entry.payload.lowerBound + 24
                if sizeAt + 4 <= entry.end {
                    width = Int(be16(bytes, sizeAt))
                    height = Int(be16(bytes, sizeAt + 2))
                }
            }
            if let mvex = child("mvex", in: bytes, payload), let trex = child("trex", in: bytes, mvex.payload),
               trex.payload.count >= 24 {
                defaultSampleDuration = Int64(be32(bytes, trex.payload.lowerBound + 12))
            }
        }
    }

    /// Sum of the sample durations in a `moof` (in the track's timescale).
    static func fragmentTicks(bytes: [UInt8], payload: Range<Int>, movie: Movie) -> Int64 {
        var total: Int64 = 0
        for traf in children(in: bytes, payload) where traf.type == "traf" {
            var defaultDuration = movie.defaultSampleDuration
            if let tfhd = child("tfhd", in: bytes, traf.payload) {
                let flags = be32(bytes, tfhd.payload.lowerBound) & 0x00FF_FFFF
                var at = tfhd.payload.lowerBound + 8  // version+flags, track_ID
                if flags & 0x01 != 0 { at += 8 }
                if flags & 0x02 != 0 { at += 4 }
                if flags & 0x08 != 0, at + 4 <= tfhd.end { defaultDuration = Int64(be32(bytes, at)) }
            }
            for trun in children(in: bytes, traf.payload) where trun.type == "trun" {
                guard trun.payload.count >= 8 else { continue }
                let flags = be32(bytes, trun.payload.lowerBound) & 0x00FF_FFFF
                let count = Int(be32(bytes, trun.payload.lowerBound + 4))
                var at = trun.payload.lowerBound + 8
                if flags & 0x01 != 0 { at += 4 }
                if flags & 0x04 != 0 { at += 4 }
                let fields = [0x100, 0x200, 0x400, 0x800].filter { flags & UInt32($0) != 0 }.count
                for _ in 0..<count {
                    guard at + fields * 4 <= trun.end else { break }
                    total += flags & 0x100 != 0 ? Int64(be32(bytes, at)) : defaultDuration
                    at += fields * 4
                }
            }
        }
        return total
    }

    static func be16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
    static func be64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(be32(bytes, at)) << 32 | UInt64(be32(bytes, at + 4)) }
}
