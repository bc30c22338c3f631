"""Face checks on the candidate terminal and the staff face sign-in, in real Chromium with a photo as the webcam.

Self check-in — given a venue whose running sitting asks candidates to check in by face at the terminal (demo
candidate i has the first photo of the i-th person of ../shared/face/lfw-dev with at least two photos) and
terminals whose fake camera shows ANOTHER photo of person 0:
when candidate 1 logs in, the paper stays closed and a check-in card shows; a picture of person 0 is "not
recognised" with 4 tries left, and the room's face alerts on the invigilator console list it with its picture;
when candidate 0 logs in and takes a picture, it passes, the camera goes off and the paper opens;
when the invigilator checks candidate 1 in at the desk (an override with a reason), candidate 1's terminal notices
by itself and opens the paper.

Random re-checks — given a running sitting with 20 re-checks and a terminal camera showing somebody else:
while the candidate answers, the small "identity check" overlay comes up by itself, takes a picture after about
3 s and sends it; the venue records a mismatch that the console's face alerts show with a thumbnail; answers keep
saving; and when the camera cannot be opened the terminal reports that instead (shown as 摄像头不可用).

Staff sign-in — given the invigilator's camera shows another photo of the invigilator's registered person,
the "sign in by face" dialog on the console verifies them, the dialog's history and the admin API list it, and the
admin's face page filters it by purpose and shows the person kind.

Screenshots of each step go to test-output/browser/<test name>/.
"""

import pytest
import requests

from browser_helpers import (StaffAPI, Shots, attr, choose, click, console_problems, find, find_all, make_driver,
                             staff_login, text, wait_until, wait_visible)
from conftest import FACE_DIR, OUTPUT, VenueProcess, demo_candidate, free_port
from test_browser_face import LFW, fake_camera, people_with_two_photos, wait_enrolled

SITTING = "S-DEMO-THEORY"
ROOM = "R01"
OVERRIDE_REASON = "已核对身份证原件，本人无误"

pytestmark = pytest.mark.skipif(not LFW.exists(), reason="../shared/face/lfw-dev is not there")


def camera_args(camera):
    return ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}")


@pytest.fixture
def start_venue(tmp_path):
    """start_venue(demo_start_in, extra_args): a fresh demo venue with more `venue serve` options; every venue
    started is stopped when the test ends."""
    started = []

    def start(demo_start_in=3600, extra_args=()):
        server = VenueProcess(tmp_path / f"venue-data-{len(started)}", free_port(), demo_start_in=demo_start_in,
                              extra_args=extra_args)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def terminal_login(driver, base, index):
    admission, id_number = demo_candidate(index)
    driver.get(base + "/terminal/")
    wait_visible(driver, "login-view")
    find(driver, "login-admission").send_keys(admission)
    find(driver, "login-id").send_keys(id_number)
    click(driver, "login-submit")
    return admission


def self_check(driver):
    """Opens the camera on the check-in card, waits for real frames and presses 'Capture and verify'."""
    click(driver, "selfcheck-start")
    wait_until(driver, lambda d: attr(d, "selfcheck-card", "data-state") == "live", "the camera never went live", timeout=60)
    wait_until(driver, lambda d: d.execute_script(
        "const v = document.querySelector('[data-testid=selfcheck-video]'); return v.videoWidth > 0 && v.currentTime > 0.3"),
        "the camera shows no picture")
    click(driver, "selfcheck-capture")
    wait_visible(driver, "selfcheck-result", timeout=90)
    return attr(driver, "selfcheck-result", "data-decision")


def wait_saved(driver):
    wait_until(driver, lambda d: attr(d, "save-status", "data-state") == "saved" and attr(d, "save-status", "data-pending") == "0",
               "the answer was not saved")


def open_staff_face_camera(driver):
    """Opens the staff face sign-in dialog and waits until its camera shows a moving picture."""
    click(driver, "staff-face-signin")
    wait_visible(driver, "staff-face-dialog")
    wait_until(driver, lambda d: attr(d, "staff-face-camera", "data-state") == "live", "the camera never went live", timeout=60)
    wait_until(driver, lambda d: d.execute_script(
        "const v = document.querySelector('[data-testid=staff-face-video]'); return v.videoWidth > 0 && v.currentTime > 0.3"),
        "the camera shows no picture")


def close_all(drivers, logs, shots):
    problems = []
    for driver in drivers:
        if driver is None:
            continue
        try:
            problems += console_problems(driver, logs)
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass
        driver.quit()
    (shots.folder / "browser-console.txt").write_text("\n".join(str(e) for e in logs))
    return problems


