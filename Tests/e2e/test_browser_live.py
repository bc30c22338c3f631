"""Watching the room cameras live and playing back their recordings, in real Chromium against real RTSP cameras.

Given a venue whose room R01 has two cameras (GStreamer, 320×240 at 25 fps, H.264): 前门 recording by hand, 后门
not recording (its room has no sitting yet),
when the admin opens 实时监控 for R01, both pictures play in the page (the video elements decode new frames, within
about a second of the live edge), and 后门 is connected for its live picture only (state `viewing`, nothing stored);
once the admin leaves the page, 后门 is disconnected again;
when invigilator1 (room R01) opens the room in the console and shows the live picture, both play there too;
from the console the invigilator opens the room's recordings, sees the recorded camera's timeline and plays a
segment; a link at a moment (as an incident's 回放 link makes) plays the segment holding that moment from there;
invigilator2 (another room) may neither watch nor play back R01.

Screenshots go to test-output/browser/<test name>/.
"""
import time

import requests

from browser_helpers import Shots, StaffAPI, attr, click, console_problems, find_all, make_driver, staff_login, wait_until, wait_visible
from conftest import OUTPUT, VenueProcess, free_port
from test_camera_probe import cameras  # noqa: F401  (fixture)

FRAMES = "return document.querySelector('[data-testid=\"{}\"]').getVideoPlaybackQuality().totalVideoFrames"
LAG = ("const v = document.querySelector('[data-testid=\"{}\"]');"
       " return v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : 99")


def frames(driver, testid):
    return driver.execute_script(FRAMES.format(testid))


def expect_playing(driver, testid, what):
    """The video element decodes frames, keeps decoding them, and stays near the live edge."""
    wait_until(driver, lambda d: frames(d, testid) > 10, f"{what}: no frames decoded", timeout=40)
    before = frames(driver, testid)
    time.sleep(2)
    after = frames(driver, testid)
    assert after - before >= 20, f"{what}: {after - before} frames in 2 s"
    lag = driver.execute_script(LAG.format(testid))
    assert lag < 2.0, f"{what}: {lag:.2f} s behind the newest frame received"


