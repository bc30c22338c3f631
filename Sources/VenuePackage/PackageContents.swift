import ExamCore
import Foundation

/// Everything a venue package carries, read and checked, or about to be written.
public struct PackageContents: Sendable {
    public var packageID: String
    public var issuedAt: Date
    public var issuer: Manifest.Issuer
    public var venue: Venue
    public var sittings: [Sitting]
    public var rooms: [Room]
    public var candidates: [Candidate]
    public var seats: [SeatAssignment]
    public var staff: [StaffMember]
    public var questions: [Question]
    public var papers: [Paper]
    /// Skill papers (version 3): the tasks of skill sittings, scored by examiners at the venue.
    public var skillPapers: [SkillPaper]
    /// Photo bytes by their path inside the package (`photos/…`).
    public var photos: [String: Data]

    public init(
        packageID: String = UUID().uuidString.lowercased(), issuedAt: Date = Date(), issuer: Manifest.Issuer,
        venue: Venue, sittings: [Sitting], rooms: [Room], candidates: [Candidate], seats: [SeatAssignment],
        staff: [StaffMember], questions: [Question], papers: [Paper], skillPapers: [SkillPaper] = [], photos: [String: Data]
    ) {
        self.packageID = packageID
        self.issuedAt = issuedAt
        self.issuer = issuer
        self.venue = venue
        self.sittings = sittings
        self.rooms = rooms
        self.candidates = candidates
        self.seats = seats
        self.staff = staff
        self.questions = questions
        self.papers = papers
        self.skillPapers = skillPapers
        self.photos = photos
    }
}

/// Kinds of photo a package may carry. SVG is there for generated placeholder portraits.
public enum PhotoKind: String, Sendable {
    case jpeg, png, svg

    public static let maxBytes = 5 * 1024 * 1024

    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .svg: "image/svg+xml"
        }
    }

    public static func recognise(_ data: Data) -> PhotoKind? {
        let head = [UInt8](data.prefix(512))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if let text = String(bytes: head, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            text.hasPrefix("<svg") || (text.hasPrefix("<?xml") && text.contains("<svg"))
        {
            return .svg
        }
        return nil
    }
}
