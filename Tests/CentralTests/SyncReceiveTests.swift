import CentralServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SyncClient
import SyncProtocol
import TestSupport
import Testing

@testable import CentralStore

/// An enrolled venue and its key.
func enrolledVenue(_ database: CentralDatabase, _ id: String = "V-SYNC") async throws -> Curve25519.Signing.PrivateKey {
    let (_, code) = try await database.addVenue(id: id, name: "同步考点")
    let key = Curve25519.Signing.PrivateKey()
    _ = try await database.enrol(venueID: id, code: code, publicKey: key.publicKey.rawRepresentation)
    return key
}

/// An item as the venue's outbox writes it.
func item(_ kind: String, seq: Int64, sitting: String? = "S1", id: String = UUID().uuidString.lowercased(), _ payload: [String: Any]) -> SyncItem {
    let data = try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    return SyncItem(id: id, seq: seq, kind: kind, sittingId: sitting, createdAt: 1_790_000_000_000 + seq, payload: String(decoding: data, as: UTF8.self))
}

/// A small sitting's worth of items: an attempt begun, two answers, its submission with scores, a check-in, a
/// segment.
func sittingItems() -> [SyncItem] {
    let attempt: [String: Any] = [
        "id": "A1", "sittingId": "S1", "admissionNumber": "2026000001", "roomId": "R01", "status": "waiting",
        "createdAt": 1_790_000_000_000, "logLength": 0, "extensionSeconds": 0,
    ]
    var submitted = attempt
    submitted["status"] = "submitted"
    submitted["submittedAt"] = 1_790_000_600_000
    submitted["submittedBy"] = "candidate"
    submitted["score"] = 2.0
    submitted["maxPoints"] = 4.0
    submitted["pendingPoints"] = 0.0
    submitted["logLength"] = 2
    submitted["answers"] = [["questionId": "Q1", "response": ["value": true], "flagged": 0, "updatedAt": 1_790_000_100_000, "logSeq": 2]]
    submitted["questionScores"] = [
        ["questionId": "Q1", "sectionId": "S-A", "maxPoints": 2.0, "score": 2.0, "status": "correct"],
        ["questionId": "Q2", "sectionId": "S-A", "maxPoints": 2.0, "score": 0.0, "status": "unanswered"],
    ]
    submitted["sectionScores"] = [["sectionId": "S-A", "title": "判断题", "position": 0, "maxPoints": 4.0, "score": 2.0, "pendingPoints": 0.0]]
    func log(_ seq: Int, _ value: Bool) -> [String: Any] {
        [
            "attemptId": "A1", "seq": seq, "changeId": "c\(seq)", "questionId": "Q1", "kind": "answer", "response": ["value": value],
            "flagged": NSNull(), "clientSeq": seq, "sessionId": "s1", "terminalId": "t1", "clientTime": NSNull(),
            "serverTime": 1_790_000_000_000 + seq * 1000,
        ]
    }
    return [
        item("attempt", seq: 1, attempt),
        item("answerLog", seq: 2, log(1, false)),
        item("answerLog", seq: 3, log(2, true)),
        item("checkIn", seq: 4, ["sittingId": "S1", "admissionNumber": "2026000001", "status": "checkedIn", "method": "face", "at": 1_790_000_000_000, "byUser": "inv1", "note": NSNull()]),
        item("attemptSubmitted", seq: 5, submitted),
        item("segment", seq: 6, sitting: nil, [
            "cameraId": "cam1", "roomId": "R01", "session": "s-1", "sequence": 0, "fileName": "s-1-000000.mp4",
            "startedAt": 1_790_000_000_000, "endedAt": 1_790_000_060_000, "duration": 60.0, "bytes": 1234,
            "sha256": String(repeating: "ab", count: 32), "codec": "h264", "width": 1920, "height": 1080, "recovered": 0,
        ]),
    ]
}

func signedBatch(_ items: [SyncItem], venue: String = "V-SYNC", key: Curve25519.Signing.PrivateKey) throws -> (body: Data, signature: String) {
    let body = try SyncBatch.encoder.encode(SyncBatch(venueId: venue, items: items))
    return (body, try SyncSignature.sign(body, purpose: .batch, key: key))
}

