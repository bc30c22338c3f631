"""The venue admin registers a room camera and tests it, in real Chromium against a real RTSP camera.

Given a venue and an RTSP camera on loopback (GStreamer, 320×240 at 15 fps, H.264, with a user name and password),
when the admin adds the camera to room R01 on the 考场摄像头 page with the URL and its password,
then the list shows the URL with the password masked (and the page never receives the password);
when the admin presses 测试, the result reads H264 · 320×240 · 15.00 fps with a measured bitrate;
when the admin sets it to record by hand (手动开始), the list shows it recording and, a little later, stored segments
(the venue cuts 2-second segments here) and the bitrate the camera sends; set back to 手动停止 it stops;
on the 录像回放 tab the room's timeline for today shows those segments, and a segment plays in the page (the video
element decodes frames);
when the admin changes the URL to a wrong password and tests again, the result says the camera refused the
credentials (camera_unauthorised); after switching it off and removing it the list is empty, and every step is in
the audit log. On a phone-width window the page still works.

Screenshots go to test-output/browser/<test name>/.
"""
import requests

from browser_helpers import (Shots, attr, choose, click, console_problems, find_all, make_driver, staff_login, text, type_into, wait_until,
                             wait_visible)
from conftest import OUTPUT, VenueProcess, free_port
from test_camera_probe import cameras  # noqa: F401  (fixture)

PASSWORD = "Cam-Pass-2046"


def test_the_admin_adds_tests_records_and_removes_a_room_camera(cameras, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-cameras", extra_args=("--segment-seconds", "2"))
    venue.start()
    camera = cameras("--size", "320x240", "--fps", "15", "--bitrate-kbps", "400", "--user", "cam", "--password", PASSWORD)
    secret_url = camera.urls[0].replace("rtsp://", f"rtsp://cam:{PASSWORD}@")
    driver = make_driver(tmp_path / "profile", width=390, height=844)
    try:
        staff_login(driver, venue.base, "admin", "kaodian-admin", page="/admin/")
        wait_visible(driver, "tab-cameras")
        click(driver, "tab-cameras")
        wait_visible(driver, "cameras-none")
        click(driver, "cameras-add")
        wait_visible(driver, "admin-dialog")
        choose(driver, "camera-form-room", "R01")
        type_into(driver, "camera-form-name", "前门")
        type_into(driver, "camera-form-url", secret_url)
        shots.take(driver, "01-add")
        click(driver, "dialog-confirm")
        wait_visible(driver, "cameras-table")
        rows = find_all(driver, '[data-testid^="camera-row-"]')
        assert len(rows) == 1
        camera_id = rows[0].get_attribute("data-testid").removeprefix("camera-row-")
        assert text(driver, f"camera-url-{camera_id}") == camera.urls[0].replace("rtsp://", "rtsp://cam:***@")
        assert PASSWORD not in driver.page_source
        assert attr(driver, f"camera-row-{camera_id}", "data-room") == "R01"

        click(driver, f"camera-test-{camera_id}")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-test") == "ok", "the test did not pass", timeout=40)
        result = text(driver, f"camera-result-{camera_id}")
        assert "H264" in result and "320×240" in result and "15.00 fps" in result, result
        shots.take(driver, "02-tested")

        choose(driver, f"camera-mode-{camera_id}", "on")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-recording") == "recording",
                   "the camera did not start recording", timeout=40)
        wait_until(driver, lambda d: int(attr(d, f"camera-disk-{camera_id}", "data-segments")) >= 2,
                   "no segments were stored", timeout=60)
        wait_until(driver, lambda d: 150_000 < int(attr(d, f"camera-bitrate-{camera_id}", "data-bitrate") or 0) < 900_000,
                   "the recording bitrate is not shown", timeout=30)
        shots.take(driver, "03-recording")
        choose(driver, f"camera-mode-{camera_id}", "off")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-recording") == "idle",
                   "the recording did not stop", timeout=40)
        timeline = requests.get(f"{venue.base}/api/rooms/R01/recordings", timeout=10,
                                headers={"Authorization": f"Bearer {admin_token(venue)}"}).json()
        files = [tmp_path / "data" / "recordings" / camera_id / segment["fileName"] for segment in timeline["segments"]]
        assert len(files) >= 2 and all(f.exists() for f in files), files

        click(driver, "tab-playback")
        wait_visible(driver, f"playback-timeline-{camera_id}")
        assert int(attr(driver, f"playback-timeline-{camera_id}", "data-segments")) == len(files)
        first = sorted(timeline["segments"], key=lambda s: s["startedAt"])[0]["fileName"]
        click(driver, f"playback-play-{camera_id}-{first}")
        wait_until(driver, lambda d: attr(d, "playback-video", "data-file") == first, "the segment was not loaded", timeout=30)
        wait_until(driver, lambda d: d.execute_script(
            "const v = document.querySelector('[data-testid=playback-video]');"
            " return v.getVideoPlaybackQuality().totalVideoFrames > 5 && v.videoWidth === 320"),
            "the segment does not play", timeout=30)
        shots.take(driver, "03b-playback")
        problems = console_problems(driver, [])
        assert not problems, problems
        click(driver, "tab-cameras")
        wait_visible(driver, "cameras-table")

        click(driver, f"camera-edit-{camera_id}")
        wait_visible(driver, "admin-dialog")
        type_into(driver, "camera-form-url", camera.urls[0].replace("rtsp://", "rtsp://cam:wrong-one@"))
        click(driver, "dialog-confirm")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-test") == "none", "the old result stayed")
        click(driver, f"camera-test-{camera_id}")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-test") == "failed", "the wrong password passed", timeout=40)
        assert attr(driver, f"camera-result-{camera_id}", "data-code") == "camera_unauthorised"
        assert "wrong-one" not in driver.page_source
        shots.take(driver, "04-unauthorised")

        click(driver, f"camera-toggle-{camera_id}")
        wait_until(driver, lambda d: attr(d, f"camera-row-{camera_id}", "data-enabled") == "false", "not switched off")
        click(driver, f"camera-delete-{camera_id}")
        wait_visible(driver, "admin-dialog")
        click(driver, "dialog-confirm")
        wait_visible(driver, "cameras-none")

        log = requests.get(venue.base + "/api/admin/audit", headers={"Authorization": f"Bearer {admin_token(venue)}"},
                           timeout=10).json()
        actions = sorted(e["action"] for e in log if e["action"].startswith("camera."))
        assert actions == ["camera.created", "camera.deleted", "camera.tested", "camera.tested", "camera.updated",
                           "camera.updated", "camera.updated", "camera.updated"], actions
        assert not any(PASSWORD in str(e.get("detail")) for e in log)
    finally:
        driver.quit()
        venue.stop()


