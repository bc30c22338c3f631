"""A venue's recordings reach the central office through tus uploads, with a real tus client (tuspy).

Given a throwaway PostgreSQL 15 server and a real `central serve` process with its own storage folder, a venue
enrolled with an Ed25519 key made here, and the records of two segments sent in a signed batch,
when tuspy uploads the first segment in 1 MiB chunks with checksums (sha1, tuspy's own), stops after 3 MiB, central
is killed (SIGKILL) and started again, and a new tuspy uploader takes the upload up at its URL,
then it continues from central's acknowledged 3 MiB, and central keeps the file byte for byte under
recordings/<venue>/<camera>/<session>/<sequence>.mp4 and marks the segment's video received; a repeated create
answers the same upload; a damaged chunk is refused with 460 and changes nothing; the second segment goes up with
sha256 checksums; an upload without a token, or with another tus version, is refused.
"""
import base64
import hashlib
import json
import os
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from central_process import CentralProcess
from test_central_enrolment import add_venue, postgres  # noqa: F401 (postgres is a fixture)

VENUE = "KD-TUS-01"
CAMERA = "cam-201"
SESSION = "0b5e8a52-7d11-4c3e-a9a1-6c2f1e0d9b87"
MiB = 1 << 20


def signed_post(base, path, body: dict, key: Ed25519PrivateKey, purpose: str):
    data = json.dumps(body, separators=(",", ":")).encode()
    signature = base64.b64encode(key.sign(purpose.encode() + b"\n" + data)).decode()
    return requests.post(base + path, data=data, timeout=30,
                         headers={"Content-Type": "application/json", "Kaodian-Signature": signature})


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def segment_item(sequence: int, data: bytes) -> dict:
    payload = json.dumps({
        "cameraId": CAMERA, "roomId": "R201", "session": SESSION, "sequence": sequence,
        "fileName": f"{SESSION}-{sequence:06d}.mp4", "startedAt": 1767225600000 + sequence * 60000,
        "endedAt": 1767225660000 + sequence * 60000, "duration": 60.0, "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "codec": "h264", "width": 1920, "height": 1080, "recovered": 0,
    }, sort_keys=True)
    return {"id": f"segment-{SESSION}-{sequence}", "seq": sequence + 1, "kind": "segment", "sittingId": None,
            "createdAt": 1767225660000, "payload": payload, "sha256": hashlib.sha256(payload.encode()).hexdigest()}


def metadata(upload_id: str, sequence: int, data: bytes) -> dict:
    return {"uploadId": upload_id, "cameraId": CAMERA, "session": SESSION, "sequence": str(sequence),
            "sha256": hashlib.sha256(data).hexdigest()}


