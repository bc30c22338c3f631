import CameraKit
import DemoContent
import ExamCore
import Foundation
import VenuePackage
import VenueServer
import VenueStore

/// Puts the demo exam in place through the normal import: a demo issuer key, trusted by this venue,
/// signs a freshly built demo package, which is then imported like any other.
struct DemoSetup {
    let configuration: VenueConfiguration
    let database: VenueDatabase
    let startIn: TimeInterval
    let candidates: Int
    var durationMinutes = 90
    let facePhotos: URL?
    var faceChecks: FaceChecks?
    var skillSitting = false

    func prepare() async throws {
        if try await !database.importedPackages().isEmpty {
            say("demo: the data folder already holds an imported package; using it as it is")
            // A demo folder kept from another day holds a sitting that is over: say so, and how to get a fresh one.
            let demo = try await database.sittings().first { $0.id == DemoPackage.sittingID.rawValue }
            if let demo, !demo.rooms.isEmpty, demo.rooms.allSatisfy({ $0.clock.phase == "over" }) {
                let ended = demo.rooms.compactMap(\.clock.endsAt).max().map { Date(millis: $0).formatted(date: .abbreviated, time: .shortened) }
                say(
                    """
                    demo: the demo sitting in this folder is over\(ended.map { " (it ended \($0))" } ?? ""): candidates can no longer \
                    take it. For a fresh demo exam, stop the server and delete \(configuration.dataDirectory.path), or start with \
                    another --data-dir.
                    演示考试已结束，考生无法再作答。如需新的演示考试，请停止服务并删除 \(configuration.dataDirectory.path)，或换一个 --data-dir 启动。
                    """)
            }
            return
        }
        let fm = FileManager.default
        try fm.createDirectory(at: configuration.trustedIssuers, withIntermediateDirectories: true)
        let keyFile = configuration.dataDirectory.appendingPathComponent("demo-issuer.key")
        let key: IssuerPrivateKey
        if fm.fileExists(atPath: keyFile.path) {
            key = try IssuerPrivateKey.load(from: keyFile)
        } else {
            key = IssuerPrivateKey.generate(issuer: DemoPackage.issuer.id)
            try key.write(
                privateTo: keyFile,
                publicTo: configuration.trustedIssuers.appendingPathComponent("\(DemoPackage.issuer.id).json"))
        }
        let photos = facePhotos.flatMap { fm.fileExists(atPath: $0.path) ? $0 : nil }
        var demo = DemoPackage(startsAt: Date().addingTimeInterval(startIn), candidateCount: candidates, facePhotos: photos)
        demo.durationMinutes = durationMinutes
        demo.faceChecks = faceChecks
        demo.skillSitting = skillSitting
        let file = configuration.dataDirectory.appendingPathComponent("demo-package.kdpkg")
        try PackageWriter.write(demo.contents(), signedWith: key, to: file)
        let summary = try await VenueImporter(database: database, trustedIssuers: configuration.trustedIssuers)
            .importPackage(at: file)
        say("demo: imported \(summary.candidates) candidates (\(photos == nil ? "generated portraits" : "real face photos")); the sitting starts at \(demo.startsAt.formatted(date: .omitted, time: .standard)) server time, or earlier from the invigilator console")
    }
    /// Registers the demo's room cameras, `ROOM=rtsp://…` each, as the demo admin would on the 考场摄像头 tab: one
    /// camera named 演示摄像头 per room, its URL brought up to date if the demo camera moved to another port.
    func registerCameras(_ specs: [String]) async throws {
        guard !specs.isEmpty else { return }
        let login = try await database.staffLogin(
            username: DemoPackage.adminAccount.username, password: DemoPackage.adminAccount.password,
            terminal: TerminalInfo(terminalID: "demo-setup"))
        guard case .staff(let admin) = try await database.session(token: login.token) else { return }
        let existing = try await database.cameras()
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw DemoCameraError(description: "--demo-camera takes ROOM=rtsp://…, not \(spec)")
            }
            let url = try CameraURL(parts[1])
            let name = "演示摄像头"
            if let camera = existing.first(where: { $0.roomId == parts[0] && $0.name == name }) {
                if camera.url != url.masked {
                    _ = try await database.updateCamera(by: admin, id: camera.id, CameraChange(url: (url.string, url.masked)))
                }
            } else {
                _ = try await database.createCamera(
                    by: admin, CameraInput(roomID: parts[0], name: name, url: url.string, maskedURL: url.masked, enabled: true))
            }
            say("demo: room \(parts[0]) has the demo camera \(url.masked)")
        }
        try await database.logout(sessionID: admin.sessionID)
    }
}

