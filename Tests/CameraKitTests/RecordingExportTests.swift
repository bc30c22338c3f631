@testable import CameraKit
import Foundation
import TestSupport
import Testing

/// Downloads of a time range (`RecordingExport`) and uploads of recordings made elsewhere (`RecordingImport`), on
/// real files made with Debian's ffmpeg and real recorder segments, checked with ffprobe and ffmpeg.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RecordingExportTests {
    /// A fixed wall clock for uploads: 2025-06-15 15:06:40 UTC.
    static let filmedAt = Date(timeIntervalSince1970: 1_750_000_000)

    // MARK: Upload: probe

    @Test func anUploadInTheUsualContainersIsAcceptedWithItsFormat() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        // Given H.264 (with B-frames) in MP4, MOV, Matroska, MPEG-TS, FLV and AVI, H.265 in MP4 and Matroska,
        // and an MP4 with audio
        let h264 = ["-c:v", "libx264", "-g", "30", "-pix_fmt", "yuv420p"]
        let cases: [(name: String, arguments: [String], container: String, codec: String)] = [
            ("h264.mp4", h264, "mp4", "h264"),
            ("h264.mov", h264, "mov", "h264"),
            ("h264.mkv", h264, "matroska", "h264"),
            ("h264.ts", h264, "mpegts", "h264"),
            ("h264.flv", h264, "flv", "h264"),
            ("h264-no-b.avi", h264 + ["-bf", "0"], "avi", "h264"),
            ("h265.mp4", ["-c:v", "libx265", "-x265-params", "log-level=error:keyint=30", "-tag:v", "hvc1"], "mp4", "hevc"),
            ("h265.mkv", ["-c:v", "libx265", "-x265-params", "log-level=error:keyint=30"], "matroska", "hevc"),
        ]
        for item in cases {
            let file = try media.video(item.name, seconds: 4, extra: item.arguments)
            // When each is probed
            let video = try RecordingImport.probe(file)
            // Then container, codec, size, duration and frame rate are what ffmpeg wrote
            #expect(video.container == item.container, "\(item.name)")
            #expect(video.codec == item.codec && video.width == 320 && video.height == 240, "\(item.name): \(video)")
            #expect(abs(video.duration - 4) < 0.1, "\(item.name): \(video.duration) s")
            #expect(video.framesPerSecond.map { abs($0 - 25) < 0.01 } == true, "\(item.name): \(video)")
        }
        let withAudio = try media.videoWithAudio("av.mp4", seconds: 4)
        let video = try RecordingImport.probe(withAudio)
        #expect(video.codec == "h264" && abs(video.duration - 4) < 0.1)
    }

    @Test func anUploadThatIsNotAPlayableVideoIsRefusedWithItsReason() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        let good = try media.video("good.mp4", seconds: 4, extra: ["-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p"])
        // Given files a person might upload by mistake, each with the words its refusal must contain
        var cases: [(file: URL, expected: CameraError?, words: [String])] = []
        cases.append((try media.write("empty.mp4", Data()), nil, ["not a video", "empty"]))
        cases.append((try media.write("notes.txt", Data("考试记录\nroom 1: ok\n".utf8)), nil, ["not a video"]))
        cases.append((try media.picture("photo.png"), nil, ["not a video", "still picture"]))
        cases.append((try media.picture("photo.jpg"), nil, ["not a video", "still picture"]))
        cases.append((try media.video("mpeg4.mp4", seconds: 2, extra: ["-c:v", "mpeg4"]), nil,
                      ["MPEG4", "H.264", "Convert it to H.264"]))
        cases.append((try media.video("mjpeg.avi", seconds: 2, extra: ["-c:v", "mjpeg"]), nil,
                      ["MJPEG", "H.264", "Convert it to H.264"]))
        cases.append((try media.ffmpeg("sine.m4a", ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac"]),
                      .noVideo, []))
        cases.append((try media.ffmpeg("cover.mp3", [
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-i", try media.picture("cover.png").path,
            "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic",
        ]), .noVideo, []))
        // A valid MP4 whose picture data is all random bytes; the same MP4 cut in half (its index is at the end)
        var garbage = try Data(contentsOf: good)
        let mdat = try #require(topLevelBoxes(garbage).first { $0.type == "mdat" })
        var random = SeededRandom(seed: 7)
        for index in (mdat.start + 8)..<mdat.end { garbage[index] = UInt8.random(in: 0...255, using: &random) }
        cases.append((try media.write("garbage.mp4", garbage), nil, ["not a video", "do not decode"]))
        let whole = try Data(contentsOf: good)
        cases.append((try media.write("half.mp4", whole.prefix(whole.count / 2)), nil, ["not a video"]))
        let indexFirst = try Data(contentsOf: try media.video(
            "faststart.mp4", seconds: 4, extra: ["-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]))
        cases.append((try media.write("half-faststart.mp4", indexFirst.prefix(indexFirst.count / 2)), nil,
                      ["not a video", "incomplete"]))
        // An MP4 whose durations all say zero
        let oneFrame = try media.video(
            "one.mp4", seconds: 0.04, extra: ["-c:v", "libx264", "-movflags", "+faststart", "-use_editlist", "0"])
        cases.append((try media.write("zero.mp4", try zeroDuration(oneFrame)), nil, ["not a video", "duration is zero"]))
        // H.264 with B-frames in AVI (no presentation times) and a bare H.264 stream (no timestamps at all)
        cases.append((try media.video("h264-b.avi", seconds: 2, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"]), nil,
                      ["not a video", "B-frames", "MP4"]))
        cases.append((try media.ffmpeg("bare.h264", ["-i", good.path, "-c", "copy"]), nil, ["not a video", "timestamps"]))

        for item in cases {
            // When each is probed, and split
            let probed = Result { () throws(CameraError) in try RecordingImport.probe(item.file) }
            let folder = media.folder.appendingPathComponent("split-\(item.file.lastPathComponent)")
            let split = Result { () throws(CameraError) in
                try RecordingImport.split(item.file, startedAt: Self.filmedAt, folder: folder, segmentSeconds: 2)
            }
            // Then both refuse it with the expected reason, and no segment file is made
            for result in [probed.map { _ in () }, split.map { _ in () }] {
                guard case .failure(let error) = result else {
                    Issue.record("\(item.file.lastPathComponent) was accepted")
                    continue
                }
                if let expected = item.expected {
                    #expect(error == expected, "\(item.file.lastPathComponent): \(error)")
                } else {
                    #expect(error.code.hasPrefix("upload_"), "\(item.file.lastPathComponent): \(error)")
                    #expect(!error.messageZh.isEmpty && error.messageZh != error.messageEn)
                    for word in item.words {
                        #expect(error.messageEn.contains(word), "\(item.file.lastPathComponent): \(error.messageEn)")
                    }
                }
            }
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty)
        }
    }

    @Test func anUploadCutShortIsRefusedWhenSplitAndLeavesNoSegment() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        // Given a Matroska file cut in half (its header still says 8 s; its first pictures decode)
        let whole = try Data(contentsOf: try media.video(
            "whole.mkv", seconds: 8, extra: ["-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p"]))
        let half = try media.write("half.mkv", whole.prefix(whole.count / 2))
        #expect(abs(try RecordingImport.probe(half).duration - 8) < 0.1)
        // When it is split
        let folder = media.folder.appendingPathComponent("segments")
        let result = Result { () throws(CameraError) in
            try RecordingImport.split(half, startedAt: Self.filmedAt, folder: folder, segmentSeconds: 2)
        }
        // Then it is refused as incomplete, and the segments written before the end was found are gone
        guard case .failure(let error) = result else {
            Issue.record("a file cut short was split")
            return
        }
        #expect(error.messageEn.contains("incomplete"), "\(error.messageEn)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    // MARK: Upload: split

    @Test func anUploadIsSplitIntoPlayableSegmentsCutAtKeyframesWithTheSamePictures() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        // Given 6 s videos at 25 fps with a keyframe every 1.2 s, in several containers, with B-frames, one with audio
        let h264 = ["-c:v", "libx264", "-g", "30", "-pix_fmt", "yuv420p"]
        let files: [(URL, hvc1: Bool)] = [
            (try media.video("h264.mp4", seconds: 6, extra: h264), false),
            (try media.video("h264.mkv", seconds: 6, extra: h264), false),
            (try media.video("h264.ts", seconds: 6, extra: h264), false),
            (try media.video("h264.flv", seconds: 6, extra: h264), false),
            (try media.video("h264-no-b.avi", seconds: 6, extra: h264 + ["-bf", "0"]), false),
            (try media.videoWithAudio("av.mov", seconds: 6), false),
            (try media.video("h265.mkv", seconds: 6, extra: [
                "-c:v", "libx265", "-x265-params", "log-level=error:keyint=30:min-keyint=30:scenecut=0:open-gop=0"]), true),
        ]
        for (file, hvc1) in files {
            let name = file.lastPathComponent
            let folder = media.folder.appendingPathComponent("segments-\(name)")
            // When it is split into 2 s segments
            let segments = try RecordingImport.split(file, startedAt: Self.filmedAt, folder: folder, segmentSeconds: 2)

            // Then there are three segments of one new session, cut at the keyframes at 2.4 s and 4.8 s
            #expect(segments.count == 3, "\(name): \(segments.map(\.duration))")
            #expect(Set(segments.map(\.session)).count == 1 && segments.map(\.sequence) == Array(0..<segments.count))
            #expect(segments.allSatisfy { !$0.recovered && $0.width == 320 && $0.height == 240 })
            #expect(segments.allSatisfy { $0.codec == (hvc1 ? "hevc" : "h264") })
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(names == segments.map(\.fileName).sorted(), "\(name): no .part left, nothing else")
            // Their durations add up to the file's, and each starts where the one before ended
            let total = segments.map(\.duration).reduce(0, +)
            #expect(abs(total - 6) < 0.005, "\(name): \(total) s")
            for (index, segment) in segments.enumerated().dropFirst() {
                #expect(abs(segment.startedAt.timeIntervalSince(segments[index - 1].endedAt)) < 0.001, "\(name)")
                #expect(abs(segment.duration - (index == 2 ? 1.2 : 2.4)) < 0.005, "\(name): \(segment.duration)")
            }
            // The first picture is shown at the wall clock given (B-frames start decoding a little before it)
            let first = try packets(folder.appendingPathComponent(segments[0].fileName))
            let firstShown = segments[0].startedAt.addingTimeInterval(first.map(\.pts).min() ?? 0)
            #expect(abs(firstShown.timeIntervalSince(Self.filmedAt)) < 0.001, "\(name): \(firstShown)")
            // Every segment plays alone, video only, from a keyframe, with its hash; hvc1 for H.265
            var pictures: [String] = []
            for segment in segments {
                let url = folder.appendingPathComponent(segment.fileName)
                try expectPlayable(url, segment)
                let probe = try probeStreams(url)
                #expect(probe.streams.count == 1, "\(name): audio dropped")
                #expect(probe.streams.first?.tag == (hvc1 ? "hvc1" : "avc1"))
                #expect(try packets(url).first?.key == true, "\(segment.fileName) starts with a keyframe")
                pictures += try frameHashes(url)
            }
            // And together they hold exactly the pictures of the file, in order
            #expect(pictures == (try frameHashes(file)), "\(name): same pictures")
        }
    }

    // MARK: Download

    @Test func aRangeOfRecorderSegmentsIsExportedAsOneSeekableMP4FromTheKeyframeBeforeIt() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300"]) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            // Given a camera recorded for about 8 s in 2 s segments
            let log = EventLog()
            let recorder = CameraRecorder(configuration: RecorderConfiguration(
                url: camera.urls[0], folder: folder, segmentSeconds: 2), onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(30)) { $0.segments.count >= 4 }
            task.cancel()
            await task.value
            let segments = log.segments
            let parts = segments.map { ExportPart(file: folder.appendingPathComponent($0.fileName), startedAt: $0.startedAt) }
            let timeline = try wallTimeline(parts)

            // When 1.5 s into the second segment (between keyframes) to 0.7 s into the fourth is exported
            let from = segments[1].startedAt.addingTimeInterval(1.5)
            let to = segments[3].startedAt.addingTimeInterval(0.7)
            let output = folder.appendingPathComponent("export.mp4")
            let export = try RecordingExport.write(parts: parts, from: from, to: to, output: output)

            // Then it starts at the last keyframe at or before `from`, and ends with the last frame before `to`
            let key = try #require(timeline.last { $0.key && $0.wall <= from })
            #expect(from.timeIntervalSince(key.wall) > 0.3 && from.timeIntervalSince(key.wall) <= 1.0)
            #expect(abs(export.startedAt.timeIntervalSince(key.wall)) < 0.001, "\(export.startedAt) vs \(key.wall)")
            let expected = timeline.filter { $0.wall >= key.wall && $0.wall < to }
            let last = try #require(expected.last)
            #expect(abs(export.duration - (last.wall.timeIntervalSince(key.wall) + 0.04)) < 0.002, "\(export.duration) s")
            #expect(to.timeIntervalSince(export.startedAt.addingTimeInterval(export.duration)) > -0.041)
            #expect(to.timeIntervalSince(export.startedAt.addingTimeInterval(export.duration)) <= 0.001)
            #expect(export.codec == "h264" && export.width == 320 && export.height == 240)
            try expectExport(output, export, frames: expected.count)
            #expect(try frameHashes(output) == expected.map(\.picture), "the same pictures as the segments")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".part") }.isEmpty)
        }
    }

    @Test func aHoleBetweenPartsStaysAHoleInTheExport() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        // Given a 10 s upload split into five 2 s segments, the last two of which came 3 s later (camera down)
        let file = try media.video("in.mp4", seconds: 10, size: "640x360",
                                   extra: ["-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p"])
        let folder = media.folder.appendingPathComponent("segments")
        let segments = try RecordingImport.split(file, startedAt: Self.filmedAt, folder: folder, segmentSeconds: 2)
        #expect(segments.count == 5)
        let parts = segments.enumerated().map { index, segment in
            ExportPart(file: folder.appendingPathComponent(segment.fileName),
                       startedAt: segment.startedAt.addingTimeInterval(index >= 3 ? 3 : 0))
        }

        // When the whole time is exported
        let all = media.folder.appendingPathComponent("all.mp4")
        let export = try RecordingExport.write(parts: parts, from: Self.filmedAt.addingTimeInterval(-5),
                                               to: Self.filmedAt.addingTimeInterval(60), output: all)
        // Then it lasts the content plus the hole, with only the content's frames, the pictures unchanged
        #expect(abs(export.startedAt.timeIntervalSince(Self.filmedAt)) < 0.001)
        #expect(abs(export.duration - 13) < 0.005, "\(export.duration) s")
        try expectExport(all, export, frames: 250)
        #expect(try frameHashes(all) == (try frameHashes(file)))
        // And the picture before the hole stays until the first one after it, 3.04 s later
        let shown = try packets(all).map(\.pts).sorted()
        let steps = zip(shown.dropFirst(), shown).map { $0 - $1 }
        #expect(steps.filter { $0 > 0.05 }.map { ($0 * 100).rounded() / 100 } == [3.04], "\(steps.filter { $0 > 0.05 })")

        // When a range from inside the hole is exported, it starts at the first picture after the hole
        let timeline = try wallTimeline(parts)
        let after = media.folder.appendingPathComponent("after.mp4")
        let lateFrom = Self.filmedAt.addingTimeInterval(7.5), lateTo = Self.filmedAt.addingTimeInterval(11.5)
        let late = try RecordingExport.write(parts: parts, from: lateFrom, to: lateTo, output: after)
        #expect(abs(late.startedAt.timeIntervalSince(Self.filmedAt.addingTimeInterval(9))) < 0.001, "\(late.startedAt)")
        let lateExpected = try expectedExport(timeline, from: lateFrom, to: lateTo, fromInAHole: true)
        #expect(lateExpected.frames == 65)
        #expect(abs(late.duration - lateExpected.duration) < 0.001, "\(late.duration) s")
        try expectExport(after, late, frames: lateExpected.frames)

        // When a range starts inside a GOP with B-frames: 3.5 s to 5.3 s of the file (no hole before it)
        let middle = media.folder.appendingPathComponent("middle.mp4")
        let middleFrom = Self.filmedAt.addingTimeInterval(3.5), middleTo = Self.filmedAt.addingTimeInterval(5.3)
        let cut = try RecordingExport.write(parts: parts, from: middleFrom, to: middleTo, output: middle)
        // Then it starts at the keyframe at 3 s and holds the 60 packets decoded from 2.92 s up to 5.3 s
        #expect(abs(cut.startedAt.timeIntervalSince(Self.filmedAt.addingTimeInterval(3))) < 0.001, "\(cut.startedAt)")
        let middleExpected = try expectedExport(timeline, from: middleFrom, to: middleTo)
        #expect(middleExpected.frames == 60)
        #expect(abs(cut.duration - middleExpected.duration) < 0.001, "\(cut.duration) s")
        #expect(cut.duration >= 2.3 && cut.duration < 2.3 + 0.2, "\(cut.duration) s: a few frames decoded before 5.3 s show later")
        try expectExport(middle, cut, frames: 60)
        let source = try frameHashes(file)
        let exported = try frameHashes(middle)
        #expect(Array(exported.prefix(50)) == Array(source[75..<125]), "starts with the pictures from 3 s")
        #expect(Set(exported).isSubset(of: Set(source)))
    }

    @Test func anH265RecordingWithOpenGOPsIsExportedTaggedHvc1() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        // Given 6 s of H.265 as x265 makes it by default (open GOPs: a keyframe each second after the first is a
        // CRA whose leading pictures refer to the GOP before), split into 2 s segments
        let file = try media.video("h265.mp4", seconds: 6, extra: [
            "-c:v", "libx265", "-x265-params", "log-level=error:keyint=25:min-keyint=25:scenecut=0", "-tag:v", "hvc1"])
        let folder = media.folder.appendingPathComponent("segments")
        let segments = try RecordingImport.split(file, startedAt: Self.filmedAt, folder: folder, segmentSeconds: 2)
        let parts = segments.map { ExportPart(file: folder.appendingPathComponent($0.fileName), startedAt: $0.startedAt) }
        let timeline = try wallTimeline(parts)

        // When all of it is exported
        let whole = media.folder.appendingPathComponent("whole.mp4")
        let all = try RecordingExport.write(parts: parts, from: Self.filmedAt, to: Self.filmedAt.addingTimeInterval(10),
                                            output: whole)
        // Then it is tagged hvc1 and holds every picture of the file: the cuts at CRAs lose nothing once joined
        #expect(all.codec == "hevc" && all.width == 320 && all.height == 240)
        #expect(abs(all.startedAt.timeIntervalSince(Self.filmedAt)) < 0.001 && abs(all.duration - 6) < 0.001)
        try expectExport(whole, all, frames: 150)
        #expect(try probeStreams(whole).streams.first?.tag == "hvc1")
        #expect(try frameHashes(whole) == (try frameHashes(file)))

        // When a range starting between keyframes is exported, it starts at the CRA shown at 1 s
        let output = media.folder.appendingPathComponent("range.mp4")
        let from = Self.filmedAt.addingTimeInterval(1.2), to = Self.filmedAt.addingTimeInterval(4.5)
        let export = try RecordingExport.write(parts: parts, from: from, to: to, output: output)
        #expect(abs(export.startedAt.timeIntervalSince(Self.filmedAt.addingTimeInterval(1))) < 0.001, "\(export.startedAt)")
        let expected = try expectedExport(timeline, from: from, to: to)
        #expect(abs(export.duration - expected.duration) < 0.001, "\(export.duration) s")
        try expectExport(output, export, frames: expected.frames)
        #expect(try probeStreams(output).streams.first?.tag == "hvc1")
    }

    @Test func anExportThatCannotBeMadeIsRefusedAndLeavesNoFileBehind() throws {
        let media = try MediaFolder()
        defer { media.remove() }
        let h264 = ["-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p"]
        // Given 4 s recordings: one at 640x360, then one at 320x240, then one at 320x240 in another H.264 profile
        let wide = try media.video("wide.mp4", seconds: 4, size: "640x360", extra: h264)
        let small = try media.video("small.mp4", seconds: 4, extra: h264)
        let baseline = try media.video("baseline.mp4", seconds: 4, extra: h264 + ["-profile:v", "baseline"])
        var parts: [ExportPart] = []
        for (index, file) in [wide, small, baseline].enumerated() {
            let folder = media.folder.appendingPathComponent("segments-\(index)")
            let segments = try RecordingImport.split(file, startedAt: Self.filmedAt.addingTimeInterval(Double(index) * 10),
                                                     folder: folder, segmentSeconds: 2)
            parts += segments.map { ExportPart(file: folder.appendingPathComponent($0.fileName), startedAt: $0.startedAt) }
        }
        let outputFolder = media.folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        let output = outputFolder.appendingPathComponent("export.mp4")
        let at = { (seconds: Double) in Self.filmedAt.addingTimeInterval(seconds) }
        let notThere = media.folder.appendingPathComponent("gone.mp4")
        let notVideo = try media.write("broken.mp4", Data("not an mp4".utf8))

        let cases: [(name: String, parts: [ExportPart], from: Date, to: Date, words: [String])] = [
            ("an empty range", parts, at(2), at(2), ["end of the time range", "after its start"]),
            ("a reversed range", parts, at(3), at(1), ["end of the time range", "after its start"]),
            ("a range before everything", parts, at(-60), at(-1), ["Nothing was recorded"]),
            ("a range in a hole", parts, at(5), at(9.9), ["Nothing was recorded"]),
            ("a range after everything", parts, at(40), at(50), ["Nothing was recorded"]),
            ("no parts", [], at(0), at(5), ["Nothing was recorded"]),
            ("a change of picture size", parts, at(3), at(12), ["picture format changes", "640x360", "320x240", "in parts"]),
            ("a change of codec settings", parts, at(13), at(22), ["picture format changes", "other codec settings"]),
            ("a part that is gone", [parts[0], ExportPart(file: notThere, startedAt: at(2))], at(0), at(5), ["gone.mp4"]),
            ("a part that is not an MP4", [parts[0], ExportPart(file: notVideo, startedAt: at(2))], at(0), at(5), ["broken.mp4"]),
            ("parts that overlap", [parts[0], ExportPart(file: parts[1].file, startedAt: parts[1].startedAt.addingTimeInterval(-1))],
             at(0), at(3), [parts[1].file.lastPathComponent, "starts 1.000 s before the one before it ends"]),
        ]
        for item in cases {
            // When it is exported
            let result = Result { () throws(CameraError) in
                try RecordingExport.write(parts: item.parts, from: item.from, to: item.to, output: output)
            }
            // Then it is refused with its reason, and neither the MP4 nor its .part is there
            guard case .failure(let error) = result else {
                Issue.record("\(item.name) was exported")
                continue
            }
            for word in item.words {
                #expect(error.messageEn.contains(word), "\(item.name): \(error.messageEn)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outputFolder.path).isEmpty, "\(item.name)")
        }
        // And a range within one format works from the same parts
        let fine = try RecordingExport.write(parts: parts, from: at(11), to: at(13.9), output: output)
        #expect(fine.width == 320 && fine.height == 240)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputFolder.path) == ["export.mp4"])
    }
}

