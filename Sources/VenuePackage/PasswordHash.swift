import Crypto
import CryptoExtras
import Foundation

/// Staff passwords as packages carry them and the venue stores them:
/// `pbkdf2-sha256$ITERATIONS$SALT$HASH` (salt and hash in base64). The password itself never travels.
public enum PasswordHash {
    public static let defaultIterations = 600_000

    public static func make(_ password: String, iterations: Int = defaultIterations) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let hash = derive(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(hash.base64EncodedString())"
    }

    /// `make` on a dispatch thread: 600,000 rounds take a good part of a second, too long for Swift's cooperative pool
    /// (a server's requests would wait behind it).
    public static func makeAside(_ password: String) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: make(password)) }
        }
    }

    /// `verify` on a dispatch thread, as `makeAside`.
    public static func verifyAside(_ password: String, against stored: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: verify(password, against: stored)) }
        }
    }

    /// True when the password matches; a malformed stored hash never matches.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]),
            (1_000...10_000_000).contains(iterations),
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
            expected.count == 32
        else { return false }
        let actual = derive(password, salt: Array(salt), iterations: iterations)
        // Compare in constant time.
        return zip(actual, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Whether a stored hash has the documented shape (checked at import).
    public static func isWellFormed(_ stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]) else { return false }
        return (1_000...10_000_000).contains(iterations) && Data(base64Encoded: String(parts[2])) != nil
            && Data(base64Encoded: String(parts[3]))?.count == 32
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) -> Data {
        let key = try? KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        return key.map { $0.withUnsafeBytes { Data($0) } } ?? Data()
    }
}
