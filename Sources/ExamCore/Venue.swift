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
    /// Face checks at the terminal; nil (as in packages written before this field) means none.
    public var faceChecks: FaceChecks?

    public init(
        id: ID, name: String, subject: Subject = .theory, occupation: String? = nil, level: String? = nil,
        paper: Paper.ID, rooms: [Room.ID], scheduledStart: Date, durationMinutes: Int,
        lateEntryMinutes: Int? = nil, instructions: String, faceChecks: FaceChecks? = nil
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
        self.faceChecks = faceChecks
    }
}

/// The face checks a sitting asks of the candidate's terminal (the instructions should tell candidates).
public struct FaceChecks: Codable, Sendable, Hashable {
    /// The candidate checks in by face at the terminal before the paper opens; until they are checked in (by the
    /// terminal or by the invigilator) the paper stays closed.
    public var selfCheckIn: Bool
    /// How many times during the exam the terminal takes a picture at a random moment (随机抽检), 0–20.
    public var rechecks: Int

    public static let maxRechecks = 20

    public init(selfCheckIn: Bool = false, rechecks: Int = 0) {
        self.selfCheckIn = selfCheckIn
        self.rechecks = rechecks
    }

    /// The moments of the re-checks, in seconds after the candidate's exam started: one in each of `rechecks`
    /// equal slices of the middle 80% of the exam, at a point drawn from the attempt's seed, so they are spread
    /// over the exam, differ between candidates, and are the same after a restart or a terminal move.
    public func recheckMoments(seed: Int64, durationSeconds: TimeInterval) -> [TimeInterval] {
        let count = max(0, min(rechecks, Self.maxRechecks))
        guard count > 0, durationSeconds > 0 else { return [] }
        var generator = SeededGenerator(seed: UInt64(bitPattern: seed) ^ 0x6661_6365_6368_6563)  // "facechec"
        let start = durationSeconds * 0.1
        let slice = durationSeconds * 0.8 / Double(count)
        return (0..<count).map { index in
            let fraction = Double(generator.next() >> 11) / Double(1 << 53)
            return start + slice * (Double(index) + fraction)
        }
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
    /// Path of the registered photo inside the package, for face sign-in (人脸核验签到); optional.
    public var photo: String?
    public init(
        username: String, name: String, role: StaffRole, passwordHash: String, rooms: [Room.ID] = [], photo: String? = nil
    ) {
        self.username = username
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.rooms = rooms
        self.photo = photo
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
