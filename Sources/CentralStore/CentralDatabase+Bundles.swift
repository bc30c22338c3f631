import Foundation
import Logging
import NIOCore
import PostgresNIO
import SyncProtocol

/// What importing one USB bundle did.
public struct BundleImport: Sendable, Equatable {
    public var stored = 0
    public var duplicates = 0
    public var batchesAlreadyImported = 0
    public var videosStored = 0
    public var videosAlreadyHeld = 0
    /// Batches or videos refused, in words (the rest of the bundle is still taken).
    public var problems: [String] = []
}

extension CentralDatabase {
    /// Imports a bundle written by `venue export`: checks its signature, receives each batch as if it came online
    /// (a batch imported before is skipped; its items were stored then), then the video files.
    public func importBundle(at folder: URL, storage: any RecordingStorage, now: Date = Date()) async throws -> BundleImport {
        guard let manifest = FileManager.default.contents(atPath: folder.appendingPathComponent("bundle.json").path),
            let bundle = try? SyncBatch.decoder.decode(SyncBundle.self, from: manifest), bundle.format == SyncBundle.format
        else {
            throw CentralError.batchInvalid(en: "bundle.json is missing or not a Kaodian bundle", zh: "bundle.json 缺失或不是考点导出包")
        }
        let signature = (try? String(contentsOf: folder.appendingPathComponent("bundle.json.sig"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await checkSigned(venueID: bundle.venueId, body: manifest, signature: signature, purpose: .bundle, batchID: nil, now: now)
        var outcome = BundleImport()
        for file in bundle.batches {
            guard Self.isInside(file), let body = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path) else {
                outcome.problems.append("\(file): missing 缺失")
                continue
            }
            let signature = (try? String(contentsOf: folder.appendingPathComponent(file + ".sig"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                let batch = try SyncBatch.decoder.decode(SyncBatch.self, from: body)
                guard batch.venueId == bundle.venueId else {
                    outcome.problems.append("\(file): from venue \(batch.venueId), not \(bundle.venueId)")
                    continue
                }
                let receipt: SyncReceipt
                do {
                    receipt = try await receive(body: body, signature: signature, via: "usb", now: now)
                } catch CentralError.itemsUnusable(let items) {
                    // Take the rest of the signed batch; the refused items are reported (as a sync refusal too).
                    for item in items { outcome.problems.append("\(file): item \(item.id) refused: \(item.message) / \(item.messageZh)") }
                    receipt = try await receive(body: body, signature: signature, via: "usb", leavingOut: Set(items.map(\.id)), now: now)
                }
                outcome.stored += receipt.stored.count
                outcome.duplicates += receipt.duplicates.count
            } catch CentralError.batchReplayed {
                outcome.batchesAlreadyImported += 1
            } catch let error as CentralError {
                outcome.problems.append("\(file): \(error.code): \(error.messageEn) / \(error.messageZh)")
            } catch {
                outcome.problems.append("\(file): not a batch 不是同步批次")
            }
        }
        for video in bundle.videos {
            guard Self.isInside(video.path) else {
                outcome.problems.append("\(video.path): not inside the bundle")
                continue
            }
            do {
                if try await importRecording(
                    venueID: bundle.venueId, segment: RecordingSegmentKey(cameraId: video.cameraId, session: video.session, sequence: video.sequence),
                    file: folder.appendingPathComponent(video.path), sha256: video.sha256, storage: storage, now: now)
                {
                    outcome.videosStored += 1
                } else {
                    outcome.videosAlreadyHeld += 1
                }
            } catch let error as CentralError {
                outcome.problems.append("\(video.path): \(error.code): \(error.messageEn) / \(error.messageZh)")
            }
        }
        return outcome
    }

    /// A relative path with no way out of its folder.
    static func isInside(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }
}

extension CentralDatabase {
    /// Takes a video file from a USB bundle into storage the way an online upload would arrive (the same checks:
    /// the segment's row must be there with this SHA-256 and size, the whole file is hashed before it counts).
    /// False when central already holds that segment's video.
    public func importRecording(
        venueID: String, segment: RecordingSegmentKey, file: URL, sha256: String, storage: any RecordingStorage, now: Date = Date()
    ) async throws -> Bool {
        var held = false
        for try await received in try await client.query(
            """
            SELECT video_received_at FROM recording_segment
            WHERE venue_id = \(venueID) AND camera_id = \(segment.cameraId) AND session = \(segment.session) AND sequence = \(segment.sequence)
            """, logger: logger
        ).decode(Date?.self) {
            held = received != nil
        }
        if held { return false }
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw CentralError.batchInvalid(en: "\(file.lastPathComponent) cannot be read", zh: "\(file.lastPathComponent) 无法读取")
        }
        defer { try? handle.close() }
        let length = Int64(try handle.seekToEnd())
        let policy = UploadPolicy()
        var upload = try await createUpload(
            venueID: venueID, metadata: UploadMetadata(uploadId: "usb-" + sha256.prefix(40), segment: segment, sha256: sha256),
            length: length, storage: storage, policy: policy, now: now)
        while upload.offset < upload.length {
            try handle.seek(toOffset: UInt64(upload.offset))
            let chunk = try handle.read(upToCount: min(policy.maxChunkBytes, 8 << 20)) ?? Data()
            guard !chunk.isEmpty else {
                throw CentralError.batchInvalid(en: "\(file.lastPathComponent) is shorter than its record", zh: "\(file.lastPathComponent) 比记录的短")
            }
            upload = try await appendChunk(
                venueID: venueID, uploadID: upload.uploadId, offset: upload.offset, chunk: ByteBuffer(bytes: chunk), checksum: nil,
                storage: storage, policy: policy, now: now)
        }
        return true
    }
}
