"""Face check-in at the invigilator's desk in real Chromium, with a photo played as the webcam.

Given a venue with the demo exam whose candidates carry real photos (demo candidate i has the first photo of the
i-th person of ../shared/face/lfw-dev with at least two photos), and a Chromium whose fake camera shows ANOTHER
photo of person 0,
when the venue has made a face template of every registered photo,
and the invigilator opens room R01 and the check-in dialog of candidate 0 and presses "Capture and verify",
then the verdict is a match (similarity over the threshold, the face box drawn on the still), candidate 0 is
checked in by face and the roster says so;
when the invigilator does the same for candidate 1 (another person) with the same camera,
then the verdict is a mismatch, manual check-in is no longer offered (not even when the dialog is opened again),
an override without a reason is refused,
and an override with a reason checks candidate 1 in (method faceOverride, the roster marks it overridden);
the room's face verification panel lists both with thumbnails of the captured pictures, the admin API lists both
(with the override reason), the audit log has exactly one face.overridden entry, and the camera is released when
the dialog closes. On a phone-width window the dialog and the panel still work. The admin's face page shows the
enrolment state, filters the list and exports it as CSV.

Screenshots of each step go to test-output/browser/<test name>/.
"""
import subprocess
import time
from pathlib import Path

import pytest
import requests

from browser_helpers import (StaffAPI, Shots, attr, choose, click, console_problems, find, find_all, make_driver,
                             staff_login, text, type_into, wait_until, wait_visible)
from conftest import FACE_DIR, OUTPUT, demo_candidate

SITTING = "S-DEMO-THEORY"
ROOM = "R01"
LFW = FACE_DIR / "lfw-dev"
OVERRIDE_REASON = "已核对身份证原件，照片为多年前拍摄，本人无误"


def people_with_two_photos():
    """The demo's rule: every person of lfw-dev with at least two photos, sorted by name; their photos sorted."""
    people = []
    for person in sorted(p.name for p in LFW.iterdir() if p.is_dir()):
        photos = sorted(f.name for f in (LFW / person).iterdir() if f.name.endswith(".jpg"))
        if len(photos) >= 2:
            people.append((person, [LFW / person / name for name in photos]))
    return people


def fake_camera(photo: Path, folder: Path) -> Path:
    """A 3-second Y4M video of one photo, scaled up to 640 wide (Chromium loops it as the webcam)."""
    out = folder / "cam.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(photo), "-t", "3",
                    "-pix_fmt", "yuv420p", "-vf", "scale=640:-2,pad=ceil(iw/2)*2:ceil(ih/2)*2", str(out)], check=True)
    return out


def wait_enrolled(admin: StaffAPI, timeout: float = 240):
    """Waits until the venue made a template of every registered photo (or gave up on it)."""
    deadline = time.time() + timeout
    state = None
    while time.time() < deadline:
        state = admin.get("/api/admin/face/enrolment")
        if state["available"] and state["status"] and state["status"]["pending"] == 0:
            return state
        assert state["available"], f"face verification is not available: {state.get('message')}"
        time.sleep(1)
    raise AssertionError(f"enrolment still pending after {timeout}s: {state}")


def open_check_in(console, admission):
    click(console, f"checkin-{admission}")
    wait_visible(console, "face-panel")
    wait_until(console, lambda d: attr(d, "face-camera", "data-state") == "live",
               "the camera never went live (see face-camera data-state/data-reason)", timeout=60)
    # The fake camera needs a moment to deliver real frames after the stream starts.
    wait_until(console, lambda d: d.execute_script(
        "const v = document.querySelector('[data-testid=face-video]'); return v.videoWidth > 0 && v.currentTime > 0.3"),
        "the camera shows no picture")


def capture(console):
    click(console, "face-capture")
    wait_visible(console, "face-result", timeout=90)
    return find(console, "face-result")


def still_has_box(console, colour):
    """True when the still shows pixels of the face box colour (the box is drawn over the captured frame)."""
    return console.execute_script("""
        const c = document.querySelector('[data-testid=face-still]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const [r, g, b] = arguments[0];
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 && Math.abs(d[i + 2] - b) < 8) n++;
        return n > 200;""", colour)