// MARK: - Helpers

/// A temporary folder of media files made with Debian's ffmpeg.
private struct MediaFolder {
    let folder: URL

    init() throws {
        folder = try temporaryFolder()
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// Runs ffmpeg with `arguments` and `name` as the output; fails the test if ffmpeg does.
    func ffmpeg(_ name: String, _ arguments: [String]) throws -> URL {
        let output = folder.appendingPathComponent(name)
        let run = try runTool("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y"] + arguments + [output.path])
        guard run.status == 0 else { throw ToolFailure(description: "ffmpeg \(arguments): \(run.errors)") }
        return output
    }

    /// The testsrc2 pattern at 25 fps, encoded with `extra`.
    func video(_ name: String, seconds: Double, size: String = "320x240", extra: [String]) throws -> URL {
        try ffmpeg(name, ["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25", "-t", String(seconds)] + extra)
    }

    /// H.264 video and AAC audio.
    func videoWithAudio(_ name: String, seconds: Double) throws -> URL {
        try ffmpeg(name, ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi",
                          "-i", "sine=frequency=440", "-t", String(seconds), "-c:v", "libx264", "-g", "30",
                          "-pix_fmt", "yuv420p", "-c:a", "aac"])
    }

    /// One picture of the test pattern, in the format the name's extension says.
    func picture(_ name: String) throws -> URL {
        try ffmpeg(name, ["-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1"])
    }

    func write(_ name: String, _ data: Data) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// A reproducible random source (SplitMix64), so a damaged file is damaged the same way every run.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A copy of a one-frame MP4 (index first, no edit list) with every duration in it set to zero.