def alerts_of(api, admission=None):
    alerts = api.room(SITTING, ROOM)["faceAlerts"]
    return [a for a in alerts if admission is None or a["personId"] == admission]


def test_candidates_check_in_by_face_at_the_terminal_or_at_the_desk(start_venue, tmp_path, request):
    venue = start_venue(-30, ("--demo-duration", "30", "--demo-self-check-in"))
    shots = Shots(OUTPUT / "browser" / request.node.name)
    people = people_with_two_photos()
    camera = fake_camera(people[0][1][1], tmp_path)
    (shots.folder / "camera.txt").write_text(f"fake camera: {people[0][1][1].relative_to(FACE_DIR)} (person 0)\n")
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    invigilator = StaffAPI(venue.base, "invigilator1", "kaodian-demo")
    wait_enrolled(admin)

    logs, drivers = [], []
    try:
        # 1. Candidate 1 on a phone-sized terminal whose camera shows person 0: the card, then "not recognised".
        phone = make_driver(tmp_path / "profile-phone", width=390, height=844, extra_args=camera_args(camera))
        drivers.append(phone)
        second = terminal_login(phone, venue.base, 1)
        wait_visible(phone, "selfcheck-card")
        assert find(phone, "waiting-view").is_displayed() and not find_all(phone, '[data-testid="exam-view"]')
        assert attr(phone, "selfcheck-card", "data-state") == "idle"
        assert "人脸核验签到" in text(phone, "selfcheck-card")
        shots.take(phone, "01-phone-card")
        assert self_check(phone) == "mismatch"
        assert "核验未通过" in text(phone, "selfcheck-result") and text(phone, "selfcheck-message")
        assert attr(phone, "selfcheck-tries", "data-n") == "4" and "4" in text(phone, "selfcheck-tries")
        assert attr(phone, "selfcheck-card", "data-state") == "live", "the camera should stay on for another try"
        assert "0." not in text(phone, "selfcheck-card"), "the candidate must not see a similarity"
        shots.take(phone, "02-phone-mismatch")
        # Reloading keeps the card (the paper is still closed) and the tries left.
        phone.refresh()
        wait_visible(phone, "selfcheck-card")
        assert attr(phone, "selfcheck-tries", "data-n") == "4"
        assert not find_all(phone, '[data-testid="exam-view"]')
        click(phone, "lang-switch")
        wait_until(phone, lambda d: text(d, "selfcheck-start") == "Open the camera", "the card did not switch to English")
        assert "4 tries left" in text(phone, "selfcheck-tries")
        shots.take(phone, "02a-phone-card-english")
        click(phone, "lang-switch")
        wait_until(phone, lambda d: text(d, "selfcheck-start") == "打开摄像头", "the card did not switch back to Chinese")

        # 2. Candidate 0 with their own face: passed, the camera goes off, the paper opens.
        pc = make_driver(tmp_path / "profile-pc", extra_args=camera_args(camera))
        drivers.append(pc)
        first = terminal_login(pc, venue.base, 0)
        wait_visible(pc, "selfcheck-card")
        shots.take(pc, "03-pc-card")
        pc.execute_script("window.kdVideo = document.querySelector('[data-testid=selfcheck-video]');")
        assert self_check(pc) == "match"
        assert "核验通过" in text(pc, "selfcheck-result")
        assert pc.execute_script("return window.kdVideo.srcObject === null"), "the camera was not released"
        shots.take(pc, "04-pc-passed")
        wait_visible(pc, "exam-view")
        wait_visible(pc, "question-Q-SC-01")
        assert not find_all(pc, '[data-testid="selfcheck-card"]')
        click(pc, "option-Q-SC-01-a")
        wait_saved(pc)
        shots.take(pc, "05-pc-exam")
        roster = {e["admissionNumber"]: e for e in invigilator.room(SITTING, ROOM)["roster"]}
        assert roster[first]["checkIn"]["method"] == "selfFace"

        # 3. The invigilator's room screen: the failed self check-in in the face alerts, with its picture.
        alerts = alerts_of(invigilator, second)
        assert len(alerts) == 1 and alerts[0]["purpose"] == "selfCheckIn" and alerts[0]["decision"] == "mismatch", alerts
        assert not alerts_of(invigilator, first)
        alert_id = alerts[0]["id"]
        console = make_driver(tmp_path / "profile-console")
        drivers.append(console)
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        click(console, f"open-room-{SITTING}-{ROOM}")
        wait_visible(console, "face-alerts")
        assert text(console, "face-alerts-count") == "1"
        row = f"face-alert-{alert_id}"
        wait_visible(console, row)
        assert attr(console, row, "data-decision") == "mismatch" and attr(console, row, "data-purpose") == "selfCheckIn"
        assert "自助签到" in text(console, row) and "不符" in text(console, row)
        wait_until(console, lambda d: attr(d, f"face-alert-thumb-{alert_id}", "data-loaded") == "true", "no thumbnail")
        assert attr(console, f"checkin-method-{first}", "data-method") == "selfFace"
        assert "终端人脸签到" in text(console, f"roster-row-{first}")
        shots.take(console, "06-console-face-alerts")

        # 4. The invigilator checks candidate 1 in at the desk: the phone notices and opens the paper by itself.
        invigilator.post(f"/api/console/sittings/{SITTING}/rooms/{ROOM}/candidates/{second}/check-in",
                         {"verificationId": alert_id, "overrideReason": OVERRIDE_REASON})
        wait_visible(phone, "exam-view", timeout=30)
        wait_visible(phone, "question-Q-SC-01")
        shots.take(phone, "07-phone-exam-after-desk-check-in")
        problems = []
    finally:
        problems = close_all(drivers, logs, shots)
    assert not problems, f"browser console problems: {problems}"


