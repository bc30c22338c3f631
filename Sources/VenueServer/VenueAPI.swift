import ExamCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SignInGuard
import VenuePackage
import VenueStore

/// The venue's HTTP API: routes translate requests into `VenueDatabase` calls and answers into JSON.
struct VenueAPI: Sendable {
    let database: VenueDatabase
    let presence: Presence
    /// Folder of the central offices' public keys this venue trusts.
    let trustedIssuers: URL
    /// Where uploaded packages wait while they are checked.
    let incoming: URL
    /// Failed logins, to slow down guessing.
    let throttle: LoginThrottle
    /// Face verification: the engine (if its models loaded) and enrolment.
    let face: FaceService
    /// The room cameras' recorders.
    let recorder: RecorderService
    /// Reports results and video to the central office.
    let sync: SyncAgent
    /// The HTTPS port and the certificate authority devices install to trust it, when the venue serves HTTPS.
    let https: (port: Int, authorityPEM: String)?
    let logger: Logger

    /// Every route of the venue. The roles each one admits are declared in docs/openapi.yaml (`x-roles`), and a
    /// test checks every route against every role.
    func addRoutes(to router: Router<VenueRequestContext>) {
        router.get("healthz") { _, _ in HealthAnswer(status: "ok", httpsPort: https?.port) }
        router.get("venue-ca.crt", use: certificateAuthority)

        let api = router.group("api")
        // Candidate terminal
        api.post("candidate/login", use: candidateLogin)
        api.get("attempt", use: attemptState)
        api.post("attempt/heartbeat", use: heartbeat)
        api.get("attempt/paper", use: attemptPaper)
        api.post("attempt/answers", use: saveAnswers)
        api.post("attempt/events", use: recordEvents)
        api.post("attempt/attachments", use: uploadAttachment)
        api.get("attempt/attachments/:attachmentId", use: candidateAttachment)
        api.post("attempt/submit", use: submit)
        api.get("attempt/photo", use: candidatePhoto)
        api.post("attempt/face-check", use: terminalFaceCheck)
        // Staff accounts
        api.post("staff/login", use: staffLogin)
        api.get("staff/me", use: staffMe)
        api.post("staff/password", use: changePassword)
        api.post("session/logout", use: logout)
        api.post("staff/face-sign-in", use: staffFaceSignIn)
        api.get("staff/face-sign-ins", use: staffFaceSignIns)
        // Invigilator console
        api.get("console/sittings", use: consoleSittings)
        api.post("console/sittings/:sittingId/start", use: startSitting)
        let room = api.group("console/sittings/:sittingId/rooms/:roomId")
        room.get("", use: roomView)
        room.get("live", use: roomLive)
        room.get("record", use: roomReport)
        room.post("start", use: startRoom)
        room.post("pause", use: pauseRoom)
        room.post("resume", use: resumeRoom)
        room.post("end", use: endRoom)
        room.post("extensions", use: extendTime)
        room.post("incidents", use: recordIncident)
        room.post("candidates/:admissionNumber/check-in", use: checkIn)
        room.post("candidates/:admissionNumber/face-check", use: faceCheck)
        room.get("face-verifications", use: roomFaceVerifications)
        room.post("candidates/:admissionNumber/absent", use: markAbsent)
        room.post("candidates/:admissionNumber/force-submit", use: forceSubmit)
        room.post("moves/:moveId/approve", use: approveMove)
        room.post("moves/:moveId/reject", use: rejectMove)
        // Examiners' tablets: skill sittings and scoring sheets
        api.get("examiner/sittings", use: examinerSittings)
        api.get("examiner/sittings/:sittingId/candidates", use: examinerCandidates)
        api.get("examiner/sittings/:sittingId/candidates/:admissionNumber/tasks/:taskId", use: skillSheet)
        api.put("examiner/sittings/:sittingId/candidates/:admissionNumber/tasks/:taskId", use: saveSkillSheet)
        api.get("photos/:admissionNumber", use: staffPhoto)
        api.get("face-verifications/:verificationId/image", use: faceCapture)
        // Venue admin
        api.get("admin/packages", use: importedPackages)
        api.post("admin/packages", use: importPackage)
        api.post("admin/sittings/:sittingId/unseal", use: unsealPaper)
        api.get("admin/sittings/:sittingId/results", use: results)
        api.get("admin/sittings/:sittingId/results.csv", use: resultsCSV)
        api.get("admin/attempts/:attemptId", use: review)
        api.get("admin/attempts/:attemptId/log", use: answerLog)
        api.get("admin/attachments/:attachmentId", use: staffAttachment)
        api.get("admin/staff", use: staffAccounts)
        api.post("admin/staff", use: createStaff)
        api.post("admin/staff/:username", use: updateStaff)
        api.get("admin/audit", use: auditLog)
        api.get("admin/audit.csv", use: auditCSV)
        api.get("admin/face/enrolment", use: faceEnrolment)
        api.get("admin/face/verifications", use: faceVerificationList)
        api.get("admin/face/verifications.csv", use: faceVerificationCSV)
        api.get("admin/cameras", use: cameraList)
        api.post("admin/cameras", use: createCamera)
        api.post("admin/cameras/:cameraId", use: updateCamera)
        api.delete("admin/cameras/:cameraId", use: deleteCamera)
        api.post("admin/cameras/:cameraId/test", use: testCamera)
        api.post("admin/cameras/:cameraId/recording", use: setRecordingMode)
        api.get("admin/recording", use: recordingStatus)
        api.get("admin/recording/alerts", use: recordingAlerts)
        api.get("admin/sync", use: syncStatus)
        api.post("admin/sync/now", use: syncNow)
        // Room cameras: live picture and recordings (admins, and invigilators in their own rooms)
        api.get("rooms/:roomId/cameras", use: roomCameras)
        api.get("rooms/:roomId/cameras/:cameraId/live", use: liveCamera)
        api.get("rooms/:roomId/recordings", use: roomRecordings)
        api.get("rooms/:roomId/recordings/export", use: exportRecording)
        api.post("rooms/:roomId/recordings/upload", use: uploadRecording)
        api.get("rooms/:roomId/recordings/:cameraId/:fileName", use: recordingFile)
    }