def admin_token(venue) -> str:
    return requests.post(venue.base + "/api/staff/login", json={"username": "admin", "password": "kaodian-admin"},
                         timeout=10).json()["token"]


def test_a_room_sitting_an_exam_without_recording_shows_an_alert_on_the_console_and_the_admin_page(tmp_path, request):
    """Given a sitting that started two minutes ago and rooms without cameras (alerts after 1 s here), the invigilator's
    room screen shows that the room is not recorded, and the admin's camera page lists the open alerts."""
    shots = Shots(OUTPUT / "browser" / request.node.name)
    venue = VenueProcess(tmp_path / "data", free_port(), demo_start_in=-120, log_name="venue-recording-alerts",
                         extra_args=("--recording-alerts-after", "1"))
    venue.start()
    console = make_driver(tmp_path / "profile-console", width=390, height=844)
    admin = make_driver(tmp_path / "profile-admin")
    try:
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        click(console, "open-room-S-DEMO-THEORY-R01")
        wait_visible(console, "room-recording-alerts", timeout=40)
        alerts = find_all(console, '[data-testid^="room-recording-alert-"]')
        assert [a.get_attribute("data-kind") for a in alerts] == ["room_not_recorded"]
        assert "未录像" in text(console, "room-recording-alerts")
        shots.take(console, "01-console-alert")
        staff_login(admin, venue.base, "admin", "kaodian-admin", page="/admin/")
        click(admin, "tab-cameras")
        wait_until(admin, lambda d: attr(d, "recording-alerts", "data-count") == "2", "the admin page does not list both rooms")
        shots.take(admin, "02-admin-alerts")
    finally:
        console.quit()
        admin.quit()
        venue.stop()