def test_random_rechecks_during_the_exam_never_stop_the_candidate(start_venue, tmp_path, request):
    venue = start_venue(-40, ("--demo-duration", "5", "--demo-rechecks", "20"))
    shots = Shots(OUTPUT / "browser" / request.node.name)
    people = people_with_two_photos()
    camera = fake_camera(people[1][1][1], tmp_path)  # person 1's face in front of candidate 0's terminal
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    invigilator = StaffAPI(venue.base, "invigilator1", "kaodian-demo")
    wait_enrolled(admin)

    logs, drivers = [], []
    try:
        terminal = make_driver(tmp_path / "profile-terminal", extra_args=camera_args(camera))
        drivers.append(terminal)
        admission = terminal_login(terminal, venue.base, 0)
        wait_visible(terminal, "exam-view")
        assert not find_all(terminal, '[data-testid="selfcheck-card"]'), "no self check-in was asked for"
        click(terminal, "option-Q-SC-01-a")
        wait_saved(terminal)

        # 1. A re-check comes up by itself: camera, picture, sent; the paper stays usable meanwhile.
        wait_until(terminal, lambda d: find(d, "recheck-overlay").is_displayed(), "no re-check within 90 s", timeout=90)
        assert attr(terminal, "recheck-overlay", "data-state") in ("camera", "sending", "done")
        assert "身份核验" in text(terminal, "recheck-overlay")
        shots.take(terminal, "01-recheck-overlay")
        click(terminal, "option-Q-SC-02-a")  # answering goes on while the overlay shows
        wait_until(terminal, lambda d: attr(d, "recheck-overlay", "data-state") == "done", "the re-check was not sent", timeout=60)
        assert attr(terminal, "recheck-overlay", "data-decision") == "mismatch"
        shots.take(terminal, "02-recheck-done")
        wait_until(terminal, lambda d: not find(d, "recheck-overlay").is_displayed(), "the overlay did not go away")
        assert terminal.execute_script("return document.querySelector('[data-testid=recheck-video]').srcObject === null"), \
            "the camera was not released"
        wait_saved(terminal)
        assert find(terminal, "option-Q-SC-02-a").is_selected()

        alerts = [a for a in alerts_of(invigilator, admission) if a["purpose"] == "recheck"]
        assert alerts and alerts[0]["decision"] == "mismatch" and alerts[0]["hasPicture"], alerts
        alert_id = alerts[0]["id"]
        assert "similarity" not in terminal.page_source.lower()

        # 2. The console's face alerts show it with the picture.
        console = make_driver(tmp_path / "profile-console")
        drivers.append(console)
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        click(console, f"open-room-{SITTING}-{ROOM}")
        wait_visible(console, f"face-alert-{alert_id}")
        assert attr(console, f"face-alert-{alert_id}", "data-purpose") == "recheck"
        assert "随机抽检" in text(console, f"face-alert-{alert_id}")
        wait_until(console, lambda d: attr(d, f"face-alert-thumb-{alert_id}", "data-loaded") == "true", "no thumbnail")
        shots.take(console, "03-console-recheck-alert")
        click(console, f"face-alert-thumb-{alert_id}")
        wait_until(console, lambda d: attr(d, "face-capture-canvas", "data-drawn") == "true", "the large picture was not drawn")
        shots.take(console, "04-console-recheck-picture")
        click(console, "dialog-cancel")

        # 3. The camera breaks: the next re-check reports it instead of a picture, and answering goes on.
        terminal.execute_script("""
            navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('busy', 'NotReadableError'));""")
        wait_until(terminal, lambda d: attr(d, "recheck-overlay", "data-state") == "failed", "no camera failure reported", timeout=90)
        assert "摄像头不可用" in text(terminal, "recheck-overlay")
        shots.take(terminal, "05-recheck-camera-failed")
        click(terminal, "option-Q-TF-01-true")
        wait_saved(terminal)
        wait_until(console, lambda d: any(
            r.get_attribute("data-problem") == "camera_unavailable" for r in find_all(d, '[data-testid="face-alerts"] li[data-problem]')),
            "the console does not show the camera failure")
        assert "摄像头不可用" in text(console, "face-alerts")
        console.set_window_size(390, 844)
        console.execute_script("arguments[0].scrollIntoView({block: 'start'});", find(console, "face-alerts"))
        shots.take(console, "06-phone-console-face-alerts")
        failed = [a for a in alerts_of(invigilator, admission) if a.get("problem") == "camera_unavailable"]
        assert failed and failed[0]["decision"] == "unusable" and not failed[0]["hasPicture"], failed
        # The answers are all there.
        answers = {a["questionId"] for a in requests.get(
            venue.base + "/api/attempt/paper", headers={"Authorization": "Bearer " + terminal.execute_script(
                "return JSON.parse(localStorage.getItem('kd.candidate')).token")}, timeout=30).json()["answers"]}
        assert {"Q-SC-01", "Q-SC-02", "Q-TF-01"} <= answers, answers
        problems = []
    finally:
        problems = close_all(drivers, logs, shots)
    assert not problems, f"browser console problems: {problems}"


