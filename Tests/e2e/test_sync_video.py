"""Recordings reach the central office byte for byte, resuming through cuts and crashes.

Given central on a throwaway PostgreSQL, a GStreamer RTSP camera filming room R01 of the demo venue (2-second
segments), and the venue enrolled through scripts/fault-proxy.py — throttled, cutting connections every few hundred
kilobytes — when the venue records for a while (video sent in 64 KiB chunks, after the results) and meanwhile the
venue is killed with SIGKILL and started again and central is killed and started again, then, once recording stops and
the link heals, every segment the venue holds is marked uploaded, central holds each one byte-identical with the
SHA-256 of its record, and marks its video received; the venue's sync page showed an upload with its speed on the way.
"""
import hashlib
import importlib.util
import time

import requests

from conftest import ROOT, VenueProcess, free_port
from test_camera_probe import cameras  # noqa: F401 (fixture)
from test_central_enrolment import add_venue, enrol, postgres  # noqa: F401 (postgres is a fixture)
from central_process import CentralProcess
from test_sync import sync_view, venue_sql, wait_for

spec = importlib.util.spec_from_file_location("fault_proxy", ROOT / "scripts" / "fault-proxy.py")
fault_proxy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fault_proxy)


def test_video_reaches_central_byte_for_byte_through_cuts_and_crashes(postgres, cameras, tmp_path):  # noqa: F811
    camera = cameras("--size", "640x360", "--fps", "25", "--bitrate-kbps", "1500")
    code = add_venue(postgres)
    storage = tmp_path / "central-storage"
    office = CentralProcess(postgres, storage)
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), demo_start_in=120, log_name="venue-sync-video",
                         extra_args=("--segment-seconds", "2", "--demo-camera", f"R01={camera.urls[0]}",
                                     "--sync-video-chunk-kib", "64"))
    proxy = None
    try:
        office.start()
        proxy = fault_proxy.FaultProxy(office.port, cut_every=300_000, rate=600_000, seed=5).start()
        venue.start()
        assert enrol(data, f"http://127.0.0.1:{proxy.port}", "KD-DEMO-01", code).returncode == 0
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM recording_segment")[0][0] >= 2, "the camera did not record", 40)
        saw_upload = None
        for round_ in range(4):
            deadline = time.time() + 4
            while time.time() < deadline:
                status = sync_view(venue)["status"]
                if status.get("upload"):
                    saw_upload = saw_upload or status["upload"]
                time.sleep(0.2)
            if round_ % 2 == 0:
                venue.kill()
                venue.start()
            else:
                office.kill()
                office.start()
        assert saw_upload and saw_upload["bytesTotal"] > 0 and "fileName" in saw_upload, "the sync page never showed an upload"
        assert proxy.cuts >= 2, f"only {proxy.cuts} cuts: the test proved little"

        # Recording stops; the link heals; everything drains.
        admin = venue.staff_token("admin", "kaodian-admin")
        auth = {"Authorization": f"Bearer {admin}"}
        for cam in requests.get(venue.base + "/api/admin/cameras", headers=auth, timeout=30).json():
            r = requests.post(f"{venue.base}/api/admin/cameras/{cam['id']}/recording", json={"mode": "off"}, headers=auth, timeout=30)
            assert r.status_code == 200, r.text
        time.sleep(3)
        proxy.cut_every = proxy.rate = None
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM recording_segment WHERE uploadedAt IS NULL")[0][0] == 0,
                 "not every segment was uploaded", timeout=120)
        segments = venue_sql(data, "SELECT cameraId, session, sequence, fileName, sha256, bytes FROM recording_segment")
        assert len(segments) >= 4
        for camera_id, session, sequence, file_name, sha, size in segments:
            local = (data / "recordings" / camera_id / file_name).read_bytes()
            stored = (storage / "recordings" / "KD-DEMO-01" / camera_id / session / f"{sequence:06d}.mp4").read_bytes()
            assert len(stored) == size and stored == local, f"{file_name} differs at central"
            assert hashlib.sha256(stored).hexdigest() == sha
        received = office.sql("SELECT count(*) FROM recording_segment WHERE video_received_at IS NOT NULL")[0][0]
        assert int(received) == len(segments)
        assert office.sql("SELECT count(*) FROM sync_report WHERE code = 'upload_digest_mismatch'") == [["0"]]
    finally:
        venue.stop()
        office.stop()
        if proxy:
            proxy.stop()
