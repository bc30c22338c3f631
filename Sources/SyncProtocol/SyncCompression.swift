import CompressNIO
import Foundation
import NIOCore

/// Batches travel gzip-compressed (`Content-Encoding: gzip`) when that saves bytes: on a slow or failing link the
/// results arrive sooner and a cut costs less. The signature is over the uncompressed body, so what is signed and what
/// central keeps do not depend on how the body travelled.
public enum SyncCompression {
    public static let encoding = "gzip"
    /// Bodies smaller than this travel as they are (gzip's header would eat the saving).
    public static let threshold = 1024

    public enum Failure: Error, Equatable {
        /// The body is not gzip, or is damaged.
        case damaged
        /// Uncompressed, the body would be larger than the receiver takes.
        case tooLarge(Int)
    }

    /// The body compressed, or nil when it is small or compressing would not make it smaller.
    public static func compress(_ body: Data) -> Data? {
        guard body.count >= threshold else { return nil }
        var buffer = ByteBuffer(bytes: body)
        guard let compressed = try? buffer.compress(with: .gzip()), compressed.readableBytes < body.count else { return nil }
        return Data(compressed.readableBytesView)
    }

    /// The body as it was before compression, refused when it is not gzip or would grow beyond `maxSize` bytes (a
    /// small body that inflates to gigabytes is stopped at the limit, not unpacked).
    public static func decompress(_ data: Data, maxSize: Int) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        do {
            let plain = try buffer.decompress(with: .gzip(), maxSize: maxSize)
            // The library may stop at the limit without saying so: reaching it counts as going beyond.
            guard plain.readableBytes < maxSize else { throw Failure.tooLarge(maxSize) }
            return Data(plain.readableBytesView)
        } catch let failure as Failure {
            throw failure
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw Failure.tooLarge(maxSize)
        } catch {
            throw Failure.damaged
        }
    }
}