def test_invigilator_signs_in_by_face_on_the_console(start_venue, tmp_path, request):
    venue = start_venue()
    shots = Shots(OUTPUT / "browser" / request.node.name)
    people = people_with_two_photos()
    camera = fake_camera(people[61][1][1], tmp_path)  # invigilator1's registered photo is person 61's first
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    wait_enrolled(admin)

    logs, drivers = [], []
    try:
        console = make_driver(tmp_path / "profile-console", extra_args=camera_args(camera))
        drivers.append(console)
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        open_staff_face_camera(console)
        wait_until(console, lambda d: attr(d, "staff-face-history", "data-count") == "0", "the empty history did not load")
        shots.take(console, "01-staff-camera")
        click(console, "staff-face-capture")
        wait_visible(console, "staff-face-result", timeout=90)
        assert attr(console, "staff-face-result", "data-decision") == "match", text(console, "staff-face-result")
        assert attr(console, "staff-face-result", "data-checked-in") == "true"
        assert "核验通过" in text(console, "staff-face-result")
        verification = attr(console, "staff-face-result", "data-verification-id")
        wait_until(console, lambda d: attr(d, "staff-face-history", "data-count") == "1", "the history does not list it")
        assert attr(console, f"staff-face-history-{verification}", "data-decision") == "match"
        assert console.execute_script("return document.querySelector('[data-testid=staff-face-video]').srcObject === null"), \
            "the camera was not released after the match"
        shots.take(console, "02-staff-match")
        click(console, "dialog-cancel")
        wait_until(console, lambda d: not find_all(d, '[data-testid="staff-face-dialog"]'), "the dialog did not close")

        # The staff member's own list, and the admin's.
        own = StaffAPI(venue.base, "invigilator1", "kaodian-demo").get("/api/staff/face-sign-ins")
        assert [v["id"] for v in own] == [verification]
        listed = admin.get("/api/admin/face/verifications", purpose="staffSignIn")
        assert [(v["personId"], v["decision"], v["personKind"]) for v in listed] == [("invigilator1", "match", "staff")]

        # Somebody else's face in front of the admin's console (registered photo: person 60) does not sign them in.
        other = make_driver(tmp_path / "profile-admin-console", extra_args=camera_args(camera))
        drivers.append(other)
        staff_login(other, venue.base, "admin", "kaodian-admin")
        open_staff_face_camera(other)
        click(other, "staff-face-capture")
        wait_visible(other, "staff-face-result", timeout=90)
        assert attr(other, "staff-face-result", "data-decision") == "mismatch"
        assert attr(other, "staff-face-result", "data-checked-in") == "false"
        assert find(other, "staff-face-retake").is_displayed()
        shots.take(other, "03-admin-sign-in-mismatch")

        # The admin's face page: filtered by purpose, with the person kind.
        admin_page = make_driver(tmp_path / "profile-admin", width=390, height=844)
        drivers.append(admin_page)
        staff_login(admin_page, venue.base, "admin", "kaodian-admin", page="/admin/")
        click(admin_page, "tab-face")
        wait_visible(admin_page, "face-filter-purpose")
        options = admin_page.execute_script(
            "return [...document.querySelectorAll('[data-testid=face-filter-purpose] option')].map(o => [o.value, o.textContent])")
        assert [v for v, _ in options] == ["", "checkIn", "selfCheckIn", "recheck", "staffSignIn"]
        assert "终端自助签到" in dict(options)["selfCheckIn"] and "随机抽检" in dict(options)["recheck"]
        choose(admin_page, "face-filter-purpose", "staffSignIn")
        choose(admin_page, "face-filter-kind", "staff")
        click(admin_page, "face-search")
        wait_until(admin_page, lambda d: "purpose=staffSignIn" in attr(d, "face-csv", "href"), "the purpose filter did not apply")
        wait_visible(admin_page, f"face-row-{verification}")
        assert attr(admin_page, f"face-row-{verification}", "data-kind") == "staff"
        assert "工作人员" in text(admin_page, f"face-kind-{verification}")
        assert "工作人员签到" in text(admin_page, f"face-row-{verification}")
        rows = find_all(admin_page, '[data-testid="face-table"] tr[data-person]')
        assert {r.get_attribute("data-purpose") for r in rows} == {"staffSignIn"}
        assert {r.get_attribute("data-person") for r in rows} == {"invigilator1", "admin"}
        shots.take_full(admin_page, "04-admin-face-staff-sign-ins-phone")
        problems = []
    finally:
        problems = close_all(drivers, logs, shots)
    assert not problems, f"browser console problems: {problems}"


