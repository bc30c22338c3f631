"""Camera recordings survive the venue being killed, in a real venue process with a real RTSP camera.

Given a venue recording a camera by hand in 2-second segments (GStreamer on loopback, 320×240, H.264),
when the venue is killed with SIGKILL at uneven moments five times and started again each time,
then after a clean stop: no unfinished (.part) file is left; every segment file in the camera's folder has its row
and every row its file, with the same size and SHA-256; every file decodes from start to end with ffmpeg, and its
length (ffprobe) is the row's duration; segments closed at start-up after a kill are marked recovered.
"""
import hashlib
import json
import random
import subprocess
import time

import requests

from conftest import VenueProcess, free_port
from test_camera_probe import cameras  # noqa: F401  (fixture)


def admin_headers(venue):
    token = requests.post(venue.base + "/api/staff/login", json={"username": "admin", "password": "kaodian-admin"},
                          timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def wait_for(condition, timeout, message):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(message)


def test_recordings_survive_sigkill_and_files_agree_with_rows(cameras, tmp_path):  # noqa: F811
    camera = cameras("--size", "320x240", "--fps", "15", "--bitrate-kbps", "300", "--key-int", "15")
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-recording-crash",
                         extra_args=("--segment-seconds", "2"))
    venue.start()
    try:
        headers = admin_headers(venue)
        created = requests.post(venue.base + "/api/admin/cameras", headers=headers, timeout=10,
                                json={"roomId": "R01", "name": "前门", "url": camera.urls[0]}).json()
        camera_id = created["id"]
        assert requests.post(f"{venue.base}/api/admin/cameras/{camera_id}/recording", headers=headers, timeout=10,
                             json={"mode": "on"}).status_code == 200
        folder = tmp_path / "data" / "recordings" / camera_id
        rng = random.Random(7)
        for kill in range(5):
            wait_for(lambda: folder.exists() and any(f.name.endswith(".part") for f in folder.iterdir()), 30,
                     "the recorder did not start a segment")
            time.sleep(2.5 + rng.random() * 3)  # past one cut, somewhere inside the next segment
            venue.kill()
            venue.start()
        headers = admin_headers(venue)
        wait_for(lambda: requests.get(f"{venue.base}/api/admin/recording", headers=headers, timeout=10).json()[0]
                 ["recording"]["state"] == "recording", 30, "recording did not resume after the last restart")
        time.sleep(3)
        venue.stop()
        venue.start()  # a clean stop, then a start that finds nothing to recover
        headers = admin_headers(venue)
        requests.post(f"{venue.base}/api/admin/cameras/{camera_id}/recording", headers=headers, timeout=10,
                      json={"mode": "off"})
        wait_for(lambda: requests.get(f"{venue.base}/api/admin/recording", headers=headers, timeout=10).json()[0]
                 ["recording"]["state"] == "idle", 30, "recording did not stop")
        timeline = requests.get(f"{venue.base}/api/rooms/R01/recordings", headers=headers, timeout=10).json()
    finally:
        venue.stop()

    files = sorted(f.name for f in folder.iterdir())
    assert not [f for f in files if f.endswith(".part")], files
    rows = {segment["fileName"]: segment for segment in timeline["segments"]}
    assert sorted(rows) == files, (sorted(rows), files)
    assert len(rows) >= 8
    assert any(segment["recovered"] for segment in rows.values()), "no segment was recovered after a kill"
    for name, segment in rows.items():
        data = (folder / name).read_bytes()
        assert len(data) == segment["bytes"], name
        assert hashlib.sha256(data).hexdigest() == segment["sha256"], name
        decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(folder / name), "-f", "null", "-"],
                                 capture_output=True, text=True, timeout=60)
        assert decoded.returncode == 0 and not decoded.stderr.strip(), (name, decoded.stderr[-500:])
        probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json",
                                 str(folder / name)], capture_output=True, text=True, timeout=60)
        duration = float(json.loads(probed.stdout)["format"]["duration"])
        assert abs(duration - segment["duration"]) < 0.5, (name, duration, segment["duration"])
