"""The invigilator runs room R01 from the console in real Chromium while a candidate takes the exam in another.

Given a venue with the demo exam (sitting S-DEMO-THEORY, room R01, starting in an hour),
when the invigilator logs in to /console/ and opens R01,
then the roster follows the candidate live (no reload): checked in at the photo, logged in, answering, page events;
the invigilator starts the room, extends the candidate's time (the candidate's clock grows), records an incident
(in the roster and the incident list), pauses the room (the candidate's page shows the pause, its clock stands
still, an answer typed at that moment waits on the terminal) and resumes it (the answer is saved), rejects and
then approves the candidate's move to a third browser (pending there, then refused, then the paper; the old page
says it was moved), and collects the paper (the candidate's page says the invigilator collected it). The audit
log holds each action exactly once.

A second test: a local account with a one-time password must change it before anything else, and repeated wrong
passwords make the login button wait.

Screenshots of each step go to test-output/browser/<test name>/.
"""
import re
import time

import requests

from browser_helpers import (StaffAPI, Shots, attr, block_urls, choose, click, console_problems, find, find_all,
                             hms_seconds, make_driver, staff_login, text, type_into, value, wait_until, wait_visible)
from conftest import OUTPUT, demo_candidate

SITTING = "S-DEMO-THEORY"
ROOM = "R01"
TEXT_DURING_PAUSE = "断电时先切断总电源再检查线路。"


def terminal_login(driver, base, admission, id_number):
    driver.get(base + "/terminal/")
    wait_visible(driver, "login-view")
    type_into(driver, "login-admission", admission)
    type_into(driver, "login-id", id_number)
    click(driver, "login-submit")


def confirm_dialog(console):
    click(console, "dialog-confirm")
    wait_until(console, lambda d: not find_all(d, '[data-testid="console-dialog"]'), "the dialog did not close (see dialog-error)")


def last_message(console):
    wait_visible(console, "console-message")
    return find(console, "console-message")