def test_live_view_and_playback_for_the_admin_and_the_room_invigilator(cameras, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-live", extra_args=("--segment-seconds", "2"))
    venue.start()
    camera = cameras("--size", "320x240", "--fps", "25", "--key-int", "25", "--bitrate-kbps", "400",
                     "--mount", "/front", "--mount", "/back", mounts=2)
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    front = admin.post("/api/admin/cameras", {"roomId": "R01", "name": "前门", "url": camera.urls[0]})["id"]
    back = admin.post("/api/admin/cameras", {"roomId": "R01", "name": "后门", "url": camera.urls[1]})["id"]
    admin.post(f"/api/admin/cameras/{front}/recording", {"mode": "on"})
    driver = make_driver(tmp_path / "profile", width=1280, height=900)
    try:
        staff_login(driver, venue.base, "admin", "kaodian-admin", page="/admin/")
        wait_visible(driver, "tab-live")
        click(driver, "tab-live")
        wait_visible(driver, "live-grid")
        assert attr(driver, "live-grid", "data-count") == "2"
        expect_playing(driver, f"live-video-{front}", "前门 (admin)")
        expect_playing(driver, f"live-video-{back}", "后门 (admin)")
        assert attr(driver, f"live-tile-{back}", "data-state") == "playing"
        assert attr(driver, f"live-video-{front}", "data-codec").startswith("avc1.")
        states = {c["camera"]["id"]: c for c in admin.get("/api/rooms/R01/cameras")}
        assert states[front]["recording"]["state"] == "recording"
        assert states[back]["recording"]["state"] == "viewing", states[back]
        assert states[back]["live"]["width"] == 320
        shots.take(driver, "01-admin-live")
        problems = console_problems(driver, [])
        assert not problems, problems

        # Leaving the page closes the pictures: the camera that is not recording is disconnected.
        click(driver, "tab-cameras")
        deadline = time.time() + 20
        while time.time() < deadline:
            state = {c["camera"]["id"]: c for c in admin.get("/api/rooms/R01/cameras")}[back]["recording"]["state"]
            if state == "idle":
                break
            time.sleep(0.5)
        assert state == "idle", state
        assert not (tmp_path / "data" / "recordings" / back).exists() or not list((tmp_path / "data" / "recordings" / back).iterdir())

        # The room's invigilator, in the console.
        driver.delete_all_cookies()
        staff_login(driver, venue.base, "invigilator1", "kaodian-demo", page="/console/")
        driver.get(f"{venue.base}/console/#room/S-DEMO-THEORY/R01")
        wait_visible(driver, "live-toggle")
        click(driver, "live-toggle")
        wait_visible(driver, "live-grid")
        expect_playing(driver, f"live-video-{front}", "前门 (invigilator)")
        expect_playing(driver, f"live-video-{back}", "后门 (invigilator)")
        shots.take(driver, "02-console-live")

        click(driver, "room-playback")
        wait_visible(driver, f"playback-timeline-{front}")
        invigilator = StaffAPI(venue.base, "invigilator1", "kaodian-demo")
        segments = sorted(invigilator.get("/api/rooms/R01/recordings")["segments"], key=lambda s: s["startedAt"])
        assert segments and all(s["cameraId"] == front for s in segments)
        assert int(attr(driver, f"playback-timeline-{front}", "data-segments")) >= 1
        first = segments[0]
        click(driver, f"playback-play-{front}-{first['fileName']}")
        wait_until(driver, lambda d: attr(d, "playback-video", "data-file") == first["fileName"], "the segment was not loaded", timeout=30)
        wait_until(driver, lambda d: frames(d, "playback-video") > 5, "the segment does not play", timeout=30)
        shots.take(driver, "03-console-playback")

        # An incident's 回放 link plays the segment holding its moment, from that moment.
        target = segments[-1]
        moment = target["startedAt"] + 1000
        incident = invigilator.post("/api/console/sittings/S-DEMO-THEORY/rooms/R01/incidents",
                                    {"category": "disturbance", "note": "走廊有噪音", "occurredAt": moment})["id"]
        driver.get(f"{venue.base}/console/#room/S-DEMO-THEORY/R01")
        wait_visible(driver, f"incident-playback-{incident}")
        click(driver, f"incident-playback-{incident}")
        wait_until(driver, lambda d: attr(d, "playback-video", "data-file") == target["fileName"], "the moment's segment was not loaded", timeout=30)
        wait_until(driver, lambda d: d.execute_script(
            "return document.querySelector('[data-testid=playback-video]').currentTime") >= 0.9,
            "playback did not start at the moment", timeout=30)
        shots.take(driver, "04-console-moment")
        problems = console_problems(driver, [])
        assert not problems, problems

        other = StaffAPI(venue.base, "invigilator2", "kaodian-demo")
        for path in ("/api/rooms/R01/cameras", "/api/rooms/R01/recordings", f"/api/rooms/R01/cameras/{front}/live",
                     f"/api/rooms/R01/recordings/{front}/{first['fileName']}"):
            r = requests.get(venue.base + path, headers={"Authorization": f"Bearer {other.token}"}, timeout=10)
            assert r.status_code == 403, (path, r.status_code)
    finally:
        driver.quit()
        venue.stop()


def test_the_admin_uploads_a_recording_made_by_other_means_and_downloads_a_range(tmp_path, request):
    """Given a 6-second H.264 recording from a separate recorder (MP4 made with ffmpeg) and a text file,
    when the admin uploads the text file on the 录像回放 page, the page says why it was refused and nothing is stored;
    when the admin uploads the video with its start time, the page says it was stored in segments, the room's timeline
    for that day shows them under 手动上传的录像, a segment plays, and the download link gives one MP4 of the range."""
    import subprocess
    from datetime import datetime

    shots = Shots(OUTPUT / "browser" / request.node.name)
    clip = tmp_path / "recorder.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "6",
                    "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", str(clip)], check=True)
    notes = tmp_path / "notes.txt"
    notes.write_text("这不是视频\n", encoding="utf-8")
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-upload", extra_args=("--segment-seconds", "2"))
    venue.start()
    driver = make_driver(tmp_path / "profile", width=1280, height=900)
    try:
        staff_login(driver, venue.base, "admin", "kaodian-admin", page="/admin/")
        wait_visible(driver, "tab-playback")
        click(driver, "tab-playback")
        wait_visible(driver, "upload-file")
        started = datetime.now().replace(microsecond=0)
        started = started.replace(hour=max(0, started.hour - 1))
        driver.execute_script(
            "const i = document.querySelector('[data-testid=upload-start]'); i.value = arguments[0];"
            " i.dispatchEvent(new Event('input'));", started.strftime("%Y-%m-%dT%H:%M:%S"))

        driver.find_element("css selector", '[data-testid="upload-file"]').send_keys(str(notes))
        click(driver, "upload-submit")
        wait_visible(driver, "upload-error")
        assert attr(driver, "upload-error", "data-code") == "upload_not_a_video", attr(driver, "upload-error", "data-code")
        shots.take(driver, "01-refused")

        driver.find_element("css selector", '[data-testid="upload-file"]').send_keys(str(clip))
        click(driver, "upload-submit")
        wait_visible(driver, "upload-result", timeout=60)
        assert int(attr(driver, "upload-result", "data-segments")) == 3
        shots.take(driver, "02-stored")

        click(driver, "playback-show")
        wait_visible(driver, "playback-timeline-upload-R01")
        assert int(attr(driver, "playback-timeline-upload-R01", "data-segments")) == 3
        first = find_all(driver, '[data-testid^="playback-play-upload-R01-"]')[0].get_attribute("data-testid")
        click(driver, first)
        wait_until(driver, lambda d: frames(d, "playback-video") > 5, "the uploaded recording does not play", timeout=30)
        shots.take(driver, "03-playback")
        link = driver.find_element("css selector", '[data-testid="playback-export-link-upload-R01"]').get_attribute("href")
        admin = StaffAPI(venue.base, "admin", "kaodian-admin")
        download = requests.get(link, headers={"Authorization": f"Bearer {admin.token}"}, timeout=60)
        assert download.status_code == 200 and download.headers["Content-Type"] == "video/mp4"
        out = tmp_path / "range.mp4"
        out.write_bytes(download.content)
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
                               capture_output=True, text=True, check=True)
        assert abs(float(probe.stdout.strip()) - 6.0) < 0.2, probe.stdout
        problems = console_problems(driver, [])
        assert not problems, problems
    finally:
        driver.quit()
        venue.stop()


