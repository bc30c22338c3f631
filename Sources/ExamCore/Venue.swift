import Foundation

/// The test site this appliance serves.
public struct Venue: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Venue>
    public var id: ID
    public var name: String
    public init(id: ID, name: String) {
        self.id = id
        self.name = name
    }
}

/// An exam room of the venue with its seats, labelled as printed on the desks.
public struct Room: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Room>
    public var id: ID
    public var name: String
    public var seats: [String]
    public init(id: ID, name: String, seats: [String]) {
        self.id = id
        self.name = name
        self.seats = seats
    }
}

/// Theory (理论知识) or skill (技能操作).
public enum Subject: String, Codable, Sendable {
    case theory, skill
}

/// One sitting (场次) of an exam plan: a paper, a time and the rooms it takes place in.
public struct Sitting: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Sitting>
    public var id: ID
    public var name: String
    public var subject: Subject
    public var occupation: String?
    public var level: String?
    public var paper: Paper.ID
    public var rooms: [Room.ID]
    public var scheduledStart: Date
    public var durationMinutes: Int
    /// Candidates may not log in later than this many minutes after the start (开考后不得入场); nil: no limit.
    public var lateEntryMinutes: Int?
    /// The exam instructions (考试须知) shown before the start.
    public var instructions: String

    public init(
        id: ID, name: String, subject: Subject = .theory, occupation: String? = nil, level: String? = nil,
        paper: Paper.ID, rooms: [Room.ID], scheduledStart: Date, durationMinutes: Int,
        lateEntryMinutes: Int? = nil, instructions: String
    ) {
        self.id = id
        self.name = name
        self.subject = subject
        self.occupation = occupation
        self.level = level
        self.paper = paper
        self.rooms = rooms
        self.scheduledStart = scheduledStart
        self.durationMinutes = durationMinutes
        self.lateEntryMinutes = lateEntryMinutes
        self.instructions = instructions
    }
}

/// A registered candidate; the admission number (准考证号) identifies them.
public struct Candidate: Codable, Sendable, Hashable, Identifiable {
    public typealias ID = Identifier<Candidate>
    public var id: ID { ID(admissionNumber) }
    public var admissionNumber: String
    public var name: String
    public var idNumber: String
    /// Path of the registered photo inside the package.
    public var photo: String
    public var organisation: String?

    public init(admissionNumber: String, name: String, idNumber: String, photo: String, organisation: String? = nil) {
        self.admissionNumber = admissionNumber
        self.name = name
        self.idNumber = idNumber
        self.photo = photo
        self.organisation = organisation
    }
}

/// Where a candidate sits for one sitting.
public struct SeatAssignment: Codable, Sendable, Hashable {
    public var sitting: Sitting.ID
    public var admissionNumber: String
    public var room: Room.ID
    public var seat: String
    public init(sitting: Sitting.ID, admissionNumber: String, room: Room.ID, seat: String) {
        self.sitting = sitting
        self.admissionNumber = admissionNumber
        self.room = room
        self.seat = seat
    }
}

/// What a staff member may do at the venue.
public enum StaffRole: String, Codable, Sendable, CaseIterable {
    case admin, invigilator, examiner, supervisor
}

/// A staff account delivered with the venue package; the password arrives only as a PBKDF2 hash.
public struct StaffMember: Codable, Sendable, Hashable {
    public var username: String
    public var name: String
    public var role: StaffRole
    public var passwordHash: String
    /// Rooms an invigilator or examiner is assigned to; empty for admins and supervisors.
    public var rooms: [Room.ID]
    public init(username: String, name: String, role: StaffRole, passwordHash: String, rooms: [Room.ID] = []) {
        self.username = username
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.rooms = rooms
    }
}

/// Checks the 18-character resident identity number (GB 11643) by its check digit;
/// other documents (passports, Hong Kong, Macao and Taiwan permits) must be 5 to 20 letters and digits.
public enum IdentityNumber {
    public static func normalise(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).uppercased()
    }

    public static func isValid(_ raw: String) -> Bool {
        let value = normalise(raw)
        let chars = Array(value.utf8)
        guard chars.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) else { return false }
        let allDigitsBeforeLast = chars.count == 18 && chars.dropLast().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        if allDigitsBeforeLast {
            return checkDigit(value) == value.last
        }
        return (5...20).contains(chars.count)
    }

    /// The check digit of an 18-digit identity number from its first 17 digits.
    public static func checkDigit(_ value: String) -> Character? {
        let digits = value.prefix(17).compactMap { $0.wholeNumberValue }
        guard digits.count == 17 else { return nil }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return Array("10X98765432")[sum % 11]
    }
}
