@testable import CameraKit
import Foundation
import Synchronization
import TestSupport
import Testing

/// The live picture of a real RTSP camera, as a browser would receive it: a start with the MSE codec and the
/// initialisation segment, then one fragment per frame, the first a keyframe.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LiveFeedTests {
    @Test func aViewerGetsAPlayableFragmentedMP4StartingAtAKeyframeWhileTheCameraIsRecorded() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300"]) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let counts = Mutex<[Int]>([])
            let feed = LiveFeed { count in counts.withLock { $0.append(count) } }
            let log = EventLog()
            let recorder = CameraRecorder(
                configuration: RecorderConfiguration(url: camera.urls[0], folder: folder, segmentSeconds: 60, live: feed),
                onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(15)) { $0.recordings.count == 1 }
            #expect(feed.current == nil, "nothing is muxed for the live view while nobody watches")

            // When a viewer watches for about 3 s
            let (start, fragments) = try await watch(feed, fragments: 75)
            #expect(counts.withLock { $0 } == [1, 0], "the viewer came and went")

            // Then the start names the codec and the picture, and start + fragments play as one file
            #expect(start.codec.hasPrefix("avc1.") && start.codec.count == 11, "\(start.codec)")
            #expect(start.width == 320 && start.height == 240)
            #expect(topLevelBoxes(Data(start.initialization)).map(\.type) == ["ftyp", "moov"])
            for fragment in fragments {
                #expect(topLevelBoxes(Data(fragment)).map(\.type) == ["moof", "mdat"])
            }
            let file = folder.appendingPathComponent("live.mp4")
            try Data(start.initialization + fragments.flatMap { $0 }).write(to: file)
            let frames = try runTool("/usr/bin/ffprobe", [
                "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame", "-of", "csv=p=0", file.path,
            ])
            let keys = frames.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(frames.status == 0 && frames.errors.isEmpty, "\(frames.errors)")
            #expect(keys.count == 75, "one frame per fragment")
            #expect(keys.first == "1", "the first fragment a viewer gets is a keyframe")
            let decode = try runTool("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", file.path, "-f", "null", "-"])
            #expect(decode.status == 0 && decode.errors.isEmpty, "\(decode.errors)")

            // And once the last viewer has gone, the live MP4 is dropped while recording goes on
            try await Task.sleep(for: .milliseconds(500))
            #expect(feed.current == nil)
            task.cancel()
            await task.value
            #expect(log.segments.count == 1, "the recording went on undisturbed")
        }
    }

    @Test func aLiveOnlyConnectionWritesNoSegmentAndAnH265CameraGetsAnHvc1Codec() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300",
                                  "--codec", "h265"]) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let feed = LiveFeed()
            let log = EventLog()
            let recorder = CameraRecorder(
                configuration: RecorderConfiguration(
                    url: camera.urls[0], folder: folder, segmentSeconds: 1, live: feed, writesSegments: false),
                onEvent: log.append)
            let task = Task { await recorder.run() }
            let (start, fragments) = try await watch(feed, fragments: 50)
            task.cancel()
            await task.value
            #expect(start.codec.hasPrefix("hvc1.1.6.L"), "\(start.codec)")
            #expect(fragments.count == 50)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "no segment file")
            #expect(log.segments.isEmpty && log.gaps.isEmpty)
        }
    }

    @Test func codecStringsFollowRFC6381() {
        // avcC: version 1, profile High (0x64), compatibility 0, level 3.1 (0x1f)
        let avc: [UInt8] = [0, 0, 0, 15] + Array("avcC".utf8) + [1, 0x64, 0x00, 0x1F, 0xFF]
        #expect(LiveCodec.string(initialization: avc) == "avc1.64001f")
        // hvcC of an x265 Main stream, level 3 (90): general_profile_compatibility 0x60000000, constraint 0x90
        var hvc: [UInt8] = [0, 0, 0, 40] + Array("hvcC".utf8) + [1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 90]
        hvc += [UInt8](repeating: 0, count: 10)
        #expect(LiveCodec.string(initialization: hvc) == "hvc1.1.6.L90.90")
        #expect(LiveCodec.string(initialization: Array("ftypisom".utf8)) == nil)
    }

    /// Subscribes, takes the start and `count` fragments, then leaves.
    private func watch(_ feed: LiveFeed, fragments count: Int) async throws -> (LiveStart, [[UInt8]]) {
        try await withThrowingTaskGroup(of: (LiveStart, [[UInt8]]).self) { group in
            group.addTask {
                var start: LiveStart?
                var fragments: [[UInt8]] = []
                for await message in feed.subscribe() {
                    switch message {
                    case .start(let value): start = value
                    case .fragment(let bytes): fragments.append(bytes)
                    case .interrupted(let code): Issue.record("interrupted: \(code)")
                    }
                    if fragments.count == count { break }
                }
                return (try #require(start), fragments)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                throw EventLog.Timeout(description: "no live picture within 20 s")
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }
}
