import Hummingbird
import NIOCore

/// The request context of the venue API: where the request came from, and a larger upload limit for
/// JSON bodies than Hummingbird's default (autosaves of long essays).
public struct VenueRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for the terminal record.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { 4 * 1024 * 1024 }
}
