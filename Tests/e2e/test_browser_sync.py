"""The venue admin watches reporting on the 同步上报 page; the office sees completeness on its own pages — in Chromium.

Given central on a throwaway PostgreSQL and the demo venue, the venue admin's 同步上报 page first says the venue has
not enrolled and shows what is queued by kind (the audit entries of the import and the sign-ins); after `venue enrol`
it turns to 已全部上报 with the time of the last success and nothing queued. When central goes away and a candidate
submits, the page says central cannot be reached (无法连接中心), in Chinese, and what is queued; 立即同步 after central is
back empties the queue at once. In English the same page reads "Central unreachable". On a phone-width window.
The office signs in at /office/ (a wrong password is refused in words), sees the venue enrolled with its last batch,
and, once the rooms end, the sitting as 已收齐 on the completeness page; the language switch shows it in English.
Screenshots go to test-output/browser/<test name>/.
"""
import time

import requests

from browser_helpers import Shots, attr, click, console_problems, make_driver, staff_login, text, type_into, wait_until, wait_visible
from conftest import OUTPUT, VenueProcess, free_port
from test_central_enrolment import add_venue, enrol, office_account, postgres  # noqa: F401 (postgres is a fixture)
from central_process import CentralProcess
from test_sync import SITTING, take_exam

WAIT = 30


def test_the_sync_page_and_the_office_pages(postgres, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    code = add_venue(postgres)
    password = office_account(postgres, "office1", "王主任")
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-browser-sync")
    driver = make_driver(tmp_path / "profile", width=390, height=844)
    problems = []
    try:
        office.start()
        venue.start()
        staff_login(driver, venue.base, "admin", "kaodian-admin", page="/admin/")
        wait_visible(driver, "tab-sync")
        click(driver, "tab-sync")
        wait_until(driver, lambda d: attr(d, "sync-state", "data-state") == "notEnrolled", "not enrolled not shown", WAIT)
        assert int(attr(driver, "sync-queued", "data-items")) > 0
        wait_visible(driver, "sync-kind-audit")
        shots.take(driver, "01-not-enrolled")

        assert enrol(data, office.base, "KD-DEMO-01", code).returncode == 0
        wait_until(driver, lambda d: attr(d, "sync-state", "data-state") == "idle" and attr(d, "sync-queued", "data-items") == "0",
                   "the page did not turn to all reported", WAIT)
        assert attr(driver, "sync-last-success", "data-at")
        assert "已全部上报" in text(driver, "sync-state")
        shots.take(driver, "02-all-reported")

        office.stop()
        venue.start_sitting(SITTING)
        take_exam(venue, 0)
        wait_until(driver, lambda d: attr(d, "sync-state", "data-state") == "offline", "offline not shown", WAIT)
        assert attr(driver, "sync-error", "data-code") == "central_unreachable"
        assert "无法连接中心" in text(driver, "sync-error")
        assert int(attr(driver, "sync-queued", "data-items")) > 0
        wait_visible(driver, "sync-kind-answerLog")
        shots.take(driver, "03-offline")
        click(driver, "lang-switch")
        wait_until(driver, lambda d: "Central unreachable" in text(d, "sync-state"), "no English", WAIT)
        click(driver, "lang-switch")

        office.start()
        started = time.time()
        click(driver, "sync-now")
        wait_until(driver, lambda d: attr(d, "sync-queued", "data-items") == "0", "sync now did not empty the queue", WAIT)
        assert time.time() - started < 15
        shots.take(driver, "04-synced")
        problems += console_problems(driver, [])

        # The office's pages.
        admin = venue.staff_token("admin", "kaodian-admin")
        for room in ("R01", "R02"):
            requests.post(f"{venue.base}/api/console/sittings/{SITTING}/rooms/{room}/end", json={"reason": "考试结束"},
                          headers={"Authorization": f"Bearer {admin}"}, timeout=30).raise_for_status()
        driver.set_window_size(1280, 900)
        driver.get(office.base + "/office/")
        wait_visible(driver, "login-username")
        type_into(driver, "login-username", "office1")
        type_into(driver, "login-password", "wrong-password")
        click(driver, "login-submit")
        wait_until(driver, lambda d: "用户名或密码错误" in text(d, "login-error"), "no refusal shown", WAIT)
        type_into(driver, "login-password", password, clear=True)
        click(driver, "login-submit")
        wait_visible(driver, "tab-venues")
        click(driver, "tab-venues")
        wait_visible(driver, "venue-KD-DEMO-01")
        assert "已注册" in text(driver, "venue-KD-DEMO-01")
        click(driver, "tab-completeness")
        row = f"completeness-KD-DEMO-01-{SITTING}"
        deadline = time.time() + WAIT
        while time.time() < deadline:
            driver.refresh()
            try:
                wait_visible(driver, row, timeout=5)
                if attr(driver, row, "data-results") == "complete":
                    break
            except Exception:  # noqa: BLE001 (not there yet)
                pass
            time.sleep(1)
        assert attr(driver, row, "data-results") == "complete"
        assert "已收齐" in text(driver, row)
        shots.take(driver, "05-office-completeness")
        click(driver, "lang-switch")
        wait_until(driver, lambda d: "complete" in text(d, row), "no English on the office page", WAIT)
        shots.take(driver, "06-office-english")
        problems += console_problems(driver, [])
        assert not problems, problems
    finally:
        driver.quit()
        venue.stop()
        office.stop()
