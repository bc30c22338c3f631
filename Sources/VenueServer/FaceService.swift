import ExamCore
import FaceEngine
import Foundation
import Logging
import ServiceLifecycle
import VenueStore

extension FaceError: CodedError {
    public var message: Message { Message(zh: messageZh, en: messageEn) }
}

/// The venue's face verification: the engine (when its models loaded) and the enrolment of registered photos.
/// Enrolment runs in the background after start-up and after every import, so a large package does not hold up the
/// import; its progress and the photos that could not be used are on the admin page.
public final class FaceService: Service, Sendable {
    public let engine: FaceEngine?
    /// Why face verification is off, when the engine did not load.
    public let unavailable: FaceError?
    let database: VenueDatabase
    let logger: Logger
    private let kicks: AsyncStream<Void>
    private let kickContinuation: AsyncStream<Void>.Continuation

    public init(database: VenueDatabase, modelsFolder: URL, logger: Logger) {
        self.database = database
        self.logger = logger
        do throws(FaceError) {
            engine = try FaceEngine(modelsFolder: modelsFolder)
            unavailable = nil
        } catch {
            engine = nil
            unavailable = error
            logger.warning("face verification is off: \(error.messageEn)")
        }
        (kicks, kickContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        kickContinuation.yield()
    }

    /// The engine, or the error that says why there is none.
    func requireEngine() throws(FaceError) -> FaceEngine {
        guard let engine else { throw unavailable ?? .modelUnavailable("no models") }
        return engine
    }

    /// Asks the enrolment loop to look for photos without templates (after an import).
    public func enrolNewPhotos() { kickContinuation.yield() }

    public func run() async throws {
        // Without an engine there is nothing to enrol, but the service must stay until shutdown: a service that
        // returns early stops the whole server.
        guard let engine else {
            try? await gracefulShutdown()
            return
        }
        await withGracefulShutdownHandler {
            for await _ in kicks {
                await enrolPending(engine)
            }
        } onGracefulShutdown: {
            self.kickContinuation.finish()
        }
    }

    /// Enrols every photo that has no template for the engine's model yet.
    public func enrolPending(_ engine: FaceEngine) async {
        while !Task.isCancelled {
            let work: [EnrolmentWork]
            do {
                work = try await database.enrolmentWork(model: engine.modelName, limit: 32)
            } catch {
                logger.error("face enrolment: \(error)")
                return
            }
            if work.isEmpty { break }
            let outcomes = await withTaskGroup(of: EnrolmentOutcome.self) { group in
                for person in work {
                    group.addTask {
                        do throws(FaceError) {
                            let template = try await engine.enrol(person.photo)
                            return EnrolmentOutcome(work: person, template: template.bytes)
                        } catch {
                            return EnrolmentOutcome(
                                work: person, template: nil, problem: error.code, detail: error.messageZh)
                        }
                    }
                }
                return await group.reduce(into: [EnrolmentOutcome]()) { $0.append($1) }
            }
            let saved: Bool
            do {
                try await database.saveEnrolments(outcomes, model: engine.modelName)
                saved = true
            } catch {
                logger.error("face enrolment: \(error)")
                saved = false
            }
            // Nothing could be stored: stop rather than try the same photos for ever; the next import tries again.
            if !saved { break }
        }
        if let status = try? await database.enrolmentStatus(model: engine.modelName) {
            logger.info("face enrolment: \(status.enrolled) templates, \(status.problems.count) photos that cannot be used")
        }
    }
}