class SHA256Uploader(Uploader):
    """tuspy with sha256 chunk checksums (it sends sha1 unless told otherwise)."""
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def test_tuspy_uploads_a_recording_resumes_after_central_restarts_and_central_keeps_it_byte_for_byte(postgres, tmp_path):
    code = add_venue(postgres, VENUE, "上传测试考点")
    storage = tmp_path / "central-storage"
    server = CentralProcess(postgres, storage)
    server.start()
    try:
        base = server.base
        key = Ed25519PrivateKey.generate()
        public = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        enrolled = requests.post(base + "/api/enrolments", json={"venueId": VENUE, "code": code, "publicKey": public}, timeout=30)
        assert enrolled.status_code == 201, enrolled.text

        # Two segments on the venue's disk, their records reported in a signed batch.
        first = os.urandom(6 * MiB + 12345)
        second = os.urandom(2 * MiB + 7)
        first_path, second_path = tmp_path / "first.mp4", tmp_path / "second.mp4"
        first_path.write_bytes(first)
        second_path.write_bytes(second)
        batch = {"batchId": str(uuid.uuid4()), "venueId": VENUE, "createdAt": now_iso(),
                 "items": [segment_item(0, first), segment_item(1, second)]}
        received = signed_post(base, "/api/sync/batches", batch, key, "kaodian-sync-batch-v1")
        assert received.status_code == 200, received.text
        assert len(received.json()["stored"]) == 2
        session = signed_post(base, "/api/sync/sessions", {"requestId": str(uuid.uuid4()), "venueId": VENUE,
                                                             "createdAt": now_iso()}, key, "kaodian-sync-session-v1")
        assert session.status_code == 201, session.text
        token = session.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        # Discovery.
        options = requests.options(base + "/api/uploads", timeout=30)
        assert options.status_code == 204
        assert options.headers["Tus-Version"] == "1.0.0"
        assert set(options.headers["Tus-Extension"].split(",")) == {"creation", "checksum", "termination", "expiration"}
        assert "sha1" in options.headers["Tus-Checksum-Algorithm"].split(",")

        # tuspy sends 3 MiB of the first segment (sha1 checksums, tuspy's default), then stops.
        tus = tus_client.TusClient(base + "/api/uploads", headers=auth)
        uploader = tus.uploader(file_path=str(first_path), chunk_size=MiB, metadata=metadata("kd-up-0", 0, first),
                                upload_checksum=True)
        uploader.upload(stop_at=3 * MiB)
        url = uploader.url
        assert url == base + "/api/uploads/kd-up-0"
        assert uploader.offset == 3 * MiB

        # A repeated create (what a venue does when it lost the answer) names the same upload, at its offset.
        again = tus.uploader(file_path=str(first_path), chunk_size=MiB, metadata=metadata("kd-up-0", 0, first))
        assert again.create_url() == url
        repeat = requests.post(base + "/api/uploads", timeout=30, headers={
            **auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(first)),
            "Upload-Metadata": ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata("kd-up-0", 0, first).items())})
        assert repeat.status_code == 201 and repeat.headers["Upload-Offset"] == str(3 * MiB)

        # A damaged chunk: 460, nothing kept.
        chunk = first[3 * MiB:4 * MiB]
        damaged = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
        refused = requests.patch(url, data=damaged, timeout=30, headers={
            **auth, "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(3 * MiB),
            "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(chunk).digest()).decode()})
        assert refused.status_code == 460, refused.text
        assert refused.json()["error"]["code"] == "upload_checksum_mismatch"

        # Central dies without warning, and comes back.
        server.kill()
        partial = storage / "partial" / VENUE / "kd-up-0.part"
        assert partial.stat().st_size >= 3 * MiB
        server.start()

        # A new tuspy uploader at the upload's URL continues from central's acknowledged offset.
        head = requests.head(url, headers={**auth, "Tus-Resumable": "1.0.0"}, timeout=30)
        assert head.status_code == 200 and head.headers["Upload-Offset"] == str(3 * MiB)
        assert head.headers["Upload-Length"] == str(len(first)) and head.headers["Cache-Control"] == "no-store"
        resumed = tus.uploader(file_path=str(first_path), url=url, chunk_size=MiB, upload_checksum=True)
        assert resumed.offset == 3 * MiB
        resumed.upload()
        assert resumed.offset == len(first)

        stored = storage / "recordings" / VENUE / CAMERA / SESSION / "000000.mp4"
        assert stored.read_bytes() == first
        assert not partial.exists()
        assert server.one(f"SELECT video_received_at IS NOT NULL FROM recording_segment WHERE venue_id = '{VENUE}' "
                              "AND sequence = 0") == "t"
        assert server.one("SELECT state || ' ' || upload_offset FROM recording_upload WHERE upload_id = 'kd-up-0'") \
            == f"complete {len(first)}"

        # The second segment with sha256 checksums, in one go.
        sha256_uploader = SHA256Uploader(file_path=str(second_path), client=tus, chunk_size=MiB,
                                         metadata=metadata("kd-up-1", 1, second), upload_checksum=True)
        sha256_uploader.upload()
        assert (storage / "recordings" / VENUE / CAMERA / SESSION / "000001.mp4").read_bytes() == second

        # No token, another tus version: refused with their reasons.
        anonymous = tus_client.TusClient(base + "/api/uploads")
        with pytest.raises(TusCommunicationError) as refusal:
            anonymous.uploader(file_path=str(second_path), chunk_size=MiB, metadata=metadata("kd-up-9", 1, second)).upload()
        assert refusal.value.status_code == 401
        old = requests.head(url, headers={**auth, "Tus-Resumable": "0.2.2"}, timeout=30)
        assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    finally:
        server.stop()