func count(_ database: CentralDatabase, _ sql: String) async throws -> Int {
    var total = 0
    for try await value in try await database.client.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test")).decode(Int.self) {
        total = value
    }
    return total
}

@Suite("Central: signed batches are received once, into real tables", .serialized, .timeLimit(.minutes(3)))
struct SyncReceiveTests {
    @Test func itemsLandInTheirTablesOnceAndARepeatGetsTheSameAnswer() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            // The submission (seq 5) arrives before the attempt was begun (seq 1): the newest still wins.
            let items = sittingItems()
            let late = [items[4], items[2]]
            let first = try signedBatch(late, key: key)
            let receipt = try await database.receive(body: first.body, signature: first.signature)
            #expect(receipt.stored == late.map(\.id) && receipt.duplicates.isEmpty)
            let all = try signedBatch(items, key: key)
            let second = try await database.receive(body: all.body, signature: all.signature)
            #expect(Set(second.stored) == Set(items.map(\.id)).subtracting(late.map(\.id)))
            #expect(Set(second.duplicates) == Set(late.map(\.id)))

            #expect(try await count(database, "SELECT count(*) FROM sync_item") == items.count)
            #expect(try await count(database, "SELECT count(*) FROM exam_attempt WHERE status = 'submitted' AND score = 2 AND log_length = 2") == 1)
            #expect(try await count(database, "SELECT count(*) FROM answer_log WHERE attempt_id = 'A1'") == 2)
            #expect(try await count(database, "SELECT count(*) FROM answer_log WHERE seq = 2 AND response = '{\"value\": true}'::jsonb") == 1)
            #expect(try await count(database, "SELECT count(*) FROM exam_answer WHERE question_id = 'Q1' AND response->>'value' = 'true'") == 1)
            #expect(try await count(database, "SELECT count(*) FROM question_score") == 2)
            #expect(try await count(database, "SELECT count(*) FROM section_score WHERE title = '判断题'") == 1)
            #expect(try await count(database, "SELECT count(*) FROM check_in WHERE method = 'face'") == 1)
            #expect(try await count(database, "SELECT count(*) FROM recording_segment WHERE bytes = 1234 AND video_received_at IS NULL") == 1)

