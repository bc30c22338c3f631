import Foundation
import Testing

@testable import ExamCore

@Suite("Time rules by the server clock")
struct TimingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSittingWaitsUntilItsScheduledStartAndThenRunsForItsDuration() {
        let clock = SittingClock(scheduledStart: start, duration: 3600)
        #expect(clock.phase(now: start.addingTimeInterval(-1)) == .waiting(startsAt: start))
        #expect(clock.phase(now: start) == .running(startedAt: start, endsAt: start.addingTimeInterval(3600)))
        #expect(clock.phase(now: start.addingTimeInterval(3600)) == .over(endedAt: start.addingTimeInterval(3600)))
    }

    @Test func anInvigilatorCanStartEarlyAndTheDurationCountsFromThen() {
        let early = start.addingTimeInterval(-600)
        let clock = SittingClock(scheduledStart: start, duration: 3600, startedAt: early)
        #expect(clock.phase(now: early.addingTimeInterval(1)) == .running(startedAt: early, endsAt: early.addingTimeInterval(3600)))
    }

    @Test func anExtensionMovesTheEndForThatCandidateOnly() {
        let clock = SittingClock(scheduledStart: start, duration: 3600)
        let late = start.addingTimeInterval(3700)
        #expect(clock.phase(attemptExtension: 0, now: late) == .over(endedAt: start.addingTimeInterval(3600)))
        #expect(clock.phase(attemptExtension: 300, now: late) == .running(startedAt: start, endsAt: start.addingTimeInterval(3900)))
        var extended = clock
        extended.sittingExtension = 600
        #expect(extended.end(attemptExtension: 300, now: late) == start.addingTimeInterval(4500))
    }

    @Test func noAnswerIsAcceptedBeforeTheStartAfterTheEndOrAfterSubmission() {
        let clock = SittingClock(scheduledStart: start, duration: 3600)
        #expect(throws: AttemptRuleError.notStarted(startsAt: start)) {
            try AttemptRuleError.checkAcceptsChange(status: .waiting, phase: clock.phase(now: start.addingTimeInterval(-5)))
        }
        #expect(throws: AttemptRuleError.timeIsUp(endedAt: start.addingTimeInterval(3600))) {
            try AttemptRuleError.checkAcceptsChange(status: .answering, phase: clock.phase(now: start.addingTimeInterval(3600)))
        }
        #expect(throws: AttemptRuleError.alreadySubmitted) {
            try AttemptRuleError.checkAcceptsChange(status: .submitted, phase: clock.phase(now: start.addingTimeInterval(10)))
        }
        #expect(throws: Never.self) {
            try AttemptRuleError.checkAcceptsChange(status: .answering, phase: clock.phase(now: start.addingTimeInterval(3599.9)))
        }
    }

    @Test func closingASittingEarlyEndsEveryAttempt() {
        let clock = SittingClock(scheduledStart: start, duration: 3600, closedAt: start.addingTimeInterval(100))
        #expect(clock.phase(attemptExtension: 600, now: start.addingTimeInterval(101)) == .over(endedAt: start.addingTimeInterval(100)))
    }
}

@Suite("Answers are checked against their question")
struct ResponseTests {
    let single = Question(
        id: "q", stem: "s", points: 1, content: .singleChoice(options: [.init(id: "a", text: "A"), .init(id: "b", text: "B")], correct: "a"))
    let blanks = Question(id: "f", stem: "f", points: 2, content: .fillBlank(blanks: [.init(accepted: ["x"]), .init(accepted: ["y"])]))