private func zeroDuration(_ file: URL) throws -> Data {
    var bytes = [UInt8](try Data(contentsOf: file))
    /// Offsets of the duration field after the box type, for version 0 boxes.
    let fields: [(type: String, offset: Int)] = [("mvhd", 16), ("tkhd", 20), ("mdhd", 16), ("stts", 12)]
    for field in fields {
        let type = Array(field.type.utf8)
        var index = 0
        while index + 4 + field.offset + 4 <= bytes.count {
            if Array(bytes[index..<index + 4]) == type {
                let at = index + 4 + field.offset
                for byte in at..<at + 4 { bytes[byte] = 0 }
            }
            index += 1
        }
    }
    return Data(bytes)
}

/// What ffprobe says of a file: its duration and, per stream, codec, tag, size and decoded frame count.
private struct StreamsProbe {
    struct Stream {
        var type: String
        var codec: String
        var tag: String
        var width: Int
        var height: Int
        var frames: Int
    }
    var duration: Double
    var formatName: String
    var streams: [Stream]
}

private func probeStreams(_ file: URL) throws -> StreamsProbe {
    let run = try runTool("/usr/bin/ffprobe", [
        "-v", "error", "-count_frames", "-show_entries",
        "stream=codec_type,codec_name,codec_tag_string,width,height,nb_read_frames:format=duration,format_name",
        "-of", "json", file.path,
    ])
    guard run.status == 0, let json = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
    else { throw ToolFailure(description: "ffprobe \(file.lastPathComponent): \(run.errors)") }
    let format = json["format"] as? [String: Any] ?? [:]
    let streams = (json["streams"] as? [[String: Any]] ?? []).map { stream in
        StreamsProbe.Stream(
            type: stream["codec_type"] as? String ?? "", codec: stream["codec_name"] as? String ?? "",
            tag: stream["codec_tag_string"] as? String ?? "", width: stream["width"] as? Int ?? 0,
            height: stream["height"] as? Int ?? 0, frames: Int(stream["nb_read_frames"] as? String ?? "") ?? -1)
    }
    return StreamsProbe(duration: Double(format["duration"] as? String ?? "") ?? -1,
                        formatName: format["format_name"] as? String ?? "", streams: streams)
}

