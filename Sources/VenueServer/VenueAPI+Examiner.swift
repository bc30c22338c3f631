import ExamCore
import Foundation
import Hummingbird
import VenueStore

/// The examiners' tablets (考评员评分): skill sittings, their candidates, and each examiner's scoring sheet per
/// candidate and task. Examiners see and score the candidates of their own rooms; admins and supervisors every room.
extension VenueAPI {
    static let scoringRoles: Set<StaffRole> = [.examiner, .admin, .supervisor]

    @Sendable func examinerSittings(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[SkillSittingView]> {
        let examiner = try await staff(request, roles: Self.scoringRoles)
        return JSONResponse(try await database.skillSittings(for: examiner))
    }

    @Sendable func examinerCandidates(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<[SkillCandidateView]> {
        let examiner = try await staff(request, roles: Self.scoringRoles)
        return JSONResponse(try await database.skillCandidates(sittingID: try context.parameters.require("sittingId"), for: examiner))
    }

    @Sendable func skillSheet(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SkillSheetView> {
        let examiner = try await staff(request, roles: Self.scoringRoles)
        return JSONResponse(
            try await database.skillSheet(
                sittingID: try context.parameters.require("sittingId"), admissionNumber: try context.parameters.require("admissionNumber"),
                taskID: try context.parameters.require("taskId"), for: examiner))
    }

    struct SheetRequest: Decodable {
        var scores: [String: Double]
        var remark: String?
        var submit: Bool?
    }

    /// Saves the examiner's sheet (a draft), or hands it in with `submit: true`. Supervisors watch; they do not score.
    @Sendable func saveSkillSheet(_ request: Request, context: VenueRequestContext) async throws -> JSONResponse<SkillSheetView> {
        let examiner = try await staff(request, roles: [.examiner, .admin])
        let body = try await request.decode(as: SheetRequest.self, context: context)
        return JSONResponse(
            try await database.saveSkillSheet(
                sittingID: try context.parameters.require("sittingId"), admissionNumber: try context.parameters.require("admissionNumber"),
                taskID: try context.parameters.require("taskId"), scores: body.scores, remark: body.remark, submit: body.submit ?? false,
                by: examiner))
    }
}
