import GRDB

/// The venue database schema. Append-only: a released migration is never edited, only followed by new ones.
/// Times are Unix milliseconds; JSON columns hold package content exactly as imported.
enum VenueMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: venue foundation") { db in
            try db.execute(
                sql: """
                    CREATE TABLE venue_identity (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        firstImportedAt INTEGER NOT NULL
                    );
                    CREATE TABLE package_import (
                        packageId TEXT PRIMARY KEY NOT NULL,
                        manifestSHA256 TEXT NOT NULL UNIQUE,
                        issuerId TEXT NOT NULL,
                        issuedAt INTEGER NOT NULL,
                        importedAt INTEGER NOT NULL,
                        manifest TEXT NOT NULL,
                        summary TEXT NOT NULL
                    );
                    CREATE TABLE room (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        seats TEXT NOT NULL
                    );
                    CREATE TABLE question (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE TABLE paper (
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE TABLE sitting (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        paperId TEXT NOT NULL REFERENCES paper(id),
                        scheduledStart INTEGER NOT NULL,
                        durationSeconds INTEGER NOT NULL,
                        lateEntrySeconds INTEGER,
                        body TEXT NOT NULL,
                        startedAt INTEGER,
                        startedBy TEXT,
                        closedAt INTEGER,
                        extensionSeconds INTEGER NOT NULL DEFAULT 0,
                        packageId TEXT NOT NULL
                    );
                    CREATE TABLE sitting_room (
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        roomId TEXT NOT NULL REFERENCES room(id),
                        PRIMARY KEY (sittingId, roomId)
                    ) WITHOUT ROWID;
                    CREATE TABLE photo (
                        sha256 TEXT PRIMARY KEY NOT NULL,
                        contentType TEXT NOT NULL,
                        data BLOB NOT NULL
                    );
                    CREATE TABLE candidate (
                        admissionNumber TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        idNumber TEXT NOT NULL,
                        organisation TEXT,
                        photoSHA256 TEXT NOT NULL REFERENCES photo(sha256)
                    );
                    CREATE TABLE seat_assignment (
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        admissionNumber TEXT NOT NULL REFERENCES candidate(admissionNumber),
                        roomId TEXT NOT NULL REFERENCES room(id),
                        seat TEXT NOT NULL,
                        PRIMARY KEY (sittingId, admissionNumber),
                        UNIQUE (sittingId, roomId, seat)
                    ) WITHOUT ROWID;
                    CREATE TABLE staff (
                        username TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        passwordHash TEXT NOT NULL,
                        rooms TEXT NOT NULL
                    );
                    CREATE TABLE attempt (
                        id TEXT PRIMARY KEY NOT NULL,
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        admissionNumber TEXT NOT NULL REFERENCES candidate(admissionNumber),
                        seed INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        submittedAt INTEGER,
                        submittedBy TEXT,
                        extensionSeconds INTEGER NOT NULL DEFAULT 0,
                        logLength INTEGER NOT NULL DEFAULT 0,
                        activeSessionId TEXT,
                        score REAL,
                        maxPoints REAL,
                        pendingPoints REAL,
                        UNIQUE (sittingId, admissionNumber)
                    );
                    CREATE INDEX attempt_open ON attempt(status, sittingId);
                    CREATE TABLE answer (
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        questionId TEXT NOT NULL,
                        response TEXT,
                        flagged INTEGER NOT NULL DEFAULT 0,
                        updatedAt INTEGER NOT NULL,
                        logSeq INTEGER NOT NULL,
                        sessionId TEXT NOT NULL,
                        clientSeq INTEGER NOT NULL,
                        PRIMARY KEY (attemptId, questionId)
                    ) WITHOUT ROWID;
                    CREATE TABLE answer_log (
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        seq INTEGER NOT NULL,
                        changeId TEXT NOT NULL UNIQUE,
                        questionId TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        response TEXT,
                        flagged INTEGER,
                        clientSeq INTEGER NOT NULL,
                        sessionId TEXT NOT NULL,
                        terminalId TEXT NOT NULL,
                        clientTime INTEGER,
                        serverTime INTEGER NOT NULL,
                        PRIMARY KEY (attemptId, seq)
                    );
                    CREATE TABLE attempt_event (
                        id INTEGER PRIMARY KEY,
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        eventId TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        clientTime INTEGER,
                        serverTime INTEGER NOT NULL,
                        sessionId TEXT,
                        terminalId TEXT,
                        detail TEXT
                    );
                    CREATE INDEX attempt_event_attempt ON attempt_event(attemptId);
                    CREATE TABLE session (
                        id TEXT PRIMARY KEY NOT NULL,
                        tokenHash TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        attemptId TEXT REFERENCES attempt(id),
                        username TEXT REFERENCES staff(username),
                        terminalId TEXT NOT NULL,
                        userAgent TEXT,
                        address TEXT,
                        createdAt INTEGER NOT NULL,
                        expiresAt INTEGER NOT NULL,
                        endedAt INTEGER,
                        endReason TEXT
                    );
                    CREATE TABLE question_score (
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        questionId TEXT NOT NULL,
                        sectionId TEXT NOT NULL,
                        maxPoints REAL NOT NULL,
                        score REAL,
                        status TEXT NOT NULL,
                        PRIMARY KEY (attemptId, questionId)
                    ) WITHOUT ROWID;
                    CREATE TABLE section_score (
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        sectionId TEXT NOT NULL,
                        title TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        maxPoints REAL NOT NULL,
                        score REAL NOT NULL,
                        pendingPoints REAL NOT NULL,
                        PRIMARY KEY (attemptId, sectionId)
                    ) WITHOUT ROWID;
                    CREATE TABLE attachment (
                        id TEXT PRIMARY KEY NOT NULL,
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        questionId TEXT NOT NULL,
                        name TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        bytes INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        storedAt INTEGER NOT NULL
                    );
                    CREATE TRIGGER answer_log_no_update BEFORE UPDATE ON answer_log
                    BEGIN SELECT RAISE(ABORT, 'answer_log is append-only'); END;
                    CREATE TRIGGER answer_log_no_delete BEFORE DELETE ON answer_log
                    BEGIN SELECT RAISE(ABORT, 'answer_log is append-only'); END;
                    CREATE TRIGGER attempt_event_no_update BEFORE UPDATE ON attempt_event
                    BEGIN SELECT RAISE(ABORT, 'attempt_event is append-only'); END;
                    CREATE TRIGGER attempt_event_no_delete BEFORE DELETE ON attempt_event
                    BEGIN SELECT RAISE(ABORT, 'attempt_event is append-only'); END;
                    CREATE TABLE time_extension (
                        id INTEGER PRIMARY KEY,
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        attemptId TEXT REFERENCES attempt(id),
                        seconds INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        grantedBy TEXT NOT NULL,
                        grantedAt INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: rooms, accounts, audit") { db in
            try db.execute(
                sql: """
                    ALTER TABLE staff ADD COLUMN source TEXT NOT NULL DEFAULT 'package';
                    ALTER TABLE staff ADD COLUMN mustChangePassword INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE staff ADD COLUMN passwordSetLocally INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE staff ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

                    ALTER TABLE attempt ADD COLUMN roomId TEXT;
                    UPDATE attempt SET roomId = (
                        SELECT roomId FROM seat_assignment s
                        WHERE s.sittingId = attempt.sittingId AND s.admissionNumber = attempt.admissionNumber);

                    ALTER TABLE session ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;

                    CREATE TABLE room_clock (
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        roomId TEXT NOT NULL REFERENCES room(id),
                        startedAt INTEGER,
                        startedBy TEXT,
                        pausedSince INTEGER,
                        pausedSeconds INTEGER NOT NULL DEFAULT 0,
                        extensionSeconds INTEGER NOT NULL DEFAULT 0,
                        closedAt INTEGER,
                        closedBy TEXT,
                        PRIMARY KEY (sittingId, roomId)
                    ) WITHOUT ROWID;
                    CREATE TABLE room_pause (
                        id INTEGER PRIMARY KEY,
                        sittingId TEXT NOT NULL,
                        roomId TEXT NOT NULL,
                        pausedAt INTEGER NOT NULL,
                        pausedBy TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        resumedAt INTEGER,
                        resumedBy TEXT
                    );
                    ALTER TABLE time_extension ADD COLUMN roomId TEXT;

                    CREATE TABLE check_in (
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        admissionNumber TEXT NOT NULL REFERENCES candidate(admissionNumber),
                        status TEXT NOT NULL,
                        method TEXT,
                        at INTEGER NOT NULL,
                        byUser TEXT NOT NULL,
                        note TEXT,
                        PRIMARY KEY (sittingId, admissionNumber)
                    ) WITHOUT ROWID;

                    CREATE TABLE incident (
                        id TEXT PRIMARY KEY NOT NULL,
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        roomId TEXT NOT NULL REFERENCES room(id),
                        admissionNumber TEXT REFERENCES candidate(admissionNumber),
                        category TEXT NOT NULL,
                        note TEXT NOT NULL,
                        occurredAt INTEGER NOT NULL,
                        recordedBy TEXT NOT NULL,
                        recordedAt INTEGER NOT NULL
                    );
                    CREATE INDEX incident_room ON incident(sittingId, roomId);

                    CREATE TABLE move_request (
                        id TEXT PRIMARY KEY NOT NULL,
                        attemptId TEXT NOT NULL REFERENCES attempt(id),
                        sessionId TEXT NOT NULL REFERENCES session(id),
                        fromSessionId TEXT,
                        fromTerminal TEXT,
                        toTerminal TEXT NOT NULL,
                        requestedAt INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        decidedBy TEXT,
                        decidedAt INTEGER,
                        reason TEXT
                    );
                    CREATE INDEX move_request_attempt ON move_request(attemptId, status);

                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        actorRole TEXT NOT NULL,
                        action TEXT NOT NULL,
                        sittingId TEXT,
                        roomId TEXT,
                        admissionNumber TEXT,
                        attemptId TEXT,
                        reason TEXT,
                        detail TEXT
                    );
                    CREATE INDEX audit_log_at ON audit_log(at);
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                    """)
        }
        migrator.registerMigration("v3: face templates and verifications") { db in
            try db.execute(
                sql: """
                    CREATE TABLE face_template (
                        personKind TEXT NOT NULL,
                        personId TEXT NOT NULL,
                        photoSha256 TEXT NOT NULL,
                        model TEXT NOT NULL,
                        sealed BLOB,
                        problem TEXT,
                        detail TEXT,
                        enrolledAt INTEGER NOT NULL,
                        PRIMARY KEY (personKind, personId),
                        CHECK ((sealed IS NULL) <> (problem IS NULL))
                    );
                    CREATE TABLE face_verification (
                        id TEXT PRIMARY KEY,
                        at INTEGER NOT NULL,
                        purpose TEXT NOT NULL,
                        personKind TEXT NOT NULL,
                        personId TEXT NOT NULL,
                        sittingId TEXT,
                        roomId TEXT,
                        byUser TEXT NOT NULL,
                        similarity REAL,
                        threshold REAL NOT NULL,
                        decision TEXT NOT NULL CHECK (decision IN ('match', 'mismatch', 'unusable')),
                        problem TEXT,
                        face TEXT,
                        faceCount INTEGER NOT NULL,
                        flags TEXT NOT NULL,
                        model TEXT NOT NULL,
                        imageWidth INTEGER NOT NULL,
                        imageHeight INTEGER NOT NULL,
                        captureFile TEXT NOT NULL
                    );
                    CREATE INDEX face_verification_room ON face_verification(sittingId, roomId, at);
                    CREATE INDEX face_verification_at ON face_verification(at);
                    CREATE TRIGGER face_verification_no_update BEFORE UPDATE ON face_verification
                    BEGIN SELECT RAISE(ABORT, 'face_verification is append-only'); END;
                    CREATE TRIGGER face_verification_no_delete BEFORE DELETE ON face_verification
                    BEGIN SELECT RAISE(ABORT, 'face_verification is append-only'); END;
                    CREATE TABLE face_override (
                        verificationId TEXT PRIMARY KEY REFERENCES face_verification(id),
                        byUser TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v4: staff photos and face checks at the terminal") { db in
            try db.execute(
                sql: """
                    ALTER TABLE staff ADD COLUMN photoSHA256 TEXT;
                    CREATE INDEX face_verification_person ON face_verification(personKind, personId, sittingId, purpose);
                    """)
        }
        migrator.registerMigration("v5: room cameras") { db in
            try db.execute(
                sql: """
                    CREATE TABLE camera (
                        id TEXT PRIMARY KEY,
                        roomId TEXT NOT NULL REFERENCES room(id),
                        name TEXT NOT NULL,
                        urlSealed BLOB NOT NULL,
                        urlMasked TEXT NOT NULL,
                        enabled INTEGER NOT NULL,
                        lastTest TEXT,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX camera_room_name ON camera(roomId, name);
                    """)
        }
        migrator.registerMigration("v6: recordings") { db in
            try db.execute(
                sql: """
                    ALTER TABLE camera ADD COLUMN recordingMode TEXT NOT NULL DEFAULT 'auto'
                        CHECK (recordingMode IN ('auto', 'on', 'off'));
                    CREATE TABLE recording_segment (
                        cameraId TEXT NOT NULL,
                        roomId TEXT NOT NULL,
                        session TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        fileName TEXT NOT NULL,
                        startedAt INTEGER NOT NULL,
                        endedAt INTEGER NOT NULL,
                        duration REAL NOT NULL,
                        bytes INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        codec TEXT NOT NULL,
                        width INTEGER NOT NULL,
                        height INTEGER NOT NULL,
                        recovered INTEGER NOT NULL DEFAULT 0,
                        uploadedAt INTEGER,
                        PRIMARY KEY (cameraId, session, sequence)
                    );
                    CREATE INDEX recording_segment_room ON recording_segment(roomId, startedAt);
                    CREATE TABLE recording_gap (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        cameraId TEXT NOT NULL,
                        roomId TEXT NOT NULL,
                        fromAt INTEGER NOT NULL,
                        toAt INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        CHECK (toAt >= fromAt)
                    );
                    CREATE INDEX recording_gap_room ON recording_gap(roomId, fromAt);
                    """)
        }
        migrator.registerMigration("v7: recording alerts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE recording_alert (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('room_not_recorded', 'camera_down', 'disk_low')),
                        subject TEXT NOT NULL,
                        roomId TEXT,
                        cameraId TEXT,
                        sittingId TEXT,
                        detail TEXT NOT NULL,
                        raisedAt INTEGER NOT NULL,
                        clearedAt INTEGER,
                        syncedAt INTEGER
                    );
                    CREATE UNIQUE INDEX recording_alert_open ON recording_alert(kind, subject) WHERE clearedAt IS NULL;
                    CREATE INDEX recording_alert_room ON recording_alert(roomId, raisedAt);
                    """)
        }
        migrator.registerMigration("v8: sync outbox") { db in
            try OutboxSchema.migrate(db)
        }
        migrator.registerMigration("v9: sealed papers") { db in
            // One row per sitting whose paper arrived sealed: the ciphertext as the package carried it, and when and
            // by whom it was opened. Until then the sitting's paper row is a placeholder (body {"sealed": true}).
            try db.execute(
                sql: """
                    CREATE TABLE sealed_paper (
                        sittingId TEXT PRIMARY KEY REFERENCES sitting(id),
                        packageId TEXT NOT NULL,
                        paperId TEXT NOT NULL,
                        part TEXT NOT NULL,
                        ciphertext BLOB NOT NULL,
                        sha256 TEXT NOT NULL,
                        importedAt INTEGER NOT NULL,
                        unsealedAt INTEGER,
                        unsealedBy TEXT,
                        code TEXT
                    );
                    """)
        }
        migrator.registerMigration("v10: acknowledged outbox items pruned") { db in
            // Acknowledged items are a copy of rows the venue keeps in their own tables: they are deleted some days
            // after central acknowledged them, found through this index.
            try db.execute(sql: "CREATE INDEX sync_outbox_acked ON sync_outbox(ackedAt) WHERE ackedAt IS NOT NULL")
        }
        migrator.registerMigration("v11: face pictures deleted after their keeping time") { db in
            // The verification rows stay (they are the record, and central has them); the pictures taken go after
            // `--face-keep-days`, and this says when each went. A candidate whose template went is not enrolled
            // again unless a later package seats them in a sitting that ends after that.
            try db.execute(
                sql: """
                    CREATE TABLE face_capture_deleted (
                        verificationId TEXT PRIMARY KEY REFERENCES face_verification(id),
                        deletedAt INTEGER NOT NULL
                    );
                    CREATE TABLE face_template_deleted (
                        admissionNumber TEXT PRIMARY KEY NOT NULL,
                        deletedAt INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v12: skill papers and examiners' scoring sheets") { db in
            // A skill sitting's paper row is a placeholder (the sitting table needs one); its tasks are in
            // skill_paper. Each examiner keeps a sheet per candidate and task: a score per scoring item, a remark,
            // and when it was submitted (then it no longer changes). Every write of a sheet goes to central.
            try db.execute(
                sql: """
                    CREATE TABLE skill_paper (
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE TABLE skill_sheet (
                        sittingId TEXT NOT NULL REFERENCES sitting(id),
                        admissionNumber TEXT NOT NULL,
                        taskId TEXT NOT NULL,
                        examiner TEXT NOT NULL,
                        scores TEXT NOT NULL,
                        total REAL NOT NULL,
                        maxPoints REAL NOT NULL,
                        remark TEXT,
                        updatedAt INTEGER NOT NULL,
                        submittedAt INTEGER,
                        PRIMARY KEY (sittingId, admissionNumber, taskId, examiner)
                    ) WITHOUT ROWID;
                    """)
            for source in OutboxSchema.skillSheetSources { try db.execute(sql: OutboxSchema.trigger(source)) }
        }
        return migrator
    }
}
