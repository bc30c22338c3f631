/// A sentence for a person, in Chinese first and English second.
public struct Message: Sendable, Hashable, Codable, CustomStringConvertible {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public var description: String { en }
}

/// An error with a stable machine-readable code and a message a person can read.
/// Routes map these to HTTP statuses; the command line prints the message.
public protocol CodedError: Error, CustomStringConvertible {
    var code: String { get }
    var message: Message { get }
}

extension CodedError {
    public var description: String { "\(code): \(message.en)" }
}