def test_an_examiner_signs_in_by_face_on_the_tablet_page(start_venue, tmp_path, request):
    venue = start_venue(extra_args=("--demo-skill",))
    shots = Shots(OUTPUT / "browser" / request.node.name)
    people = people_with_two_photos()
    # The demo's 60 candidates take the first photos, then the admin, the two rooms' invigilators and examiners:
    # examiner1's registered photo is person 63's first; the tablet's camera shows their second.
    camera = fake_camera(people[63][1][1], tmp_path)
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    wait_enrolled(admin)

    logs, drivers = [], []
    try:
        tablet = make_driver(tmp_path / "profile-tablet", width=820, height=1180, extra_args=camera_args(camera))
        drivers.append(tablet)
        staff_login(tablet, venue.base, "examiner1", "kaodian-demo", page="/examiner/")
        wait_visible(tablet, "examiner-sittings")
        open_staff_face_camera(tablet)
        assert tablet.execute_script("return document.documentElement.scrollWidth") <= 830, "the dialog is wider than the tablet"
        click(tablet, "staff-face-capture")
        wait_visible(tablet, "staff-face-result", timeout=90)
        assert attr(tablet, "staff-face-result", "data-decision") == "match", text(tablet, "staff-face-result")
        assert attr(tablet, "staff-face-result", "data-checked-in") == "true"
        assert "核验通过" in text(tablet, "staff-face-result")
        verification = attr(tablet, "staff-face-result", "data-verification-id")
        wait_until(tablet, lambda d: attr(d, f"staff-face-history-{verification}", "data-decision") == "match",
                   "the history does not list it")
        shots.take(tablet, "01-examiner-face-match")
        click(tablet, "dialog-cancel")
        wait_until(tablet, lambda d: not find_all(d, '[data-testid="staff-face-dialog"]'), "the dialog did not close")
        wait_visible(tablet, "examiner-sittings")

        listed = admin.get("/api/admin/face/verifications", purpose="staffSignIn")
        assert [(v["personId"], v["decision"], v["personKind"]) for v in listed] == [("examiner1", "match", "staff")]
        problems = []
    finally:
        problems = close_all(drivers, logs, shots)
    assert not problems, f"browser console problems: {problems}"