def test_the_demo_films_its_rooms_with_the_cameras_it_is_given(cameras, tmp_path):  # noqa: F811
    """`venue serve --demo --demo-camera R01=URL …` (what scripts/demo.sh passes for its GStreamer test cameras)
    registers one 演示摄像头 per room; as the demo sitting is less than 10 minutes away, both record at once. Started
    again with other URLs, the same cameras are updated rather than doubled; a malformed value stops the venue."""
    import subprocess

    from conftest import venue_binary

    camera = cameras("--size", "320x240", "--fps", "15", "--bitrate-kbps", "300", "--mount", "/r01", "--mount", "/r02", mounts=2)
    args = ("--segment-seconds", "2", "--demo-camera", f"R01={camera.urls[0]}", "--demo-camera", f"R02={camera.urls[1]}")
    venue = VenueProcess(tmp_path / "data", free_port(), demo_start_in=120, log_name="venue-demo-cameras", extra_args=args)
    venue.start()
    try:
        admin = StaffAPI(venue.base, "admin", "kaodian-admin")
        registered = admin.get("/api/admin/cameras")
        assert sorted((c["roomId"], c["name"], c["url"]) for c in registered) == [
            ("R01", "演示摄像头", camera.urls[0]), ("R02", "演示摄像头", camera.urls[1])]
        deadline = time.time() + 40
        states = []
        while time.time() < deadline:
            states = [entry["recording"]["state"] for entry in admin.get("/api/admin/recording")]
            if states == ["recording", "recording"]:
                break
            time.sleep(0.5)
        assert states == ["recording", "recording"], states
    finally:
        venue.stop()

    venue.extra_args = ["--demo-camera", f"R01={camera.urls[1]}", "--demo-camera", f"R02={camera.urls[0]}"]
    venue.start()
    try:
        admin = StaffAPI(venue.base, "admin", "kaodian-admin")
        moved = {c["roomId"]: c["url"] for c in admin.get("/api/admin/cameras")}
        assert moved == {"R01": camera.urls[1], "R02": camera.urls[0]}
    finally:
        venue.stop()

    refused = subprocess.run([venue_binary(), "serve", "--data-dir", str(tmp_path / "other"), "--host", "127.0.0.1",
                              "--port", str(free_port()), "--https-port=0", "--demo", "--demo-camera", "R01"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "ROOM=rtsp://" in refused.stdout + refused.stderr
