@testable import CameraKit
import Foundation
import Synchronization
import TestSupport
import Testing

/// Records real RTSP cameras (scripts/rtsp-camera.py) and checks the files with ffprobe and ffmpeg. Serialized:
/// the cameras encode live video and two cores shared with parallel tests would starve them.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CameraRecorderTests {
    @Test func recordsTwoCamerasAtOnceIntoPlayableSegmentsCutAtKeyframes() async throws {
        // Given two cameras sending 640x360 H.264 at 25 fps with a keyframe every second
        try await withTestCamera(["--size", "640x360", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "600",
                                  "--mount", "/a", "--mount", "/b"], mounts: 2) { camera in
            let folders = try (0..<2).map { _ in try temporaryFolder() }
            defer { for folder in folders { try? FileManager.default.removeItem(at: folder) } }
            let logs = [EventLog(), EventLog()]
            let recorders = (0..<2).map { index in
                CameraRecorder(configuration: RecorderConfiguration(
                    url: camera.urls[index], folder: folders[index], segmentSeconds: 3, ioTimeout: .seconds(5)),
                    onEvent: logs[index].append)
            }
            // When both are recorded for about 9 s with 3 s segments, then the recording is cancelled
            let tasks = recorders.map { recorder in Task { await recorder.run() } }
            for log in logs { try await log.wait(for: .seconds(15)) { $0.recordings.count == 1 } }
            let recordingSince = Date()
            try await Task.sleep(for: .seconds(9))
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
            let stoppedAt = Date()
            #expect(stoppedAt.timeIntervalSince(recordingSince) >= 9)

            // Then each camera has consecutive, playable segments that add up to the time recorded
            for (log, folder) in zip(logs, folders) {
                let segments = log.segments
                #expect(segments.count >= 3 && segments.count <= 5, "\(segments.count) segments")
                #expect(segments.map(\.sequence) == Array(0..<segments.count))
                #expect(Set(segments.map(\.session)) == [log.recordings.first?.session])
                let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                #expect(files == segments.map(\.fileName).sorted(), "no .part left, nothing else")
                for (index, segment) in segments.enumerated() {
                    let file = folder.appendingPathComponent(segment.fileName)
                    try expectPlayable(file, segment)
                    #expect(segment.codec == "h264" && segment.width == 640 && segment.height == 360)
                    #expect(!segment.recovered)
                    if index < segments.count - 1 {
                        #expect(segment.duration >= 2.99 && segment.duration < 4.3, "segment \(index): \(segment.duration) s")
                        let next = segments[index + 1]
                        #expect(abs(next.startedAt.timeIntervalSince(segment.endedAt)) < 0.05)
                    }
                }
                // Measured from the first segment's own start: under load the wait above may notice the recording
                // late, and the video rightly holds what came before.
                let total = segments.map(\.duration).reduce(0, +)
                let recordedFor = stoppedAt.timeIntervalSince(segments.first?.startedAt ?? recordingSince)
                #expect(abs(total - recordedFor) < 1.5, "\(total) s of video for \(recordedFor) s recorded")
                #expect(log.gaps.map(\.reason) == ["stopped"])
            }
        }
    }

    @Test func reconnectsAfterAFrozenCameraAndAfterACameraRestartedOnTheSamePort() async throws {
        let cameraArguments = ["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300"]
        try await withTestCamera(cameraArguments) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let log = EventLog()
            let recorder = CameraRecorder(configuration: RecorderConfiguration(
                url: camera.urls[0], folder: folder, segmentSeconds: 60, ioTimeout: .seconds(2),
                backoff: [.seconds(1)]), onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(15)) { $0.recordings.count == 1 }
            try await Task.sleep(for: .seconds(2))

            // Given a camera that freezes (SIGSTOP) while it is recorded
            kill(camera.pid, SIGSTOP)
            let frozenAt = Date()
            // Then within the I/O timeout and a few seconds the recorder reports a timeout and closes the segment
            try await log.wait(for: .seconds(9)) { log in log.reconnecting.contains { $0.error == .timeout } }
            let noticedAfter = Date().timeIntervalSince(frozenAt)
            #expect(noticedAfter < 7, "noticed after \(noticedAfter) s")
            #expect(log.segments.count == 1)
            #expect(log.segments.first?.session == log.recordings.first?.session)
            try await Task.sleep(for: .seconds(1))

            // When it thaws, recording resumes by itself in a new session, with the frozen time reported as a gap
            kill(camera.pid, SIGCONT)
            let thawedAt = Date()
            try await log.wait(for: .seconds(15)) { $0.recordings.count == 2 }
            let sessions = log.recordings.map(\.session)
            #expect(sessions[0] != sessions[1])
            let gap = try #require(log.gaps.first { $0.reason == "camera_timeout" })
            #expect(gap.from <= frozenAt.addingTimeInterval(0.5) && gap.from > frozenAt.addingTimeInterval(-3))
            #expect(gap.to >= thawedAt && gap.to < thawedAt.addingTimeInterval(10))

            // When the camera dies and another starts on the same port, the recorder sees refusals, then records
            let port = camera.port
            kill(camera.pid, SIGKILL)
            try await log.wait(for: .seconds(10)) { log in log.reconnecting.contains { $0.error == .refused } }
            #expect(log.segments.count == 2, "the second session's segment is closed when the camera dies")
            try await withTestCamera(cameraArguments + ["--port", String(port)]) { _ in
                try await log.wait(for: .seconds(15)) { $0.recordings.count == 3 }
            }
            task.cancel()
            await task.value
            #expect(Set(log.recordings.map(\.session)).count == 3)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(!files.contains { $0.hasSuffix(".part") })
            for segment in log.segments {
                try expectPlayable(folder.appendingPathComponent(segment.fileName), segment)
            }
        }
    }

    @Test func aPartFileLeftByACrashIsRecoveredUpToItsLastCompleteFragment() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "500"]) { camera in
            let folder = try temporaryFolder()
            let whole = try temporaryFolder(), cut = try temporaryFolder(), empty = try temporaryFolder()
            defer { for item in [folder, whole, cut, empty] { try? FileManager.default.removeItem(at: item) } }
            let log = EventLog()
            let recorder = CameraRecorder(configuration: RecorderConfiguration(
                url: camera.urls[0], folder: folder, segmentSeconds: 60), onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(15)) { $0.recordings.count == 1 }
            let began = Date()
            try await Task.sleep(for: .seconds(4.5))

            // Given what a power cut leaves mid-segment: a copy of the .part being written, one cut in the middle
            // of its last fragment, and one with only the header
            let parts = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".part") }
            let name = try #require(parts.first)
            #expect(parts.count == 1)
            let copy = try Data(contentsOf: folder.appendingPathComponent(name))
            // A loaded machine may oversleep: the copy holds at most what was recorded until now.
            let recordedFor = Date().timeIntervalSince(began)
            task.cancel()
            await task.value
            let boxes = topLevelBoxes(copy)
            let lastData = try #require(boxes.last { $0.type == "mdat" })
            let moov = try #require(boxes.first { $0.type == "moov" })
            try copy.write(to: whole.appendingPathComponent(name))
            try copy.prefix(lastData.start + (lastData.end - lastData.start) / 2).write(to: cut.appendingPathComponent(name))
            try copy.prefix(moov.end + 100).write(to: empty.appendingPathComponent(name))

            // When they are recovered
            let fromWhole = try CameraRecorder.recoverUnfinished(in: whole)
            let fromCut = try CameraRecorder.recoverUnfinished(in: cut)
            let fromEmpty = try CameraRecorder.recoverUnfinished(in: empty)

            // Then each becomes a playable closed segment up to its last complete fragment, with its identity kept
            let started = try #require(log.segments.first)
            for (recovered, folder) in [(fromWhole, whole), (fromCut, cut)] {
                #expect(recovered.count == 1)
                guard let segment = recovered.first else { continue }
                #expect(segment.recovered)
                #expect(segment.session == started.session && segment.sequence == 0)
                #expect(abs(segment.startedAt.timeIntervalSince(started.startedAt)) < 0.002)
                #expect(segment.codec == "h264" && segment.width == 320 && segment.height == 240)
                #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [segment.fileName])
                try expectPlayable(folder.appendingPathComponent(segment.fileName), segment)
            }
            let wholeSeconds = fromWhole.first?.duration ?? 0
            let cutSeconds = fromCut.first?.duration ?? 0
            #expect(wholeSeconds >= 2.5 && wholeSeconds <= recordedFor + 1.5, "\(wholeSeconds) s of \(recordedFor) s recorded")
            #expect(cutSeconds >= 1.5 && cutSeconds < wholeSeconds, "\(cutSeconds) s of \(wholeSeconds) s")
            #expect(fromEmpty.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
            // And the recording itself was closed normally on cancel: no .part left
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [started.fileName])
        }
    }

    @Test func recordsAnH265CameraTaggedHvc1() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300",
                                  "--codec", "h265"]) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let log = EventLog()
            let recorder = CameraRecorder(configuration: RecorderConfiguration(
                url: camera.urls[0], folder: folder, segmentSeconds: 2), onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(15)) { $0.segments.count == 1 }
            task.cancel()
            await task.value
            let segment = try #require(log.segments.first)
            #expect(segment.codec == "hevc" && segment.width == 320 && segment.height == 240)
            let file = folder.appendingPathComponent(segment.fileName)
            try expectPlayable(file, segment)
            let tag = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                       "stream=codec_tag_string", "-of", "csv=p=0", file.path])
            #expect(tag.output.trimmingCharacters(in: .whitespacesAndNewlines) == "hvc1")
        }
    }

    @Test func aWallClockJumpStartsANewSessionWithoutAGapWhenNoVideoIsMissing() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "300"]) { camera in
            let folder = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let log = EventLog()
            let offset = Mutex<Double>(0)
            let recorder = CameraRecorder(
                configuration: RecorderConfiguration(url: camera.urls[0], folder: folder, segmentSeconds: 60),
                wallClock: { Date().addingTimeInterval(offset.withLock { $0 }) },
                onEvent: log.append)
            let task = Task { await recorder.run() }
            defer { task.cancel() }
            try await log.wait(for: .seconds(15)) { $0.recordings.count == 1 }
            try await Task.sleep(for: .seconds(2))
            // Given the wall clock is set an hour ahead while the camera goes on sending
            offset.withLock { $0 = 3600 }
            // Then the segment is closed at the next keyframe and a new session starts on the new clock
            try await log.wait(for: .seconds(5)) { $0.recordings.count == 2 }
            try await Task.sleep(for: .seconds(1))
            task.cancel()
            await task.value
            let segments = log.segments
            #expect(segments.count == 2)
            #expect(Set(segments.map(\.session)).count == 2 && segments.allSatisfy { $0.sequence == 0 })
            if segments.count == 2 {
                #expect(segments[1].startedAt.timeIntervalSince(segments[0].endedAt) > 3590)
                #expect(segments[0].duration >= 1.5)
                for segment in segments { try expectPlayable(folder.appendingPathComponent(segment.fileName), segment) }
            }
            #expect(log.gaps.map(\.reason) == ["stopped"], "no clock_jump gap: no video is missing")
        }
    }
}