def test_invigilator_runs_the_room_live_while_a_candidate_answers(venue, tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    admission, id_number = demo_candidate(2)  # KD261100003, room R01 seat 03
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    roster = {e["admissionNumber"]: e for e in admin.room(SITTING, ROOM)["roster"]}
    me = roster[admission]
    started = time.time()
    logs, problems = [], []
    console = first = second = None
    try:
        # 1. The invigilator logs in and opens R01: the roster arrives over the live stream.
        console = make_driver(tmp_path / "profile-console")
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        wait_visible(console, f"open-room-{SITTING}-{ROOM}")
        assert not find_all(console, f'[data-testid="open-room-{SITTING}-R02"]'), "invigilator1 sees another room"
        shots.take(console, "01-console-sittings")
        click(console, f"open-room-{SITTING}-{ROOM}")
        wait_visible(console, f"roster-row-{admission}")
        wait_until(console, lambda d: attr(d, "live-status", "data-mode") == "live", "the live stream did not connect")
        assert attr(console, "room-phase", "data-phase") == "waiting"
        assert attr(console, f"roster-row-{admission}", "data-status") == "notArrived"
        assert attr(console, "count-candidates", "data-n") == "30"
        console.execute_script("window.kdNoReload = true;")  # gone if the page ever reloads
        wait_until(console, lambda d: d.execute_script(
            "return [...document.querySelectorAll('img.thumb')].some(i => i.complete && i.naturalWidth > 0)"), "no roster photo loaded")
        shots.take(console, "02-room-roster")

        # 2. Manual check-in: the registered photo large beside name and ID.
        click(console, f"checkin-{admission}")
        wait_visible(console, "dialog-photo")
        assert text(console, "dialog-name") == me["name"] and text(console, "dialog-admission") == admission
        wait_until(console, lambda d: d.execute_script(
            "const i = document.querySelector('[data-testid=dialog-photo]'); return i.complete && i.naturalWidth > 0"), "the large photo did not load")
        shots.take(console, "03-check-in-photo")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "checkedIn", "check-in not shown")
        assert "签到" in last_message(console).text

        # 3. The candidate logs in (second browser): the roster follows without a reload.
        first = make_driver(tmp_path / "profile-candidate-a")
        terminal_login(first, venue.base, admission, id_number)
        wait_visible(first, "waiting-view")
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "waiting", "the roster never showed the login")
        assert attr(console, f"terminal-{admission}", "data-terminal").startswith("term-")
        shots.take(console, "04-roster-candidate-logged-in")

        # 4. The invigilator starts the room; the paper appears on the terminal by itself.
        click(console, "room-start")
        wait_visible(console, "console-dialog")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, "room-phase", "data-phase") == "running", "the room did not start")
        wait_visible(first, "exam-view", timeout=60)
        wait_visible(first, "paper")

        # 5. The candidate answers and leaves the window once: answered count and events follow live.
        for option in ("option-Q-SC-01-a", "option-Q-TF-01-true", "option-Q-SC-02-b"):
            click(first, option)
        first.execute_script("window.dispatchEvent(new Event('blur')); window.dispatchEvent(new Event('focus'));")
        wait_until(console, lambda d: int(attr(d, f"answered-{admission}", "data-answered")) >= 3, "answers not shown live")
        wait_until(console, lambda d: int(attr(d, f"events-{admission}", "data-total")) >= 2, "page events not shown live")
        assert attr(console, f"roster-row-{admission}", "data-status") == "answering"
        assert attr(console, f"heartbeat-{admission}", "data-stale") == "false"
        shots.take(console, "05-roster-live-answers")
        shots.take(first, "06-candidate-answering")

        # 6. Extend this candidate's time by 15 minutes: the candidate's remaining time grows.
        before = hms_seconds(text(first, "remaining-time"))
        click(console, f"extend-{admission}")
        wait_visible(console, "dialog-minutes")
        type_into(console, "dialog-minutes", "15", clear=True)
        type_into(console, "dialog-reason", "终端卡顿，更换鼠标耗时")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, f"time-{admission}", "data-extension") == "900", "extension not in the roster")
        wait_until(first, lambda d: hms_seconds(text(d, "remaining-time")) > before + 14 * 60,
                   "the candidate's remaining time did not grow by 15 minutes", timeout=60)
        shots.take(console, "07-extended")
        shots.take(first, "08-candidate-extended")

        # 7. Record an incident against the candidate: counted in the roster, listed below it.
        click(console, f"incident-{admission}")
        wait_visible(console, "dialog-category")
        choose(console, "dialog-category", "deviceFailure")
        type_into(console, "dialog-note", "鼠标失灵，已更换备用鼠标。")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, f"incidents-{admission}", "data-count") == "1", "incident not counted in the roster")
        rows = find_all(console, '[data-testid="incident-list"] tr[data-category="deviceFailure"]')
        assert len(rows) == 1 and rows[0].get_attribute("data-admission") == admission
        assert "鼠标失灵" in rows[0].text
        shots.take(console, "09-incident-recorded")

        # 8. Pause the room. The terminal learns it from an answer it sends (its heartbeats are held back here, so the
        # answer certainly reaches the paused server first): the answer stays queued on the terminal.
        click(console, "room-pause")
        wait_visible(console, "dialog-reason")
        type_into(console, "dialog-reason", "考场停电，等待恢复")
        block_urls(first, ["*/api/attempt/heartbeat*"])
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, "room-phase", "data-phase") == "paused", "the room is not paused")
        type_into(first, "text-Q-SA-01", TEXT_DURING_PAUSE)
        wait_until(first, lambda d: attr(d, "save-status", "data-state") == "paused", "the terminal never said the exam is paused", timeout=30)
        block_urls(first, [])
        wait_visible(first, "paused-overlay", timeout=60)
        wait_until(first, lambda d: attr(d, "paused-queued", "data-n") == "1", "the typed answer is not kept on the terminal")
        frozen = text(first, "paused-remaining")
        time.sleep(2.5)
        assert text(first, "paused-remaining") == frozen, "the clock runs while paused"
        assert not find(first, "option-Q-SC-03-a").is_enabled(), "inputs are not read-only while paused"
        shots.take(first, "10-candidate-paused")
        shots.take(console, "11-console-paused")

        # 9. Resume: the overlay goes, the queued answer is saved, the clock runs again.
        click(console, "room-resume")
        wait_visible(console, "console-dialog")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, "room-phase", "data-phase") == "running", "the room did not resume")
        wait_until(first, lambda d: not find(d, "paused-overlay").is_displayed(), "the pause overlay stayed", timeout=60)
        wait_until(first, lambda d: attr(d, "save-status", "data-state") == "saved" and attr(d, "save-status", "data-pending") == "0",
                   "the answer typed during the pause was not saved after it")
        attempt_id = roster_entry(admin, admission)["attemptId"]
        saved = {i["questionId"]: i for i in admin.get(f"/api/admin/attempts/{attempt_id}")["items"]}
        assert saved["Q-SA-01"]["response"] == {"text": TEXT_DURING_PAUSE}
        assert hms_seconds(text(first, "remaining-time")) > hms_seconds(frozen) - 60
        shots.take(first, "12-candidate-resumed")

        # 10. The candidate logs in on a third browser: it waits for approval. A first request is rejected (the new
        # terminal says so and goes back to its login form); the second is approved: the paper continues there and
        # the old terminal is locked out.
        second = make_driver(tmp_path / "profile-candidate-b")
        terminal_login(second, venue.base, admission, id_number)
        wait_visible(second, "move-pending-view")
        wait_visible(console, f"move-{admission}")
        click(console, f"move-reject-{admission}")
        wait_visible(console, "dialog-reason")
        type_into(console, "dialog-reason", "未核实身份，请考生回原座位")
        confirm_dialog(console)
        wait_visible(second, "login-view", timeout=30)
        assert attr(second, "login-notice", "data-code") == "move_rejected"
        assert "监考员" in text(second, "login-notice")
        shots.take(second, "13a-new-terminal-rejected")
        assert find(first, "exam-view").is_displayed()
        terminal_login(second, venue.base, admission, id_number)
        wait_visible(second, "move-pending-view")
        shots.take(second, "13-new-terminal-pending")
        wait_visible(console, f"move-{admission}")
        shots.take(console, "14-console-move-request")
        assert find(first, "exam-view").is_displayed(), "the old terminal stopped before the approval"
        click(console, f"move-approve-{admission}")
        wait_visible(console, "console-dialog")
        confirm_dialog(console)
        wait_until(console, lambda d: not find_all(d, f'[data-testid="move-{admission}"]'), "the move stayed pending")
        wait_visible(second, "exam-view", timeout=60)
        wait_visible(second, "moved-in-notice")
        assert value(second, "text-Q-SA-01") == TEXT_DURING_PAUSE and find(second, "option-Q-SC-01-a").is_selected()
        wait_visible(first, "moved-view", timeout=60)
        shots.take(second, "15-new-terminal-continues")
        shots.take(first, "16-old-terminal-moved")

        # 11. Collect the paper (强制收卷): the candidate's page says the invigilator collected it.
        click(console, f"force-submit-{admission}")
        wait_visible(console, "dialog-reason")
        type_into(console, "dialog-reason", "考生身体不适，提前收卷")
        confirm_dialog(console)
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "submitted", "not shown as submitted")
        wait_visible(second, "submitted-view", timeout=60)
        assert attr(second, "submitted-view", "data-submitted-by") == "invigilator"
        assert text(second, "submitted-title") == "监考员已收卷"
        fields = find_all(second, '[data-testid="readonly-paper"] input, [data-testid="readonly-paper"] textarea')
        assert fields and all(not f.is_enabled() for f in fields)
        shots.take(second, "17-candidate-collected")
        shots.take(console, "18-console-submitted")
        assert console.execute_script("return window.kdNoReload === true"), "the console page reloaded"

        # 12. The audit log holds every action exactly once, with who, what and why.
        entries = admin.get("/api/admin/audit", sittingId=SITTING, roomId=ROOM)
        by_action = {}
        for entry in entries:
            by_action.setdefault(entry["action"], []).append(entry)
        expected = {
            "candidate.checkedIn": admission, "room.started": None, "time.extended": admission, "incident.recorded": admission,
            "room.paused": None, "room.resumed": None, "move.rejected": admission, "move.approved": admission,
            "candidate.forceSubmitted": admission,
        }
        for action, who in expected.items():
            got = by_action.get(action, [])
            assert len(got) == 1, f"{action}: {len(got)} entries: {got}"
            assert got[0]["actor"] == "invigilator1" and got[0]["actorRole"] == "invigilator", got[0]
            if who:
                assert got[0]["admissionNumber"] == who, got[0]
        assert by_action["room.paused"][0]["reason"] == "考场停电，等待恢复"
        assert by_action["time.extended"][0]["reason"] == "终端卡顿，更换鼠标耗时"
        assert by_action["candidate.forceSubmitted"][0]["reason"] == "考生身体不适，提前收卷"
        assert not set(by_action) - set(expected), f"unexpected actions: {set(by_action) - set(expected)}"

        for driver in (console, first, second):
            problems += console_problems(driver, logs)
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
        print(f"console test took {time.time() - started:.0f} s")
    finally:
        log_file = OUTPUT / "browser" / request.node.name / "console.log"
        for driver in (console, first, second):
            if driver is not None:
                try:
                    console_problems(driver, logs)
                except Exception:  # noqa: BLE001 - the driver may be gone already
                    pass
                driver.quit()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text("\n".join(f"{e.get('level')} {e.get('message')}" for e in logs), encoding="utf-8")


