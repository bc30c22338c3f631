import GRDB
import Synchronization

/// Group commit: writes that arrive while a commit is under way are gathered and committed together,
/// in one transaction and one disk sync, each inside its own savepoint. A write whose own work fails is rolled
/// back alone; if the commit itself fails, every write of the batch fails. Each caller is answered only once its
/// transaction is durable, so under load durability costs one sync per batch instead of one per write.
final class GroupCommit: Sendable {
    private typealias Operation = @Sendable (Database) throws -> any Sendable
    private struct Pending {
        var operation: Operation
        var continuation: CheckedContinuation<any Sendable, any Error>
    }
    private struct State {
        var pending: [Pending] = []
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// Largest batch per transaction; keeps one commit's latency bounded under a burst.
    let maxBatch: Int

    init(writer: any DatabaseWriter, maxBatch: Int = 1000) {
        self.writer = writer
        self.maxBatch = maxBatch
    }

    /// Runs `operation` in the next group transaction and returns once that transaction is committed.
    func write<T: Sendable>(_ operation: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let startDrain = state.withLock { state in
                state.pending.append(Pending(operation: { try operation($0) }, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
        return value as! T
    }

    private func drain() async {
        while true {
            let batch: [Pending] = state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.draining = false
                    return []
                }
                let count = min(state.pending.count, maxBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            let operations = batch.map(\.operation)
            let results: [Result<any Sendable, any Error>]
            do {
                results = try await writer.write { db in
                    operations.map { operation in
                        Result {
                            var value: (any Sendable)?
                            try db.inSavepoint {
                                value = try operation(db)
                                return .commit
                            }
                            return value!
                        }
                    }
                }
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(with: result)
            }
        }
    }
}