    struct HealthAnswer: ResponseEncodable {
        var status: String
        /// Where the same pages are served over HTTPS (needed for the camera on other devices), if they are.
        var httpsPort: Int?
    }

    /// The venue's certificate authority, for devices to install once so that they trust the venue's HTTPS.
    @Sendable func certificateAuthority(_ request: Request, context: VenueRequestContext) async throws -> Response {
        guard let https else { throw StoreError.notFound("HTTPS 证书 / the venue's HTTPS certificate (HTTPS is off)") }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/x-x509-ca-cert",
                .contentDisposition: "attachment; filename=\"\(VenueTLS.authorityFile)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: https.authorityPEM)))
    }

    // MARK: Helpers

    func terminal(_ request: Request, context: VenueRequestContext, id: String) -> TerminalInfo {
        TerminalInfo(terminalID: id, userAgent: request.headers[.userAgent], address: context.remoteAddress)
    }

    /// Photos may be SVG placeholders: served so that no script in them can ever run.
    func photoResponse(_ photo: (contentType: String, data: Data)) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: photo.contentType, .cacheControl: "private, max-age=300",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: photo.data)))
    }

    func fileResponse(_ url: URL, contentType: String, downloadName: String) throws -> Response {
        let data = try Data(contentsOf: url)
        let encoded = downloadName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "attachment"
        return Response(
            status: .ok,
            headers: [
                .contentType: contentType, .cacheControl: "private, no-store",
                .contentDisposition: "attachment; filename*=UTF-8''\(encoded)",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
