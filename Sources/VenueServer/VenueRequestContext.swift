import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the venue API: where the request came from, a larger upload limit for JSON bodies
/// than Hummingbird's default (autosaves of long essays), and the WebSocket upgrade of the cameras' live view.
public struct VenueRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<VenueRequestContext>
    /// The peer's IP address, for the terminal record.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { 4 * 1024 * 1024 }
}