struct DemoCameraError: Error, CustomStringConvertible {
    let description: String
}


/// What `venue serve` prints once it listens: where terminals and staff should point their browsers.
struct Banner {
    let host: String
    let port: Int
    let httpsPort: Int?
    let demo: Bool
    let database: VenueDatabase
    /// The one-time password of the first admin account, created on a venue that had none.
    let firstAdminPassword: String?

    func show() async {
        var hosts = host == "0.0.0.0" ? lanAddresses() : [host]
        if hosts.isEmpty { hosts = ["127.0.0.1"] }
        let base = "http://\(hosts[0]):\(port)"
        var lines = [
            "",
            "Kaodian venue is ready 考点服务已启动",
            "  candidate terminal 考生终端:   \(base)/terminal/",
            "  invigilator console 监考台:   \(base)/console/",
            "  venue admin 考点管理:          \(base)/admin/",
            "  examiner scoring 考评员评分:    \(base)/examiner/",
        ]
        if hosts.count > 1 { lines.append("  also reachable at: " + hosts.dropFirst().map { "http://\($0):\(port)/" }.joined(separator: " ")) }
        if let httpsPort {
            lines += [
                "  HTTPS (camera on tablets and terminals 平板和终端使用摄像头须用 HTTPS): https://\(hosts[0]):\(httpsPort)/",
                "    install the venue certificate on each device once 每台设备安装一次考点证书: \(base)/venue-ca.crt",
            ]
        }
        if let firstAdminPassword {
            lines += [
                "first run 首次启动: admin account 管理员账号 admin, one-time password 一次性密码 \(firstAdminPassword)",
                "  (also in DATA/initial-admin-password.txt; it must be changed at the first login 首次登录须修改密码)",
            ]
        }
        if demo {
            let first = DemoPackage.candidateCredentials(0)
            let second = DemoPackage.candidateCredentials(1)
            lines += [
                "demo credentials 演示账号:",
                "  candidate 考生: admission number 准考证号 \(first.admissionNumber), ID number 身份证号 \(first.idNumber) (\(first.name))",
                "                 admission number 准考证号 \(second.admissionNumber), ID number 身份证号 \(second.idNumber) (\(second.name))",
                "  invigilator 监考员: \(DemoPackage.invigilatorUsername(room: 1)) / \(DemoPackage.invigilatorPassword)  (room R01; \(DemoPackage.invigilatorUsername(room: 2)) for R02)",
                "  admin 管理员: \(DemoPackage.adminAccount.username) / \(DemoPackage.adminAccount.password)",
            ]
            if (try? await database.sittings())?.contains(where: { $0.id == DemoPackage.skillSittingID.rawValue }) == true {
                lines.append(
                    "  examiner 考评员 (skill sitting 技能操作): \(DemoPackage.examinerUsername(room: 1)) / \(DemoPackage.invigilatorPassword)  (room R01; \(DemoPackage.examinerUsername(room: 2)) for R02)")
            }
        }
        say(lines.joined(separator: "\n"))
    }
}

/// IPv4 addresses of the machine's network interfaces, loopback last.
func lanAddresses() -> [String] {
    var result: [String] = []
    var pointer: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&pointer) == 0, let first = pointer else { return [] }
    defer { freeifaddrs(pointer) }
    for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
        guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == UInt16(AF_INET) else { continue }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        if getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
            result.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }
    return result.filter { !$0.hasPrefix("127.") } + result.filter { $0.hasPrefix("127.") }
}