def close_dialog(console):
    click(console, "dialog-cancel")
    wait_until(console, lambda d: not find_all(d, '[data-testid="console-dialog"]'), "the dialog did not close")


@pytest.mark.skipif(not LFW.exists(), reason="../shared/face/lfw-dev is not there")
def test_invigilator_checks_candidates_in_by_face_and_overrides_a_mismatch(venue, tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    people = people_with_two_photos()
    person0, photos0 = people[0]
    first, first_id = demo_candidate(0)   # KD261100001: registered photo = photos0[0]
    second, _ = demo_candidate(1)         # KD261100002: another person
    camera = fake_camera(photos0[1], tmp_path)
    (shots.folder / "camera.txt").write_text(f"fake camera: {photos0[1].relative_to(FACE_DIR)} (person 0 = {person0})\n")

    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    enrolment = wait_enrolled(admin)
    assert not {p["id"] for p in enrolment["status"]["problems"]} & {first, second}, enrolment["status"]["problems"]
    threshold = enrolment["threshold"]

    logs, problems = [], []
    console = admin_page = None
    try:
        # 1. The invigilator opens R01 in a Chromium whose webcam plays another photo of person 0.
        console = make_driver(tmp_path / "profile-face", extra_args=(
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"))
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        click(console, f"open-room-{SITTING}-{ROOM}")
        wait_visible(console, f"roster-row-{first}")
        wait_visible(console, "face-verifications")
        wait_until(console, lambda d: attr(d, "face-verifications", "data-count") == "0", "the empty face list did not load")
        shots.take(console, "01-room")

        # 2. Candidate 0: the camera beside the registered photo, then a match that checks them in.
        open_check_in(console, first)
        assert find(console, "dialog-photo").is_displayed() and find(console, "dialog-note").is_displayed()
        shots.take(console, "02-camera-live-candidate-0")
        result = capture(console)
        assert result.get_attribute("data-decision") == "match", text(console, "face-result")
        similarity = float(result.get_attribute("data-similarity"))
        assert similarity >= threshold and float(result.get_attribute("data-threshold")) == pytest.approx(threshold)
        assert text(console, "face-similarity") == f"{similarity:.3f}"
        assert attr(console, "face-decision", "data-decision") == "match" and "通过" in text(console, "face-decision")
        assert attr(console, "face-checked-in", "data-method") == "face"
        assert find(console, "face-still").is_displayed() and still_has_box(console, (0x1e, 0x7b, 0x3c)), "no face box on the still"
        assert not find(console, "face-capture").is_displayed() and not find(console, "dialog-confirm").is_displayed()
        shots.take(console, "03-match-checked-in")
        close_dialog(console)
        wait_until(console, lambda d: attr(d, f"roster-row-{first}", "data-status") == "checkedIn"
                   and attr(d, f"roster-row-{first}", "data-checkin-method") == "face", "the roster does not show the face check-in")
        assert attr(console, f"face-{first}", "data-decision") == "match"
        assert attr(console, f"face-{first}", "data-overridden") == "false"
        entry = {e["admissionNumber"]: e for e in admin.room(SITTING, ROOM)["roster"]}[first]
        assert entry["checkIn"]["method"] == "face" and entry["face"]["decision"] == "match"
        shots.take(console, "04-roster-face-match")

        # 3. Candidate 1 with person 0's face: a mismatch; only an override with a reason checks them in.
        open_check_in(console, second)
        result = capture(console)
        assert result.get_attribute("data-decision") == "mismatch", text(console, "face-result")
        assert float(result.get_attribute("data-similarity")) < threshold
        assert result.get_attribute("data-checked-in") == "false"
        assert "不符" in text(console, "face-decision") and text(console, "face-message")
        assert still_has_box(console, (0xc0, 0x1c, 0x28)), "no face box on the mismatching still"
        assert find(console, "face-retake").is_displayed() and find(console, "face-override").is_displayed()
        assert not find(console, "dialog-confirm").is_displayed(), "manual check-in is still offered after a failed face check"
        shots.take(console, "05-mismatch")
        # Closing and opening the dialog again does not bring manual check-in back: the override is offered at once.
        close_dialog(console)
        wait_until(console, lambda d: attr(d, f"face-{second}", "data-decision") == "mismatch",
                   "the roster does not show the failed check")
        open_check_in(console, second)
        wait_visible(console, "face-last-failed")
        assert find(console, "face-override").is_displayed()
        assert not find(console, "dialog-confirm").is_displayed(), "manual check-in is offered again after a failed check"
        shots.take(console, "05a-reopened-after-mismatch")
        click(console, "face-override")
        click(console, "face-override-confirm")
        wait_visible(console, "face-error")
        assert "原因" in text(console, "face-error")
        type_into(console, "face-override-reason", OVERRIDE_REASON)
        shots.take(console, "06-override-reason")
        click(console, "face-override-confirm")
        wait_visible(console, "face-checked-in")
        assert attr(console, "face-checked-in", "data-method") == "faceOverride"
        shots.take(console, "07-overridden")
        close_dialog(console)
        wait_until(console, lambda d: attr(d, f"roster-row-{second}", "data-checkin-method") == "faceOverride"
                   and attr(d, f"face-{second}", "data-overridden") == "true", "the roster does not show the override")
        assert attr(console, f"roster-row-{second}", "data-status") == "checkedIn"
        assert attr(console, f"face-{second}", "data-decision") == "mismatch"

        # 4. The room's verification panel: both checks, the override reason, thumbnails of the captures.
        wait_until(console, lambda d: attr(d, "face-verifications", "data-count") == "2", "the panel does not list both checks")
        by_person = {row["person"]: row for row in console.execute_script(
            "return [...document.querySelectorAll('[data-testid=face-verifications] tr[data-person]')].map(r => ({"
            "person: r.dataset.person, decision: r.dataset.decision, overridden: r.dataset.overridden,"
            "testid: r.dataset.testid, text: r.innerText}))")}
        assert by_person[first]["decision"] == "match" and by_person[second]["decision"] == "mismatch"
        assert by_person[second]["overridden"] == "true" and OVERRIDE_REASON in by_person[second]["text"]
        assert "invigilator1" in by_person[first]["text"]
        console.execute_script("arguments[0].scrollIntoView({block: 'center'});", find(console, "face-verifications"))
        wait_until(console, lambda d: d.execute_script(
            "return [...document.querySelectorAll('[data-testid=face-verifications] img.face-thumb')]"
            ".filter(i => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')).length") == 2,
            "the captured pictures did not load as thumbnails")
        shots.take(console, "08-verification-panel")
        verification_id = by_person[second]["testid"].removeprefix("face-row-")
        click(console, f"face-thumb-{verification_id}")
        wait_visible(console, "face-capture-dialog")
        wait_until(console, lambda d: attr(d, "face-capture-canvas", "data-drawn"), "the large capture was not drawn")
        assert attr(console, "face-capture-canvas", "data-drawn") == "true", "the captured picture did not load"
        size = console.execute_script(
            "const c = document.querySelector('[data-testid=face-capture-canvas]'); return [c.width, c.height];")
        assert size[0] >= 320 and size[1] >= 240, size
        shots.take(console, "09-capture-large")
        click(console, "dialog-cancel")
        wait_until(console, lambda d: not find_all(d, '[data-testid="face-capture-dialog"]'), "the picture did not close")

        # 5. Phone width, in English: the dialog still works, and closing it releases the camera.
        console.set_window_size(390, 844)
        click(console, "lang-switch")
        wait_until(console, lambda d: "Face verifications" in text(d, "room-view"), "the room did not switch to English")
        admission2, _ = demo_candidate(2)
        open_check_in(console, admission2)
        assert text(console, "face-capture") == "Capture and verify"
        shots.take(console, "10-phone-camera-live")
        console.execute_script("window.kdStream = document.querySelector('[data-testid=face-video]').srcObject;")
        assert console.execute_script("return window.kdStream.getTracks().every(t => t.readyState === 'live')")
        close_dialog(console)
        assert console.execute_script("return window.kdStream.getTracks().every(t => t.readyState === 'ended')"), \
            "the camera was not stopped when the dialog closed"
        console.execute_script("arguments[0].scrollIntoView({block: 'start'});", find(console, "face-verifications"))
        shots.take(console, "11-phone-verification-panel")
        problems += console_problems(console, logs)

        # 6. The record as the admin API shows it, and the audit log.
        listed = admin.get("/api/admin/face/verifications", sittingId=SITTING, roomId=ROOM)
        assert {v["personId"]: v["decision"] for v in listed} == {first: "match", second: "mismatch"}
        overridden = [v for v in listed if v.get("override")]
        assert len(overridden) == 1 and overridden[0]["personId"] == second
        assert overridden[0]["override"]["reason"] == OVERRIDE_REASON and overridden[0]["override"]["by"] == "invigilator1"
        audit = admin.get("/api/admin/audit", limit=1000)
        entries = [e for e in audit if e["action"] == "face.overridden"]
        assert len(entries) == 1, entries
        assert entries[0]["admissionNumber"] == second and entries[0]["reason"] == OVERRIDE_REASON

        # 7. The admin's face page: enrolment, the list, a filter and the CSV export.
        admin_page = make_driver(tmp_path / "profile-admin")
        staff_login(admin_page, venue.base, "admin", "kaodian-admin", page="/admin/")
        click(admin_page, "tab-face")
        wait_visible(admin_page, "face-enrolment")
        wait_until(admin_page, lambda d: attr(d, "face-enrolment", "data-available") == "true", "enrolment not shown")
        assert attr(admin_page, "face-enrolment", "data-pending") == "0"
        assert int(attr(admin_page, "face-enrolment", "data-enrolled")) >= 2
        wait_visible(admin_page, "face-table")
        assert attr(admin_page, "face-count", "data-n") == "2"
        admin_page.execute_script("arguments[0].scrollIntoView({block: 'center'});", find(admin_page, "face-table"))
        wait_until(admin_page, lambda d: len(find_all(d, '[data-testid="face-table"] [data-loaded="true"]')) == 2,
                   "the admin's thumbnails did not load")
        shots.take_full(admin_page, "12-admin-face")
        choose(admin_page, "face-filter-decision", "mismatch")
        click(admin_page, "face-search")
        wait_until(admin_page, lambda d: attr(d, "face-count", "data-n") == "1", "the decision filter did not apply")
        rows = find_all(admin_page, '[data-testid="face-table"] tr[data-person]')
        assert len(rows) == 1 and rows[0].get_attribute("data-person") == second and OVERRIDE_REASON in rows[0].text
        href = attr(admin_page, "face-csv", "href")
        assert "decision=mismatch" in href
        csv = requests.get(href, headers={"Authorization": f"Bearer {admin.token}"}, timeout=30)
        assert csv.status_code == 200 and "text/csv" in csv.headers["Content-Type"]
        body = csv.content.decode("utf-8-sig")
        assert second in body and OVERRIDE_REASON in body and first not in body
        shots.take_full(admin_page, "13-admin-face-filtered")
        admin_page.set_window_size(390, 844)
        click(admin_page, "lang-switch")
        wait_until(admin_page, lambda d: text(d, "tab-face") == "Face", "the admin page did not switch to English")
        wait_visible(admin_page, "face-table")
        shots.take_full(admin_page, "14-admin-face-phone-english")
        problems += console_problems(admin_page, logs)
    finally:
        for driver in (console, admin_page):
            if driver is not None:
                try:
                    problems += console_problems(driver, logs)
                except Exception:  # noqa: BLE001 - the browser may be gone already
                    pass
                driver.quit()
        (shots.folder / "browser-console.txt").write_text("\n".join(str(e) for e in logs))
    assert not problems, f"browser console problems: {problems}"
