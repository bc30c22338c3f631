import ArgumentParser

// The camera-recording benchmark: N `CameraRecorder`s, then N ffmpeg command lines on the same cameras, each
// measured over the same window (see CameraBench.swift and scripts/bench-cameras.sh).
let command = CameraBench.parseOrExit()
do {
    try await command.run()
} catch {
    CameraBench.exit(withError: error)
}
