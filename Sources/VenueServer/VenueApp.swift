import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import SignInGuard
import VenueStore

/// What the venue server needs to run.
public struct VenueConfiguration: Sendable {
    public var dataDirectory: URL
    public var host: String
    public var port: Int
    /// Serve the pages from this folder instead of the copy built into the program (for page development).
    public var webRoot: String?
    /// Face models and `face.json`; without the models the venue runs with face verification off.
    public var faceModels: URL
    /// HTTPS beside HTTP, so that browsers on the LAN may open the camera; nil serves HTTP only.
    public var https: HTTPS?
    /// The room cameras' recordings.
    public var recording: RecordingSettings
    /// Reporting to the central office.
    public var sync = SyncSettings()
    /// How long face pictures taken at the venue, and candidates' face templates, are kept after their sitting ended.
    public var faceKeep: TimeInterval = 90 * 86_400

    public struct HTTPS: Sendable {
        public var port: Int
        public var tls: VenueTLS
        public init(port: Int, tls: VenueTLS) {
            self.port = port
            self.tls = tls
        }
    }

    public init(
        dataDirectory: URL, host: String = "0.0.0.0", port: Int = 8080, webRoot: String? = nil,
        faceModels: URL = VenueConfiguration.defaultFaceModels, https: HTTPS? = nil
    ) {
        self.https = https
        self.recording = RecordingSettings(folder: dataDirectory.appendingPathComponent("recordings", isDirectory: true))
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.webRoot = webRoot
        self.faceModels = faceModels
    }

    /// `$KAODIAN_FACE_MODELS`, else `models` in the working folder.
    public static var defaultFaceModels: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["KAODIAN_FACE_MODELS"] ?? "models", isDirectory: true)
    }

    public var trustedIssuers: URL { dataDirectory.appendingPathComponent("trusted-issuers") }
    public var incoming: URL { dataDirectory.appendingPathComponent("incoming") }
    /// The venue's certificate authority and HTTPS certificate (`VenueTLS`).
    public var tlsFolder: URL { dataDirectory.appendingPathComponent("tls") }
}

/// Wiring: the router with its middleware and routes, and the application with its services.
public enum VenueApp {
    /// Where the pages live: `Public/` copied beside the executable by SwiftPM.
    public static var publicFolder: String {
        Bundle.module.resourceURL?.appendingPathComponent("Public").path ?? "Public"
    }

    /// The router of plain requests (what most tests use).
    public static func buildRouter(
        database: VenueDatabase, configuration: VenueConfiguration, face: FaceService? = nil, recorder: RecorderService? = nil,
        sync: SyncAgent? = nil, logger: Logger
    ) -> Router<VenueRequestContext> {
        buildRouters(database: database, configuration: configuration, face: face, recorder: recorder, sync: sync, logger: logger).http
    }

    /// The router of plain requests, and the one that answers WebSocket upgrade requests (the live view).
    public static func buildRouters(
        database: VenueDatabase, configuration: VenueConfiguration, face: FaceService? = nil, recorder: RecorderService? = nil,
        sync: SyncAgent? = nil, logger: Logger
    ) -> (http: Router<VenueRequestContext>, webSocket: Router<VenueRequestContext>) {
        let sync = sync ?? SyncAgent(database: database, dataDirectory: configuration.dataDirectory, settings: configuration.sync, logger: logger)
        let face = face ?? FaceService(database: database, modelsFolder: configuration.faceModels, logger: logger)
        let recorder = recorder ?? RecorderService(database: database, settings: configuration.recording, logger: logger)
        try? FileManager.default.createDirectory(at: configuration.incoming, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(at: configuration.trustedIssuers, withIntermediateDirectories: true)
        let router = Router(context: VenueRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: PageHeadersMiddleware())
        router.add(middleware: FileMiddleware(configuration.webRoot ?? publicFolder, searchForIndexHtml: true, logger: logger))
        let api = VenueAPI(
            database: database, presence: Presence(), trustedIssuers: configuration.trustedIssuers,
            incoming: configuration.incoming, throttle: LoginThrottle(), face: face, recorder: recorder,
            sync: sync, https: configuration.https.map { (port: $0.port, authorityPEM: $0.tls.authorityPEM) }, logger: logger)
        api.addRoutes(to: router)
        let webSocketRouter = Router(context: VenueRequestContext.self)
        api.addLiveRoutes(to: webSocketRouter)
        return (router, webSocketRouter)
    }

    public static func buildApplication(
        database: VenueDatabase, configuration: VenueConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let face = FaceService(database: database, modelsFolder: configuration.faceModels, logger: logger)
        let recorder = RecorderService(database: database, settings: configuration.recording, logger: logger)
        let sync = SyncAgent(database: database, dataDirectory: configuration.dataDirectory, settings: configuration.sync, logger: logger)
        let routers = buildRouters(
            database: database, configuration: configuration, face: face, recorder: recorder, sync: sync, logger: logger)
        var services: [any Service] = [
            TimeUpService(database: database, logger: logger), face, recorder, sync,
            FaceRetentionService(database: database, keep: configuration.faceKeep, logger: logger),
        ]
        if let https = configuration.https {
            // The same routes over HTTPS, run as a service of the HTTP application so both stop together.
            services.append(
                Application(
                    router: routers.http,
                    server: try .tls(
                        .http1WebSocketUpgrade(webSocketRouter: routers.webSocket),
                        tlsConfiguration: try https.tls.serverConfiguration()),
                    configuration: .init(
                        address: .hostname(configuration.host, port: https.port), serverName: "kaodian-venue", backlog: 4096),
                    logger: logger))
        }
        return Application(
            router: routers.http,
            server: .http1WebSocketUpgrade(webSocketRouter: routers.webSocket),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "kaodian-venue",
                backlog: 4096),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// Security headers for the pages: only this server's scripts, styles and images. Also sends `/terminal`,
/// `/console` and `/admin` typed without the final slash to their pages.
struct PageHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if ["/terminal", "/console", "/admin", "/examiner"].contains(request.uri.path) {
            return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/"])
        }
        var response = try await next(request, context)
        if response.headers[.contentSecurityPolicy] == nil, !request.uri.path.hasPrefix("/api/") {
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
            response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            response.headers[.cacheControl] = "no-cache"
        }
        return response
    }
}
