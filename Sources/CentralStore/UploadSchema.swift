/// The table of resumable video uploads (migration 3). One row per upload id a venue chose; the row's
/// `upload_offset` is what central has acknowledged (the data up to it is durable in the partial upload), and only
/// the row says so: bytes past it in storage are leftovers of an unacknowledged chunk and are dropped.
///
/// `state`: `open` (receiving), `complete` (the whole file arrived, matched the segment's SHA-256 and was published
/// as the recording), `expired` (unfinished for longer than the expiry; its data removed), `terminated` (the venue
/// ended it with DELETE; its data removed). A create with the same id and metadata reopens an expired or
/// terminated upload from offset 0.
enum UploadSchema {
    static let statements: [String] = [
        """
        CREATE TABLE recording_upload (
            venue_id TEXT NOT NULL REFERENCES venue(id),
            upload_id TEXT NOT NULL,
            camera_id TEXT NOT NULL,
            session TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            length BIGINT NOT NULL CHECK (length > 0),
            upload_offset BIGINT NOT NULL CHECK (upload_offset >= 0 AND upload_offset <= length),
            sha256 TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            state TEXT NOT NULL CHECK (state IN ('open', 'complete', 'expired', 'terminated')),
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL,
            completed_at TIMESTAMPTZ,
            PRIMARY KEY (venue_id, upload_id),
            FOREIGN KEY (venue_id, camera_id, session, sequence)
                REFERENCES recording_segment (venue_id, camera_id, session, sequence),
            CHECK ((state = 'complete') = (completed_at IS NOT NULL)),
            CHECK (state <> 'complete' OR upload_offset = length)
        )
        """,
        "CREATE INDEX recording_upload_segment ON recording_upload (venue_id, camera_id, session, sequence)",
        "CREATE INDEX recording_upload_expiry ON recording_upload (expires_at) WHERE state = 'open'",
    ]
}