// MARK: - Helpers

/// Events from a recorder's thread, for a test to wait on.
final class EventLog: Sendable {
    private let events = Mutex<[RecorderEvent]>([])

    var append: @Sendable (RecorderEvent) -> Void { { event in self.events.withLock { $0.append(event) } } }
    var all: [RecorderEvent] { events.withLock { $0 } }

    var recordings: [(session: String, codec: String)] {
        all.compactMap { if case .recording(let session, let codec, _, _) = $0 { (session, codec) } else { nil } }
    }
    var segments: [RecordedSegment] {
        all.compactMap { if case .segmentClosed(let segment) = $0 { segment } else { nil } }
    }
    var gaps: [(from: Date, to: Date, reason: String)] {
        all.compactMap { if case .gap(let from, let to, let reason) = $0 { (from, to, reason) } else { nil } }
    }
    var reconnecting: [(since: Date, error: CameraError)] {
        all.compactMap { if case .reconnecting(let since, let error, _) = $0 { (since, error) } else { nil } }
    }

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Waits until `condition` holds, polling; throws after `limit`.
    func wait(for limit: Duration, until condition: (EventLog) -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition(self) {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "timed out; events: \(all)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recorder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// ffprobe's duration matches the reported one, ffmpeg decodes it without a word, size and SHA-256 match.
func expectPlayable(_ file: URL, _ segment: RecordedSegment, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let probe = try runTool("/usr/bin/ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                                 file.path])
    let probed = Double(probe.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    #expect(probe.status == 0 && abs(probed - segment.duration) <= 0.3,
            "\(segment.fileName): ffprobe \(probed) s, reported \(segment.duration) s \(probe.errors)",
            sourceLocation: sourceLocation)
    let decode = try runTool("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", file.path, "-f", "null", "-"])
    #expect(decode.status == 0 && decode.errors.isEmpty, "\(segment.fileName): \(decode.errors)",
            sourceLocation: sourceLocation)
    let sum = try runTool("/usr/bin/sha256sum", [file.path])
    #expect(sum.output.split(separator: " ").first.map(String.init) == segment.sha256, sourceLocation: sourceLocation)
    let bytes = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int
    #expect(bytes == segment.bytes, sourceLocation: sourceLocation)
}

/// Top-level MP4 boxes (type, start, end) of `data`, stopping at the first incomplete one.
func topLevelBoxes(_ data: Data) -> [(type: String, start: Int, end: Int)] {
    let bytes = [UInt8](data)
    var boxes: [(type: String, start: Int, end: Int)] = []
    var offset = 0
    while offset + 8 <= bytes.count {
        let size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        guard size >= 8, offset + size <= bytes.count else { break }
        boxes.append((String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self), offset, offset + size))
        offset += size
    }
    return boxes
}
