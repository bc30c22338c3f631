import DemoContent
import Foundation
import NIOCore
import NIOHTTP1

/// One simulated candidate terminal on its own keep-alive connection, driven entirely on its event loop (no task
/// hops), so the load generator costs little of the CPU it shares with the venue: log in, fetch the paper, then
/// autosave every interval (±20 % jitter) and heartbeat in between, and submit at the end.
final class TerminalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    enum Step { case login, paper, autosave, heartbeat, submit }
    struct Item {
        var id: String
        var type: String
        var options: [String]
        var blanks: Int
    }

    let index: Int
    let host: String
    let metrics: Metrics
    let interval: TimeAmount
    let end: NIODeadline
    let submit: Bool
    let finished: () -> Void

    private var token = ""
    private var items: [Item] = []
    private var seq = 0
    private var inFlight: (step: Step, started: NIODeadline)?
    private var queue: [Step] = []
    private var status: HTTPResponseStatus = .ok
    private var body = ByteBuffer()
    private var done = false

    init(index: Int, host: String, metrics: Metrics, interval: TimeAmount, end: NIODeadline, submit: Bool, finished: @escaping () -> Void) {
        self.index = index
        self.host = host
        self.metrics = metrics
        self.interval = interval
        self.end = end
        self.submit = submit
        self.finished = finished
    }

    func channelActive(context: ChannelHandlerContext) {
        let credentials = DemoPackage.candidateCredentials(index)
        send(.login, method: .POST, uri: "/api/candidate/login", context: context,
             json: #"{"admissionNumber":"\#(credentials.admissionNumber)","idNumber":"\#(credentials.idNumber)","terminalId":"load-\#(index)"}"#)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let (step, started) = inFlight else { return }
            inFlight = nil
            let milliseconds = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            handle(step, milliseconds: milliseconds, context: context)
            if let next = queue.first {
                queue.removeFirst()
                perform(next, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            metrics.error("connection closed")
            finish(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        metrics.error("connection: \(type(of: error))")
        context.close(promise: nil)
    }

    private func handle(_ step: Step, milliseconds: Double, context: ChannelHandlerContext) {
        let ok = status == .ok
        if !ok {
            metrics.error("\(step) \(status.code)")
            if step == .login || step == .paper || step == .submit { return finish(context: context) }
        }
        switch step {
        case .login:
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            token = object?["token"] as? String ?? ""
            metrics.loggedIn()
            perform(.paper, context: context)
        case .paper:
            items = Self.items(in: Data(body.readableBytesView))
            guard !items.isEmpty else {
                metrics.error("paper without questions")
                return finish(context: context)
            }
            // Spread the first save over one interval so candidates do not save in lockstep.
            let first = TimeAmount.nanoseconds(Int64.random(in: 0..<interval.nanoseconds))
            schedule(.autosave, after: first, context: context)
            schedule(.heartbeat, after: first + .nanoseconds(interval.nanoseconds / 2), context: context)
        case .autosave:
            if ok { metrics.autosave(milliseconds) }
            let jitter = Double.random(in: 0.8...1.2)
            schedule(.autosave, after: .nanoseconds(Int64(Double(interval.nanoseconds) * jitter)), context: context)
        case .heartbeat:
            if ok { metrics.heartbeat(milliseconds) }
            schedule(.heartbeat, after: interval, context: context)
        case .submit:
            metrics.submitted()
            finish(context: context)
        }
    }

    private func schedule(_ step: Step, after delay: TimeAmount, context: ChannelHandlerContext) {
        let when = NIODeadline.now() + delay
        if when >= end {
            // The last thing a terminal does: submit (once), or just leave.
            if step == .autosave {
                context.eventLoop.assumeIsolated().scheduleTask(deadline: end) { [self] in
                    if submit { enqueue(.submit, context: context) } else { finish(context: context) }
                }
            }
            return
        }
        context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in enqueue(step, context: context) }
    }

    private func enqueue(_ step: Step, context: ChannelHandlerContext) {
        guard !done else { return }
        if inFlight == nil { perform(step, context: context) } else { queue.append(step) }
    }

    private func perform(_ step: Step, context: ChannelHandlerContext) {
        switch step {
        case .login:
            break
        case .paper:
            send(.paper, method: .GET, uri: "/api/attempt/paper", context: context)
        case .heartbeat:
            send(.heartbeat, method: .POST, uri: "/api/attempt/heartbeat", context: context)
        case .submit:
            send(.submit, method: .POST, uri: "/api/attempt/submit", context: context, json: #"{"confirm":true}"#)
        case .autosave:
            seq += 1
            let item = items[Int.random(in: 0..<items.count)]
            let change = #"{"changeId":"L\#(index)-\#(seq)","questionId":"\#(item.id)","kind":"answer","clientSeq":\#(seq),"response":\#(response(for: item))}"#
            send(.autosave, method: .POST, uri: "/api/attempt/answers", context: context, json: #"{"changes":[\#(change)]}"#)
        }
    }

    private func response(for item: Item) -> String {
        switch item.type {
        case "singleChoice": return #"{"choice":"\#(item.options.randomElement() ?? "a")"}"#
        case "multipleChoice": return #"{"choices":["\#(item.options.shuffled().prefix(2).joined(separator: "\",\""))"]}"#
        case "trueFalse": return #"{"value":\#(Bool.random())}"#
        case "fillBlank": return #"{"blanks":[\#((0..<item.blanks).map { "\"答案\($0)-\(seq)\"" }.joined(separator: ","))]}"#
        default:
            return #"{"text":"考生\#(index)第\#(seq)次保存：\#(String(repeating: "电气安全操作规程。", count: Int.random(in: 1...40)))"}"#
        }
    }

    private func send(_ step: Step, method: HTTPMethod, uri: String, context: ChannelHandlerContext, json: String? = nil) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: host)
        if !token.isEmpty { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let payload = json.map { ByteBuffer(string: $0) }
        head.headers.add(name: "Content-Length", value: String(payload?.readableBytes ?? 0))
        if payload != nil { head.headers.add(name: "Content-Type", value: "application/json") }
        inFlight = (step, .now())
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let payload { context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        context.close(promise: nil)
        finished()
    }

    /// The answerable questions of the types this terminal knows how to answer.
    static func items(in paper: Data) -> [Item] {
        guard let object = try? JSONSerialization.jsonObject(with: paper) as? [String: Any],
            let inner = object["paper"] as? [String: Any], let sections = inner["sections"] as? [[String: Any]]
        else { return [] }
        var result: [Item] = []
        func add(_ item: [String: Any]) {
            if let subs = item["subQuestions"] as? [[String: Any]] { subs.forEach(add) }
            guard let id = item["id"] as? String, let type = item["type"] as? String,
                ["singleChoice", "multipleChoice", "trueFalse", "fillBlank", "shortAnswer", "essay"].contains(type)
            else { return }
            let options = (item["options"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            result.append(Item(id: id, type: type, options: options, blanks: item["blankCount"] as? Int ?? 1))
        }
        for section in sections { (section["items"] as? [[String: Any]] ?? []).forEach(add) }
        return result
    }
}
