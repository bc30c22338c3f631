import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection, as a terminal would hold one: a request at a time, its full answer read.
struct HTTPConnection {
    struct Answer {
        var status: HTTPResponseStatus
        var body: ByteBuffer
    }

    let host: String
    let port: Int

    /// Opens a connection and runs `body` with a function that sends requests over it; closes it afterwards.
    func with<T: Sendable>(
        group: any EventLoopGroup,
        _ body: (_ send: (HTTPMethod, String, [(String, String)], ByteBuffer?) async throws -> Answer) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            func send(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)], _ payload: ByteBuffer?) async throws -> Answer {
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Content-Length", value: String(payload?.readableBytes ?? 0))
                if payload != nil { head.headers.add(name: "Content-Type", value: "application/json") }
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                try await outbound.write(.head(head))
                if let payload { try await outbound.write(.body(.byteBuffer(payload))) }
                try await outbound.write(.end(nil))
                var status = HTTPResponseStatus.internalServerError
                var collected = ByteBuffer()
                reading: while let part = try await responses.next() {
                    switch part {
                    case .head(let head): status = head.status
                    case .body(var chunk): collected.writeBuffer(&chunk)
                    case .end: break reading
                    }
                }
                return Answer(status: status, body: collected)
            }
            return try await body(send)
        }
    }
}
