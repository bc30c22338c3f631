import Foundation

/// Runs a tool to completion (standard input empty); its output goes through files, so neither pipe can fill up and
/// block it. A tool that leaves a daemon behind holding these files is still seen to exit.
public func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)")
    let outURL = scratch.appendingPathExtension("out"), errURL = scratch.appendingPathExtension("err")
    for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8),
            try String(contentsOf: errURL, encoding: .utf8))
}