    @Test func aValidAnswerIsStoredInCanonicalForm() throws {
        let response = try Response.decode(Data(#"{ "choice" : "b" }"#.utf8), for: single)
        #expect(response == .choice("b"))
        #expect(String(decoding: response.canonicalJSON(), as: UTF8.self) == #"{"choice":"b"}"#)
        let text = Response.text("电流/电压\n第二行")
        #expect(String(decoding: text.canonicalJSON(), as: UTF8.self) == #"{"text":"电流/电压\n第二行"}"#)
    }

    @Test func answersOfTheWrongShapeOrWithUnknownOptionsAreRefused() {
        #expect(throws: ResponseError.unknownOption("q", "z")) { try Response.decode(Data(#"{"choice":"z"}"#.utf8), for: single) }
        #expect(throws: ResponseError.wrongShape("q", .singleChoice)) { try Response.decode(Data(#"{"text":"a"}"#.utf8), for: single) }
        #expect(throws: ResponseError.wrongBlankCount("f", expected: 2)) { try Response.decode(Data(#"{"blanks":["x"]}"#.utf8), for: blanks) }
        #expect(throws: ResponseError.wrongShape("q", .singleChoice)) { try Response.decode(Data("not json".utf8), for: single) }
    }

    @Test func overlongTextIsRefused() {
        let essay = Question(id: "e", stem: "e", points: 1, content: .essay(reference: nil, scheme: []))
        let body = try! JSONEncoder().encode(["text": String(repeating: "字", count: Response.maxTextCharacters + 1)])
        #expect(throws: ResponseError.tooLong("e", limit: Response.maxTextCharacters)) { try Response.decode(body, for: essay) }
    }
}

@Suite("Identity numbers")
struct IdentityNumberTests {
    @Test func eighteenDigitNumbersNeedTheRightCheckDigit() {
        #expect(IdentityNumber.isValid("11010519491231002X"))
        #expect(IdentityNumber.isValid("11010519491231002x"))
        #expect(!IdentityNumber.isValid("110105194912310021"))
        #expect(IdentityNumber.isValid("E12345678"))  // a passport
        #expect(!IdentityNumber.isValid("12"))
        #expect(!IdentityNumber.isValid("1101 0519"))
    }
}

@Suite("Question content checks")
struct QuestionProblemTests {
    @Test func aChoiceQuestionWhoseAnswerIsNotAnOptionIsReported() {
        let question = Question(
            id: "q", stem: "s", points: 1, content: .singleChoice(options: [.init(id: "a", text: "A"), .init(id: "b", text: "B")], correct: "c"))
        #expect(question.problems().map(\.en) == ["question q: the answer c is not one of its options"])
    }

    @Test func aFlowchartWhoseOrderMissesAStepIsReported() {
        let question = Question(
            id: "f", stem: "s", points: 1,
            content: .flowchart(steps: [.init(id: "1", text: "a"), .init(id: "2", text: "b")], correct: ["1"], asksDescription: false))
        #expect(question.problems().count == 1)
    }
}

@Suite("Canonical answer JSON")
struct CanonicalJSONTests {
    /// The stored bytes must stay exactly what `JSONEncoder` (sorted keys, unescaped slashes) writes.
    @Test func theHandWrittenFormMatchesJSONEncoderForEveryKindOfText() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var samples = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["电流/电压\n第二行", "引号\"和\\反斜杠", "emoji 🔌⚡", "\u{2028}\u{2029}", "\u{FEFF}bom", "e\u{301}", "𠮷", ""]
        struct Thesis: Encodable {
            var text: String
            var attachment: AttachmentReference?
        }
        struct Calculation: Encodable {
            var value: String
            var working: String
        }
        struct Order: Encodable {
            var order: [String]
            var description: String
        }
        for text in samples {
            #expect(Response.text(text).canonicalJSON() == (try encoder.encode(["text": text])))
            #expect(Response.choices([text, "b"]).canonicalJSON() == (try encoder.encode(["choices": [text, "b"]])))
            #expect(
                Response.calculation(value: text, working: "w/" + text).canonicalJSON()
                    == (try encoder.encode(Calculation(value: text, working: "w/" + text))))
            #expect(
                Response.order(steps: ["s1", text], description: text).canonicalJSON()
                    == (try encoder.encode(Order(order: ["s1", text], description: text))))
            let attachment = AttachmentReference(id: "id-1", name: text + ".pdf", bytes: 12_345, sha256: "ab")
            #expect(
                Response.thesis(text: text, attachment: attachment).canonicalJSON()
                    == (try encoder.encode(Thesis(text: text, attachment: attachment))))
        }
        #expect(Response.truth(true).canonicalJSON() == (try encoder.encode(["value": true])))
        #expect(Response.thesis(text: "x", attachment: nil).canonicalJSON() == Data(#"{"text":"x"}"#.utf8))
    }
}

@Suite("Random face re-checks")
struct RecheckMomentTests {
    @Test func theMomentsAreSpreadOverTheMiddleOfTheExamOnePerSlice() {
        let checks = FaceChecks(rechecks: 4)
        let duration: TimeInterval = 5400
        let moments = checks.recheckMoments(seed: 42, durationSeconds: duration)
        #expect(moments.count == 4)
        let slice = duration * 0.8 / 4
        for (index, moment) in moments.enumerated() {
            let from = duration * 0.1 + slice * Double(index)
            #expect(moment >= from && moment < from + slice, "moment \(index) at \(moment)s")
        }
    }

    @Test func theSameAttemptGetsTheSameMomentsAndOthersGetOthers() {
        let checks = FaceChecks(rechecks: 3)
        #expect(checks.recheckMoments(seed: 7, durationSeconds: 3600) == checks.recheckMoments(seed: 7, durationSeconds: 3600))
        let others = Set((1...20).map { checks.recheckMoments(seed: Int64($0), durationSeconds: 3600)[0] })
        #expect(others.count == 20)
    }

    @Test func noneOrTooManyAreHandled() {
        #expect(FaceChecks(selfCheckIn: true, rechecks: 0).recheckMoments(seed: 1, durationSeconds: 3600).isEmpty)
        #expect(FaceChecks(rechecks: 99).recheckMoments(seed: 1, durationSeconds: 3600).count == FaceChecks.maxRechecks)
        #expect(FaceChecks(rechecks: 2).recheckMoments(seed: 1, durationSeconds: 0).isEmpty)
    }
}
