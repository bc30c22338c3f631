import AsyncHTTPClient
import CentralStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Who hears about overdue results and recordings, besides the admin page.
public struct AlertSettings: Sendable {
    public var policy = CompletenessPolicy()
    /// How often completeness is checked.
    public var checkEvery: Duration = .seconds(60)
    public var smtp: SMTPSettings?
    /// An SMS gateway's webhook: central POSTs `{"to": [...], "message": "..."}` as JSON; any 2xx counts as sent.
    public var smsWebhook: String?
    public var smsTo: [String] = []

    public init() {}
}

/// Checks, every `checkEvery`, which sittings' results or recordings are overdue at central; raises and clears the
/// alerts (shown on the admin page), and sends each new alert by e-mail and text message, retrying at the next check
/// until it went out.
public final class CompletenessMonitor: Service, Sendable {
    let database: CentralDatabase
    let settings: AlertSettings
    let logger: Logger

    public init(database: CentralDatabase, settings: AlertSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        // Stops at once on shutdown (the wait between checks is cancelled).
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.check()
                try await Task.sleep(for: self.settings.checkEvery)
            }
        }
    }

    public func check(now: Date = Date()) async {
        do {
            _ = try await database.reconcileCompletenessAlerts(policy: settings.policy, now: now)
            for alert in try await database.alertsToNotify() {
                await notify(alert)
            }
        } catch {
            logger.error("completeness check failed: \(error)")
        }
    }

    func notify(_ alert: CompletenessAlert) async {
        let what = alert.kind == "results" ? ("成绩", "results") : ("录像", "recordings")
        let subject = "【考点】\(alert.venueId) \(alert.sittingId) \(what.0)逾期未到 / \(what.1) overdue"
        let body = """
            中心尚未收齐考点上报的\(what.0)。
            The central office has not received all \(what.1) of this sitting.

            \(alert.detail)

            Raised \(ISO8601DateFormatter().string(from: alert.raisedAt)) · Kaodian central
            """
        var problems: [String] = []
        var emailed = false
        var texted = false
        if let smtp = settings.smtp, alert.emailedAt == nil {
            do {
                try await SMTPMail.send(subject: subject, body: body, settings: smtp)
                emailed = true
            } catch {
                problems.append("e-mail: \(error)")
            }
        }
        if let webhook = settings.smsWebhook, alert.textedAt == nil {
            do {
                try await text(webhook: webhook, message: "\(subject)：\(alert.detail)")
                texted = true
            } catch {
                problems.append("SMS: \(error)")
            }
        }
        guard emailed || texted || !problems.isEmpty else { return }
        if !problems.isEmpty { logger.error("completeness alert \(alert.id) not sent: \(problems.joined(separator: "; "))") }
        try? await database.markAlertNotified(
            id: alert.id, emailed: emailed, texted: texted, error: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    struct TextMessage: Encodable {
        var to: [String]
        var message: String
    }

    func text(webhook: String, message: String) async throws {
        var request = HTTPClientRequest(url: webhook)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(TextMessage(to: settings.smsTo, message: message))))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        _ = try? await response.body.collect(upTo: 1 << 16)
        guard (200..<300).contains(response.status.code) else {
            throw SMTPError(description: "the SMS webhook answered HTTP \(response.status.code)")
        }
    }
}