            // The same items again, in a new batch: all duplicates, nothing doubled.
            let again = try signedBatch(items, key: key)
            let third = try await database.receive(body: again.body, signature: again.signature)
            #expect(third.stored.isEmpty && Set(third.duplicates) == Set(items.map(\.id)))
            #expect(try await count(database, "SELECT count(*) FROM answer_log") == 2)
            #expect(try await count(database, "SELECT count(*) FROM sync_item") == items.count)
        }
    }

    @Test func aDifferentPayloadUnderAKnownIdRefusesTheWholeBatchAndIsReported() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            let items = sittingItems()
            let batch = try signedBatch(Array(items.prefix(3)), key: key)
            _ = try await database.receive(body: batch.body, signature: batch.signature)
            var changed = items[1]
            changed = SyncItem(id: changed.id, seq: changed.seq, kind: changed.kind, sittingId: changed.sittingId, createdAt: changed.createdAt,
                               payload: changed.payload.replacingOccurrences(of: "\"value\":false", with: "\"value\":true"))
            #expect(changed.payload != items[1].payload)
            let fresh = items[3]
            let tampered = try signedBatch([fresh, changed], key: key)
            await #expect(throws: CentralError.itemConflict([changed.id])) {
                try await database.receive(body: tampered.body, signature: tampered.signature)
            }
            // Nothing of that batch was stored, the original stays, and the office sees why.
            #expect(try await count(database, "SELECT count(*) FROM check_in") == 0)
            #expect(try await count(database, "SELECT count(*) FROM answer_log WHERE seq = 1 AND response->>'value' = 'false'") == 1)
            let reports = try await database.syncReports(venueID: "V-SYNC")
            #expect(reports.first?.code == "item_conflict" && reports.first?.detail.contains(changed.id) == true)
        }
    }

    @Test func itemsCentralCannotTakeAreAllNamedWithTheirReasonsAndNothingOfTheBatchIsKept() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            let items = sittingItems()
            var wrongDigest = item("audit", seq: 20, ["id": 1])
            wrongDigest.sha256 = String(repeating: "0", count: 64)
            let unknownKind = item("photo", seq: 21, ["x": 1])
            // Well-formed JSON that does not fit central's tables: a score that is not a number.
            var submitted = try #require(try JSONSerialization.jsonObject(with: Data(items[4].payload.utf8)) as? [String: Any])
            submitted["id"] = "A2"
            submitted["score"] = "nine"
            let unfit = item("attemptSubmitted", seq: 22, submitted)
            // A NUL character, which PostgreSQL's jsonb does not take.
            let nul = item("incident", seq: 23, ["id": "I1", "note": "a\u{0}b"])
            let batch = try signedBatch(items + [wrongDigest, unknownKind, unfit, nul], key: key)
            var named: [UnusableItem] = []
            do {
                _ = try await database.receive(body: batch.body, signature: batch.signature)
                Issue.record("a batch with unusable items was stored")
            } catch CentralError.itemsUnusable(let items) {
                named = items
            }
            #expect(named.map(\.id) == [wrongDigest.id, unknownKind.id, unfit.id, nul.id])
            #expect(named.first { $0.id == unfit.id }?.message.contains("double precision") == true)
            #expect(named.first { $0.id == unfit.id }?.messageZh.contains("无法写入中心数据表") == true)
            // Nothing of the batch was kept (the trial was rolled back), and the office sees why.
            #expect(try await count(database, "SELECT count(*) FROM sync_item") == 0)
            #expect(try await count(database, "SELECT count(*) FROM exam_attempt") == 0)
            #expect(try await count(database, "SELECT count(*) FROM sync_batch") == 0)
            let report = try #require(try await database.syncReports(venueID: "V-SYNC").first)
            #expect(report.code == "item_unusable" && report.detail.contains(unfit.id) && report.detail.contains(nul.id))

            // A USB import takes the same signed batch without them; online, the venue sends the rest anew.
            let receipt = try await database.receive(
                body: batch.body, signature: batch.signature, via: "usb", leavingOut: Set(named.map(\.id)))
            #expect(receipt.stored == items.map(\.id))
            #expect(try await count(database, "SELECT count(*) FROM exam_attempt WHERE status = 'submitted' AND score = 2") == 1)
            let rest = try signedBatch(items, key: key)
            #expect(try await database.receive(body: rest.body, signature: rest.signature).duplicates == items.map(\.id))
            // Each alone fails while being stored (not only when checked first).
            for unusable in [unfit, nul] {
                let checkIn = item("checkIn", seq: 30, ["sittingId": "S1", "admissionNumber": "2026000002", "status": "checkedIn", "method": "manual", "at": 1_790_000_000_000, "byUser": "inv1", "note": NSNull()])
                let alone = try signedBatch([unusable, checkIn], key: key)
                do {
                    _ = try await database.receive(body: alone.body, signature: alone.signature)
                    Issue.record("an unusable item was stored")
                } catch CentralError.itemsUnusable(let named) {
                    #expect(named.map(\.id) == [unusable.id])
                }
            }
            #expect(try await count(database, "SELECT count(*) FROM sync_item") == items.count)
        }
    }

    @Test func aTamperedReplayedOrStrangersBatchIsRefusedAndReported() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            let items = sittingItems()
            let batch = try signedBatch(items, key: key)
            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                func post(_ body: Data, _ signature: String?) async throws -> (HTTPResponse.Status, SyncRefusal.Detail?) {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let signature { headers[HTTPField.Name(SyncSignature.header)!] = signature }
                    let response = try await client.execute(uri: "/api/sync/batches", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                    return (response.status, try? JSONDecoder().decode(SyncRefusal.self, from: Data(response.body.readableBytesView)).error)
                }
                // Changed payload under the venue's signature.
                let changed = Data(String(decoding: batch.body, as: UTF8.self).replacingOccurrences(of: "2026000001", with: "2026000009").utf8)
                #expect(changed != batch.body)
                let (tamperedStatus, tampered) = try await post(changed, batch.signature)
                #expect(tamperedStatus == .forbidden && tampered?.code == "signature_invalid")
                // Signed by another key.
                let stranger = try SyncSignature.sign(batch.body, purpose: .batch, key: Curve25519.Signing.PrivateKey())
                #expect(try await post(batch.body, stranger).1?.code == "signature_invalid")
                // No signature; a signature made for an upload session.
                #expect(try await post(batch.body, nil).1?.code == "signature_invalid")
                let otherPurpose = try SyncSignature.sign(batch.body, purpose: .session, key: key)
                #expect(try await post(batch.body, otherPurpose).1?.code == "signature_invalid")
                // Nothing stored so far; the real batch goes in, and the same batch again is a replay.
                #expect(try await count(database, "SELECT count(*) FROM sync_item") == 0)
                let (okStatus, _) = try await post(batch.body, batch.signature)
                #expect(okStatus == .ok)
                let (replayStatus, replay) = try await post(batch.body, batch.signature)
                #expect(replayStatus == .conflict && replay?.code == "batch_replayed" && replay?.messageZh.contains("已接收") == true)
                // A conflict names its items.
                var conflicting = items[0]
                conflicting = SyncItem(id: conflicting.id, seq: 1, kind: "attempt", sittingId: "S1", createdAt: 0, payload: #"{"id":"A1","other":1}"#)
                let conflict = try signedBatch([conflicting], key: key)
                let (conflictStatus, conflictBody) = try await post(conflict.body, conflict.signature)
                #expect(conflictStatus == .conflict && conflictBody?.conflicts == [conflicting.id])
                // Bad items (wrong digest, unknown kind) are named, each with its reason.
                var wrongDigest = item("audit", seq: 9, ["id": 1])
                wrongDigest.sha256 = String(repeating: "0", count: 64)
                let bad = try signedBatch([wrongDigest], key: key)
                let (badStatus, badBody) = try await post(bad.body, bad.signature)
                #expect(badStatus == .unprocessableContent && badBody?.code == "item_unusable")
                #expect(badBody?.unusable?.map(\.id) == [wrongDigest.id] && badBody?.unusable?.first?.message.contains("SHA-256") == true)
                let photo = item("photo", seq: 10, ["x": 1])
                let unknownKind = try signedBatch([photo], key: key)
                #expect(try await post(unknownKind.body, unknownKind.signature).1?.unusable?.map(\.id) == [photo.id])
                // A frame that is wrong itself (an item id repeated) refuses the batch with no items to set aside.
                let repeated = try signedBatch([photo, photo], key: key)
                let (repeatedStatus, repeatedBody) = try await post(repeated.body, repeated.signature)
                #expect(repeatedStatus == .badRequest && repeatedBody?.code == "batch_invalid" && repeatedBody?.unusable == nil)
                // An unknown venue, and a revoked one.
                let nobody = try signedBatch(items, venue: "V-NOBODY", key: key)
                #expect(try await post(nobody.body, nobody.signature).0 == .notFound)
                try await database.revokeVenue(id: "V-SYNC")
                let late = try signedBatch(items, key: key)
                let (revokedStatus, revoked) = try await post(late.body, late.signature)
                #expect(revokedStatus == .forbidden && revoked?.code == "venue_revoked")
            }
            let codes = Set(try await database.syncReports(venueID: "V-SYNC").map(\.code))
            #expect(codes == ["signature_invalid", "batch_replayed", "item_conflict", "item_unusable", "venue_revoked"])
            #expect(try await count(database, "SELECT count(*) FROM sync_item") == items.count)
        }
    }

    @Test func batchesTravelGzipCompressedAndADamagedOrInflatingBodyIsRefused() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            // A results batch as a sitting makes it: many answer-log entries, much alike.
            var batchItems = sittingItems()
            for index in 0..<300 {
                batchItems.append(item("answerLog", seq: Int64(100 + index), [
                    "attemptId": "A1", "seq": 10 + index, "changeId": "c-\(index)", "questionId": "Q\(index % 40)", "kind": "answer",
                    "response": ["value": index % 2 == 0], "flagged": NSNull(), "clientSeq": index, "sessionId": "s1", "terminalId": "t1",
                    "clientTime": NSNull(), "serverTime": 1_790_000_000_000 + index * 1000,
                ]))
            }
            let items = batchItems
            let batch = try signedBatch(items, key: key)
            let compressed = try #require(SyncCompression.compress(batch.body))
            #expect(compressed.count * 5 < batch.body.count, "\(compressed.count) of \(batch.body.count) bytes")
            #expect(try SyncCompression.decompress(compressed, maxSize: batch.body.count + 1) == batch.body)
            #expect(throws: SyncCompression.Failure.tooLarge(batch.body.count / 2)) { try SyncCompression.decompress(compressed, maxSize: batch.body.count / 2) }
            #expect(SyncCompression.compress(Data("{}".utf8)) == nil)

            let router = CentralApp.buildRouter(database: database, logger: Logger(label: "test"))
            try await Application(router: router).test(.router) { client in
                func post(_ body: Data, encoding: String?, signature: String) async throws -> (HTTPResponse.Status, SyncRefusal.Detail?) {
                    var headers: HTTPFields = [.contentType: "application/json", HTTPField.Name(SyncSignature.header)!: signature]
                    if let encoding { headers[.contentEncoding] = encoding }
                    let response = try await client.execute(uri: "/api/sync/batches", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                    return (response.status, try? JSONDecoder().decode(SyncRefusal.self, from: Data(response.body.readableBytesView)).error)
                }
                // Damaged, of an unknown encoding, or inflating past the limit: refused in words, nothing stored.
                var damaged = compressed
                damaged.replaceSubrange(20..<40, with: Data(repeating: 0x55, count: 20))
                let (damagedStatus, damagedBody) = try await post(damaged, encoding: "gzip", signature: batch.signature)
                #expect(damagedStatus == .badRequest && damagedBody?.code == "batch_invalid", "\(String(describing: damagedBody))")
                let (brStatus, brBody) = try await post(compressed, encoding: "br", signature: batch.signature)
                #expect(brStatus == .badRequest && brBody?.messageZh.contains("Content-Encoding") == true)
                let bomb = try #require(SyncCompression.compress(Data(repeating: 0x20, count: 80 << 20)))
                #expect(bomb.count < 1 << 20)
                let (bombStatus, bombBody) = try await post(bomb, encoding: "gzip", signature: batch.signature)
                #expect(bombStatus == .badRequest && bombBody?.message.contains("64 MiB") == true, "\(String(describing: bombBody))")
                #expect(try await count(database, "SELECT count(*) FROM sync_item") == 0)
                // The compressed batch, signed as plain JSON, is stored whole.
                let (okStatus, _) = try await post(compressed, encoding: "gzip", signature: batch.signature)
                #expect(okStatus == .ok)
                #expect(try await count(database, "SELECT count(*) FROM sync_item") == items.count)
                #expect(try await count(database, "SELECT count(*) FROM answer_log") == 302)
            }
        }
    }

    @Test func theVenuesClientSendsBatchesAndOpensUploadSessionsOverHTTP() async throws {
        try await withCentralDatabase { database, _ in
            let key = try await enrolledVenue(database)
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let app = CentralApp.buildApplication(
                database: database, configuration: CentralConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test"),
                onServerRunning: { portSink.yield($0) })
            let server = Task { try await app.runService() }
            defer { server.cancel() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let client = CentralClient(baseURL: "http://127.0.0.1:\(port)/", venueID: "V-SYNC", key: key)
            #expect(await client.isReachable())
            let items = sittingItems()
            let receipt = try await client.send(items)
            #expect(receipt.stored.count == items.count)
            // A retry after a cut is a new batch: answered as duplicates, not refused as a replay.
            #expect(try await client.send(items).duplicates.count == items.count)
            let session = try await client.openUploadSession()
            #expect(try await database.venueForUploadToken(session.token) == "V-SYNC")
            await #expect(throws: CentralError.uploadSessionInvalid) {
                try await database.venueForUploadToken(session.token, now: session.expiresAt.addingTimeInterval(1))
            }
            // Another venue's key is refused, with the code the sync page shows.
            let impostor = CentralClient(baseURL: "http://127.0.0.1:\(port)", venueID: "V-SYNC", key: Curve25519.Signing.PrivateKey())
            do {
                _ = try await impostor.send(items)
                Issue.record("an impostor's batch was accepted")
            } catch CentralCallError.refused(let status, let code, _, _, _) {
                #expect(status == 403 && code == "signature_invalid")
            }
            let offline = CentralClient(baseURL: "http://127.0.0.1:\(unusedPort())", venueID: "V-SYNC", key: key)
            #expect(await offline.isReachable() == false)
            do {
                _ = try await offline.send(items)
                Issue.record("sent to nobody")
            } catch CentralCallError.unreachable {
            }
        }
    }
}