def roster_entry(api, admission):
    return next(e for e in api.room(SITTING, ROOM)["roster"] if e["admissionNumber"] == admission)


def test_one_time_password_must_be_changed_and_guessing_is_slowed(venue, tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    admin = StaffAPI(venue.base, "admin", "kaodian-admin")
    admin.post("/api/admin/staff", {"username": "invig-new", "name": "新监考员", "role": "invigilator", "rooms": ["R02"],
                                    "password": "Start2026abc"}, expect=(201,))
    logs, problems = [], []
    browser = None
    try:
        browser = make_driver(tmp_path / "profile")
        # Wrong passwords: after five, the server asks to wait and the button counts down.
        browser.get(venue.base + "/console/")
        for attempt in range(6):
            type_into(browser, "staff-username", "invig-new", clear=True)
            type_into(browser, "staff-password", f"wrong-{attempt}", clear=True)
            click(browser, "staff-login")
            wait_until(browser, lambda d: find(d, "staff-login-error").is_displayed() and text(d, "staff-login-error") != "",
                       "no login error shown")
            if attempt < 5:
                wait_until(browser, lambda d: find(d, "staff-login").is_enabled(), "the login button stayed disabled")
        wait_until(browser, lambda d: attr(d, "staff-login", "data-retry-after") not in (None, ""), "the button does not wait")
        assert "秒后再试" in text(browser, "staff-login-error")
        assert not find(browser, "staff-login").is_enabled()
        assert re.search(r"请 \d+ 秒后再试", text(browser, "staff-login"))
        shots.take(browser, "01-login-throttled")
        r = requests.post(venue.base + "/api/staff/login", json={"username": "invig-new", "password": "Start2026abc"}, timeout=30)
        assert r.status_code == 429 and r.json()["error"]["retryAfterSeconds"] > 0

        # Another venue process forgets the throttle: restart, then log in with the one-time password.
        venue.stop()
        venue.start()
        staff_login(browser, venue.base, "invig-new", "Start2026abc")
        wait_visible(browser, "password-view")
        shots.take(browser, "02-must-change-password")
        type_into(browser, "password-current", "Start2026abc")
        type_into(browser, "password-new", "short1")
        type_into(browser, "password-repeat", "short1")
        click(browser, "password-submit")
        wait_visible(browser, "password-error")
        type_into(browser, "password-new", "Invigilate2026", clear=True)
        type_into(browser, "password-repeat", "Invigilate2026", clear=True)
        click(browser, "password-submit")
        wait_visible(browser, f"open-room-{SITTING}-R02")
        assert not find_all(browser, f'[data-testid="open-room-{SITTING}-R01"]')
        shots.take(browser, "03-password-changed-sittings")
        entries = admin.get("/api/admin/audit", actor="invig-new", action="staff.passwordChanged")
        assert len(entries) == 1
        for driver in (browser,):
            problems += console_problems(driver, logs)
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        if browser is not None:
            browser.quit()


def test_console_keeps_the_roster_fresh_without_the_live_stream(venue, tmp_path, request):
    """When the event stream cannot be used (a proxy, an old browser), the room screen polls every 5 s instead."""
    shots = Shots(OUTPUT / "browser" / request.node.name)
    admission, id_number = demo_candidate(4)  # KD261100005, room R01
    console = None
    try:
        console = make_driver(tmp_path / "profile-console")
        block_urls(console, ["*/rooms/*/live*"])  # the room's event stream, not the pages' scripts
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        click(console, f"open-room-{SITTING}-{ROOM}")
        wait_visible(console, f"roster-row-{admission}")
        wait_until(console, lambda d: attr(d, "live-status", "data-mode") == "polling", "the page did not fall back to polling")
        venue.candidate_login(admission, id_number, "polling-test")
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "waiting",
                   "the roster did not update while polling", timeout=20)
        shots.take(console, "01-polling")
        block_urls(console, [])
        problems = console_problems(console, [])
        assert not problems, "\n".join(problems)
    finally:
        if console is not None:
            console.quit()