/// The video packets of a file in decode order: seconds of PTS and DTS, keyframe flag.
private func packets(_ file: URL) throws -> [(pts: Double, dts: Double, key: Bool)] {
    let run = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                               "packet=pts_time,dts_time,flags", "-of", "csv=p=0", file.path])
    guard run.status == 0 else { throw ToolFailure(description: "ffprobe \(file.lastPathComponent): \(run.errors)") }
    return run.output.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 3, let pts = Double(fields[0]), let dts = Double(fields[1]) else { return nil }
        return (pts, dts, fields[2].contains("K"))
    }
}

/// MD5 of every decoded picture, in the order shown.
private func frameHashes(_ file: URL) throws -> [String] {
    let run = try runTool("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", file.path, "-map", "0:v:0",
                                              "-fps_mode", "passthrough", "-f", "framemd5", "-"])
    guard run.status == 0 else { throw ToolFailure(description: "ffmpeg framemd5 \(file.lastPathComponent): \(run.errors)") }
    return run.output.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
        line.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// Every packet of `parts` in decode order: wall clock of its DTS (part start + its DTS from the part's first) and
/// of its PTS, keyframe flag, and the hash of the n-th picture of its part (pictures are in display order, so this
/// pairs packets with pictures only without B-frames, as from the test camera).
private func wallTimeline(_ parts: [ExportPart]) throws -> [(wall: Date, shown: Date, key: Bool, picture: String)] {
    var timeline: [(wall: Date, shown: Date, key: Bool, picture: String)] = []
    for part in parts {
        let list = try packets(part.file)
        let hashes = try frameHashes(part.file)
        guard let first = list.first else { continue }
        for (index, packet) in list.enumerated() {
            timeline.append((part.startedAt.addingTimeInterval(packet.dts - first.dts),
                             part.startedAt.addingTimeInterval(packet.pts - first.dts), packet.key,
                             index < hashes.count ? hashes[index] : ""))
        }
    }
    return timeline
}

