import CameraKit
import Foundation
import TestSupport
import Testing

/// Probes real RTSP cameras (scripts/rtsp-camera.py, GStreamer) on loopback. Serialized: each camera encodes
/// live video, and two cores shared by parallel encoders would skew the frame rates and bitrates measured.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CameraProbeTests {
    @Test func reportsCodecSizeFrameRateAndMeasuredBitrateOfAnH264Camera() async throws {
        // Given a camera sending 640x360 H.264 at 25 fps and 1000 kb/s
        try await withTestCamera(["--size", "640x360", "--fps", "25", "--bitrate-kbps", "1000"]) { camera in
            // When it is probed
            let info = try await CameraProbe.probe(url: camera.urls[0], timeout: .seconds(10))
            // Then the probe reports what the camera sends
            #expect(info.codec == "h264")
            #expect(info.width == 640)
            #expect(info.height == 360)
            #expect(abs(info.framesPerSecond - 25) < 0.5)
            #expect(info.bitrate > 500_000 && info.bitrate < 1_600_000, "measured \(info.bitrate) b/s for 1000 kb/s")
            #expect(info.measuredSeconds >= 2.5)
            #expect(!info.hasAudio)
            #expect(info.summary.hasPrefix("codec=h264 width=640 height=360 fps=25.00 bitrate="))
        }
    }

    @Test func reportsAnotherSizeAndFrameRateOnASecondMount() async throws {
        try await withTestCamera(["--size", "320x240", "--fps", "15", "--bitrate-kbps", "400",
                                  "--mount", "/main", "--mount", "/sub"], mounts: 2) { camera in
            let info = try await CameraProbe.probe(url: camera.urls[1], timeout: .seconds(10))
            #expect(camera.urls[1].hasSuffix("/sub"))
            #expect(info.codec == "h264")
            #expect(info.width == 320 && info.height == 240)
            #expect(abs(info.framesPerSecond - 15) < 0.5)
            #expect(info.bitrate > 200_000 && info.bitrate < 650_000, "measured \(info.bitrate) b/s for 400 kb/s")
        }
    }

    @Test func acceptsTheRightPasswordAndRejectsAWrongOneWithoutEverShowingIt() async throws {
        try await withTestCamera(["--size", "320x240", "--user", "admin", "--password", "Secret-9b1"]) { camera in
            let withCredentials = { (password: String) in
                camera.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://admin:\(password)@")
            }
            let info = try await CameraProbe.probe(url: withCredentials("Secret-9b1"), timeout: .seconds(10))
            #expect(info.codec == "h264")

            let error = await probeError(withCredentials("Wrong-Pass-77"))
            #expect(error == .unauthorised)
            #expect(error?.code == "camera_unauthorised")
            for text in [error?.description ?? "", error?.messageZh ?? "", error?.messageEn ?? ""] {
                #expect(!text.contains("Wrong-Pass-77"))
            }
            #expect(await probeError(camera.urls[0]) == .unauthorised)  // no credentials at all
        }
    }

    @Test func digestAndBasicAuthenticationBothWork() async throws {
        try await withTestCamera(["--size", "320x240", "--user", "u", "--password", "p4ss", "--auth", "basic"]) { camera in
            let url = camera.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://u:p4ss@")
            let info = try await CameraProbe.probe(url: url, timeout: .seconds(10))
            #expect(info.codec == "h264")
        }
    }

    @Test func reportsRefusedWhenNothingListens() async throws {
        let error = await probeError("rtsp://127.0.0.1:\(unusedPort())/cam1")
        #expect(error == .refused)
        #expect(error?.code == "camera_refused")
    }

    @Test func reportsNotFoundForAWrongStreamPathAndAnUnknownHost() async throws {
        try await withTestCamera(["--size", "320x240"]) { camera in
            #expect(await probeError(camera.urls[0] + "-nope") == .notFound)
        }
        #expect(await probeError("rtsp://no-such-camera.invalid/stream1") == .notFound)
    }

    @Test func refusesAnMJPEGCameraAsUnsupported() async throws {
        try await withTestCamera(["--size", "320x240", "--codec", "mjpeg"]) { camera in
            let error = await probeError(camera.urls[0])
            #expect(error == .unsupportedCodec("MJPEG"))
            #expect(error?.code == "camera_unsupported_codec")
        }
    }

    @Test func givesUpOnAFrozenCameraWithinTheTimeout() async throws {
        try await withTestCamera(["--size", "320x240"]) { camera in
            // Given a camera that stops dead (SIGSTOP) right after it started listening
            kill(camera.pid, SIGSTOP)
            defer { kill(camera.pid, SIGCONT) }
            // When it is probed with a 3 s timeout
            let started = ContinuousClock.now
            let error = await probeError(camera.urls[0], timeout: .seconds(3))
            let elapsed = ContinuousClock.now - started
            // Then the probe reports a timeout within about the timeout, not never
            #expect(error == .timeout)
            #expect(elapsed >= .seconds(2.5) && elapsed < .seconds(8), "gave up after \(elapsed)")
        }
    }

    @Test func givesUpWhenACameraFreezesWhileTheBitrateIsMeasured() async throws {
        try await withTestCamera(["--size", "320x240"]) { camera in
            let pid = camera.pid
            // Freeze it one second into the probe: after the stream info, during the measurement.
            let freezer = Task {
                try await Task.sleep(for: .seconds(1.5))
                kill(pid, SIGSTOP)
            }
            defer { kill(pid, SIGCONT) }
            let probe = CameraProbe(measureFor: .seconds(30))
            let started = ContinuousClock.now
            var caught: CameraError?
            do throws(CameraError) {
                _ = try await probe.probe(url: camera.urls[0], timeout: .seconds(3))
            } catch {
                caught = error
            }
            _ = try? await freezer.value
            // A frozen camera is noticed: either as a timeout or with what was read before it froze, never for ever.
            #expect(ContinuousClock.now - started < .seconds(45))
            #expect(caught == nil || caught == .timeout)
        }
    }

    @Test(arguments: ["http://127.0.0.1/cam1", "garbage", "", "rtsp://", "rtsp://host:99999/x", "file:///etc/passwd",
                      "/tmp/clip.mp4", "rtsp://bad host/x"])
    func refusesAnAddressThatIsNotAnRTSPURL(_ text: String) async throws {
        let error = await probeError(text)
        #expect(error?.code == "camera_bad_url")
    }

    @Test func masksThePasswordInTheURL() throws {
        let url = try CameraURL("rtsp://admin:p@ss:w0rd@192.168.1.64:554/Streaming/Channels/101")
        #expect(url.masked == "rtsp://admin:***@192.168.1.64:554/Streaming/Channels/101")
        #expect(url.host == "192.168.1.64" && url.port == 554 && url.user == "admin")
        #expect(try CameraURL("RTSPS://[fe80::1]/live").port == 322)
        #expect(try CameraURL("rtsp://cam.local/live").masked == "rtsp://cam.local/live")
        #expect(maskCredentials(in: "open rtsp://u:secret@h/x failed") == "open rtsp://u:***@h/x failed")
    }

    @Test func cancellingTheProbingTaskEndsABlockedProbe() async throws {
        try await withTestCamera(["--size", "320x240"]) { camera in
            kill(camera.pid, SIGSTOP)
            defer { kill(camera.pid, SIGCONT) }
            let url = camera.urls[0]
            let started = ContinuousClock.now
            let task = Task { () -> CameraError? in await probeError(url, timeout: .seconds(60)) }
            try await Task.sleep(for: .seconds(1))
            task.cancel()
            let error = await task.value
            #expect(error?.code == "camera_failed")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}

/// The error a probe of `url` ends with, or nil if it succeeded.
func probeError(_ url: String, timeout: Duration = .seconds(10)) async -> CameraError? {
    do throws(CameraError) {
        _ = try await CameraProbe.probe(url: url, timeout: timeout)
        return nil
    } catch {
        return error
    }
}