/// What an export of `from..<to` over `timeline` should hold, worked out from ffprobe's packets: it starts at the
/// last keyframe at or before `from` (or, when `from` is in a hole, the first after it), takes the packets decoded
/// before `to`, and lasts from its first picture to the end of its last (one frame of 40 ms).
private func expectedExport(_ timeline: [(wall: Date, shown: Date, key: Bool, picture: String)], from: Date, to: Date,
                            fromInAHole: Bool = false) throws -> (startedAt: Date, duration: Double, frames: Int)
{
    let before = fromInAHole ? nil : timeline.last { $0.key && $0.wall <= from }
    let key = try #require(before ?? timeline.first { $0.key && $0.wall > from })
    let taken = timeline.filter { $0.wall >= key.wall && $0.wall < to }
    let end = try #require(taken.map(\.shown).max()).addingTimeInterval(0.04)
    // Pictures shown before the keyframe (leading pictures of an open GOP) cannot be decoded without the GOP before.
    return (key.shown, end.timeIntervalSince(key.shown), taken.filter { $0.shown >= key.shown }.count)
}

/// An export is a regular MP4 with its index first, one video stream starting with a keyframe, `frames` pictures
/// that decode without a word, the duration and size reported.
private func expectExport(_ file: URL, _ export: ExportedRecording, frames: Int,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let probe = try probeStreams(file)
    #expect(probe.streams.count == 1 && probe.streams.first?.frames == frames,
            "\(file.lastPathComponent): \(probe.streams.first?.frames ?? -1) frames, expected \(frames)",
            sourceLocation: sourceLocation)
    #expect(abs(probe.duration - export.duration) < 0.002,
            "\(file.lastPathComponent): ffprobe \(probe.duration) s, reported \(export.duration) s",
            sourceLocation: sourceLocation)
    let decode = try runTool("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", file.path, "-f", "null", "-"])
    #expect(decode.status == 0 && decode.errors.isEmpty, "\(decode.errors)", sourceLocation: sourceLocation)
    let boxes = topLevelBoxes(try Data(contentsOf: file)).map(\.type)
    let moov = boxes.firstIndex(of: "moov"), mdat = boxes.firstIndex(of: "mdat")
    #expect(moov != nil && mdat != nil && moov! < mdat!, "index first: \(boxes)", sourceLocation: sourceLocation)
    #expect(!boxes.contains("moof"), "not fragmented", sourceLocation: sourceLocation)
    #expect(try packets(file).first?.key == true, "starts with a keyframe", sourceLocation: sourceLocation)
    let bytes = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int
    #expect(bytes == export.bytes, sourceLocation: sourceLocation)
}

