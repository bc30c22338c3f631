"""A candidate takes the demo exam in real Chromium, through everything that can go wrong on a venue LAN.

Given a venue with the demo exam (sitting S-DEMO-THEORY, starting in an hour),
when a candidate logs in on the terminal page, waits, and the invigilator starts the sitting,
then the paper appears by itself; every question type can be answered; answers survive a reload, a server that
is killed and started again (the page keeps them and sends them when it is back), and a move to a second
browser (which waits for the invigilator's approval, then continues with every answer and locks the first one
out); the candidate submits with a confirmation that lists the unanswered questions; and the venue admin sees the
score of the objective questions answered correctly.

Screenshots of each step go to test-output/browser/<test name>/ (KAODIAN_TEST_OUTPUT moves test-output).
"""
import re

import requests
from selenium.webdriver.support.ui import Select

from browser_helpers import (WAIT, Shots, StaffAPI, attr, click, console_problems, find, find_all, hms_seconds, make_driver,
                             scroll_to, staff_login, text, tiny_pdf, type_into, value, wait_until, wait_visible)
from conftest import OUTPUT, demo_candidate

SITTING = "S-DEMO-THEORY"

# What the test answers, and whether that is right according to DemoQuestions.swift. Objective questions score
# their points when right (multiple choice is all-or-nothing); short answer, essay, thesis and case sub-question 3
# wait for manual marking. Questions not listed stay unanswered.
POINTS = {"Q-SC-01": 2, "Q-SC-02": 2, "Q-SC-03": 2, "Q-MC-01": 3, "Q-MC-02": 3, "Q-TF-01": 2, "Q-TF-02": 2,
          "Q-TF-03": 2, "Q-FB-01": 4, "Q-FB-02": 2, "Q-CA-01": 10, "Q-FL-01": 8, "Q-SA-01": 10, "Q-ES-01": 18,
          "Q-CS-01-1": 3, "Q-CS-01-2": 2, "Q-CS-01-3": 5, "Q-TH-01": 20}
CORRECT = {
    "Q-SC-01": True,     # a = 50 Hz
    "Q-SC-02": False,    # answered a; the key is b
    "Q-MC-01": True,     # a, b, c
    "Q-MC-02": False,    # a, b only; the key is a, b, c, d (no partial credit)
    "Q-TF-01": True,     # true
    "Q-TF-02": False,    # answered true; the key is false
    "Q-FB-01": True,     # U/R and Ω
    "Q-CA-01": True,     # 5 A
    "Q-FL-01": True,     # s1 … s5
    "Q-CS-01-1": True,   # b
    "Q-CS-01-2": True,   # true (answered while the server is down)
}
PENDING = ["Q-SA-01", "Q-ES-01", "Q-CS-01-3", "Q-TH-01"]
UNANSWERED = ["Q-SC-03", "Q-TF-03", "Q-FB-02"]

SA_TEXT = "立即切断电源，用绝缘物使触电者脱离电源；判断意识和呼吸，必要时进行心肺复苏，并拨打 120。"
SA_OFFLINE_TAIL = " 同时报告现场负责人。"
ES_TEXT = "保护接地适用于 TT 系统，保护接零适用于 TN 系统。两者原理不同：接地靠降低接触电压，接零靠形成短路使保护装置动作。"
CS3_TEXT = "停电并验电；查明熔体熔断原因；更换同规格熔体；检查电动机绝缘；复位热继电器；试车。"
TH_TEXT = "提高车间用电安全管理水平的几点做法：一、健全制度；二、加强培训；三、定期检查。"
CALC_WORKING = "I = P / U = 1100 W / 220 V = 5 A"
PDF_NAME = "安全管理论文.pdf"


def expected_score() -> float:
    return float(sum(POINTS[q] for q, right in CORRECT.items() if right))


def staff_get(venue, path, user=("admin", "kaodian-admin")):
    token = venue.staff_token(*user)
    r = requests.get(venue.base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    return r.json()


def qnumber(driver, question_id: str) -> str:
    return text(driver, f"qnum-{question_id}").rstrip(".")


def wait_saved(driver, timeout=WAIT):
    wait_until(driver, lambda d: attr(d, "save-status", "data-state") == "saved" and attr(d, "save-status", "data-pending") == "0",
               "the page never showed 已保存 (saved)", timeout)


def flow_order(driver, question_id: str):
    items = find_all(driver, f'[data-testid="order-{question_id}"] li[data-step]')
    return [item.get_attribute("data-step") for item in items]


def login(driver, base, admission, id_number):
    driver.get(base + "/terminal/")
    wait_visible(driver, "login-view")
    type_into(driver, "login-admission", admission)
    type_into(driver, "login-id", id_number)
    click(driver, "login-submit")


def answer_everything(driver, pdf_path):
    """Answers one question of every type (and a few wrong on purpose), flags the essay. The short answer comes
    later, just before a reload."""
    click(driver, "option-Q-SC-01-a")
    click(driver, "option-Q-SC-02-a")
    for option in ("a", "b", "c"):
        click(driver, f"option-Q-MC-01-{option}")
    for option in ("a", "b"):
        click(driver, f"option-Q-MC-02-{option}")
    click(driver, "option-Q-TF-01-true")
    click(driver, "option-Q-TF-02-true")
    type_into(driver, "blank-Q-FB-01-0", "U/R")
    type_into(driver, "blank-Q-FB-01-1", "Ω")
    type_into(driver, "calc-working-Q-CA-01", CALC_WORKING)
    type_into(driver, "calc-value-Q-CA-01", "5")
    # Flowchart: tap the steps (s2 before s1 by mistake), then move s1 up: no dragging needed.
    for step in ("s2", "s1", "s3", "s4", "s5"):
        click(driver, f"step-Q-FL-01-{step}")
    click(driver, "order-up-Q-FL-01-s1")
    type_into(driver, "flow-desc-Q-FL-01", "先读图备料，再安装接线，检查无误后通电试车。")
    type_into(driver, "text-Q-ES-01", ES_TEXT)
    click(driver, "flag-Q-ES-01")
    click(driver, "option-Q-CS-01-1-b")
    type_into(driver, "text-Q-CS-01-3", CS3_TEXT)
    type_into(driver, "text-Q-TH-01", TH_TEXT)
    upload = find(driver, "file-Q-TH-01")
    scroll_to(driver, upload)
    upload.send_keys(str(pdf_path))
    wait_until(driver, lambda d: PDF_NAME in text(d, "attachment-name-Q-TH-01"), "the uploaded file name never appeared")


def check_answers_shown(driver, with_offline_changes: bool):
    """Everything answered so far is on the screen (after a reload or on another terminal)."""
    wait_visible(driver, "paper")
    assert find(driver, "option-Q-SC-01-a").is_selected()
    assert find(driver, "option-Q-SC-02-a").is_selected()
    assert [o for o in "abcd" if find(driver, f"option-Q-MC-01-{o}").is_selected()] == ["a", "b", "c"]
    assert [o for o in "abcde" if find(driver, f"option-Q-MC-02-{o}").is_selected()] == ["a", "b"]
    assert find(driver, "option-Q-TF-01-true").is_selected()
    assert find(driver, "option-Q-TF-02-true").is_selected()
    assert value(driver, "blank-Q-FB-01-0") == "U/R" and value(driver, "blank-Q-FB-01-1") == "Ω"
    assert value(driver, "calc-value-Q-CA-01") == "5" and value(driver, "calc-working-Q-CA-01") == CALC_WORKING
    assert flow_order(driver, "Q-FL-01") == ["s1", "s2", "s3", "s4", "s5"]
    assert value(driver, "text-Q-ES-01") == ES_TEXT
    assert attr(driver, "flag-Q-ES-01", "aria-pressed") == "true"
    assert attr(driver, "nav-Q-ES-01", "data-flagged") == "true"
    assert find(driver, "option-Q-CS-01-1-b").is_selected()
    assert value(driver, "text-Q-CS-01-3") == CS3_TEXT
    assert value(driver, "text-Q-TH-01") == TH_TEXT
    assert PDF_NAME in text(driver, "attachment-name-Q-TH-01")
    if with_offline_changes:
        assert value(driver, "text-Q-SA-01") == SA_TEXT + SA_OFFLINE_TAIL
        assert find(driver, "option-Q-CS-01-2-true").is_selected()
    else:
        assert value(driver, "text-Q-SA-01") == SA_TEXT
    for question in UNANSWERED:
        assert attr(driver, f"nav-{question}", "data-state") == "unanswered", question


def test_candidate_takes_the_exam_through_reload_outage_and_terminal_move(venue, tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    admission, id_number = demo_candidate(0)
    roster = staff_get(venue, f"/api/admin/sittings/{SITTING}/results")
    me = next(row for row in roster if row["admissionNumber"] == admission)
    pdf_path = tmp_path / PDF_NAME
    pdf_path.write_bytes(tiny_pdf())
    logs, problems = [], []
    first = second = admin = None
    try:
        # 1. Log in; name, seat and instructions are shown; the countdown runs from the server clock.
        first = make_driver(tmp_path / "profile-first")
        first.get(venue.base + "/")
        wait_visible(first, "home-terminal")
        shots.take(first, "00-landing")
        login(first, venue.base, admission, id_number)
        wait_visible(first, "waiting-view")
        assert text(first, "candidate-name") == me["name"]
        assert text(first, "candidate-admission") == admission
        assert me["seat"] in text(first, "candidate-seat")
        assert "交卷" in text(first, "instructions")
        attempt_id = first.execute_script("return JSON.parse(localStorage.getItem('kd.candidate')).attemptId")
        wait_until(first, lambda d: re.fullmatch(r"0[01]:[0-5]\d:[0-5]\d", text(d, "countdown")) and text(d, "countdown") != "00:00:00",
                   "the countdown to the start never showed")
        wait_until(first, lambda d: d.execute_script(
            "const i = document.querySelector('[data-testid=candidate-photo]'); return i.complete && i.naturalWidth > 0;"),
            "the candidate photo did not load")
        shots.take(first, "01-waiting-for-start")

        # The invigilator starts the sitting; the paper appears by itself.
        venue.start_sitting(SITTING)
        wait_visible(first, "exam-view", timeout=60)
        wait_visible(first, "paper")
        wait_until(first, lambda d: re.fullmatch(r"01:[0-2]\d:[0-5]\d", text(d, "remaining-time")), "the remaining time is not about 1:30")
        assert attr(first, "answered-count", "data-total") == "18"
        shots.take(first, "02-paper-appeared")

        # 2. One question of every type; flag one; upload a real PDF for the thesis.
        answer_everything(first, pdf_path)
        wait_saved(first)
        assert attr(first, "nav-Q-ES-01", "data-flagged") == "true"
        assert attr(first, "nav-Q-SC-01", "data-state") == "answered"
        assert attr(first, "nav-Q-SC-03", "data-state") == "unanswered"
        # Q-SA-01 and Q-CS-01-2 come later.
        assert attr(first, "answered-count", "data-answered") == str(len(POINTS) - len(UNANSWERED) - 2)
        scroll_to(first, find(first, "question-Q-ES-01"))
        shots.take(first, "03-answered-and-flagged")
        shots.take_full(first, "03-answered-whole-paper")

        # 3. One more answer, then reload at once: it is kept locally and re-sent; every answer is still shown.
        type_into(first, "text-Q-SA-01", SA_TEXT)
        first.refresh()
        wait_visible(first, "exam-view")
        check_answers_shown(first, with_offline_changes=False)
        wait_saved(first)
        shots.take(first, "04-after-reload")

        # 4. The server dies; two more changes; the page says it is offline and keeps them.
        venue.kill()
        click(first, "option-Q-CS-01-2-true")
        type_into(first, "text-Q-SA-01", SA_OFFLINE_TAIL)
        wait_until(first, lambda d: attr(d, "save-status", "data-state") == "offline", "the page never showed offline", timeout=60)
        wait_until(first, lambda d: int(attr(d, "save-status", "data-pending")) >= 2, "the two changes are not counted as unsent")
        assert "离线" in text(first, "save-status")
        # Both are in the browser's storage (the text after its ~0.7 s typing pause), not only on the screen.
        wait_until(first, lambda d: d.execute_script(
            "return JSON.parse(localStorage.getItem('kd.outbox.' + arguments[0]) || '[]').length", attempt_id) >= 2,
            "the unsent changes are not kept in localStorage")
        shots.take(first, "05-offline-changes-kept")

        # The server comes back: the page drains its queue by itself.
        venue.start()
        wait_saved(first, timeout=90)
        assert "已保存" in text(first, "save-status")
        shots.take(first, "06-back-online-saved")

        # 5. A second browser (fresh profile): the move waits for the invigilator's approval, then the same candidate
        # continues there with every acknowledged answer.
        second = make_driver(tmp_path / "profile-second")
        login(second, venue.base, admission, id_number)
        wait_visible(second, "move-pending-view")
        assert not find_all(second, '[data-testid="exam-view"]')
        shots.take(second, "07-second-browser-waits-for-approval")
        invigilator = StaffAPI(venue.base, "invigilator1", "kaodian-demo")
        moves = invigilator.room(SITTING, me["roomId"])["pendingMoves"]
        assert [m["admissionNumber"] for m in moves] == [admission], moves
        invigilator.post(f"/api/console/sittings/{SITTING}/rooms/{me['roomId']}/moves/{moves[0]['id']}/approve", {}, expect=(204,))
        wait_visible(second, "exam-view", timeout=60)
        wait_visible(second, "moved-in-notice")
        check_answers_shown(second, with_offline_changes=True)
        shots.take(second, "07b-second-browser-has-everything")
        # The first browser is locked out after its next request.
        wait_visible(first, "moved-view", timeout=60)
        assert "另一台终端" in text(first, "moved-view")
        shots.take(first, "08-first-browser-moved")

        # 6. Submit: the confirmation lists the unanswered questions; then the page is read-only.
        wait_saved(second)
        click(second, "submit-open")
        wait_visible(second, "submit-dialog")
        listed = [chip.text for chip in find_all(second, '[data-testid="submit-unanswered"] .chip')]
        assert sorted(listed) == sorted(qnumber(second, q) for q in UNANSWERED), listed
        shots.take(second, "09-submit-confirmation")
        click(second, "submit-confirm")
        wait_visible(second, "submitted-view", timeout=60)
        assert text(second, "submitted-title") == "已交卷"
        fields = find_all(second, '[data-testid="readonly-paper"] input, [data-testid="readonly-paper"] textarea')
        assert fields and all(not field.is_enabled() for field in fields)
        shots.take(second, "10-submitted-read-only")

        # The server holds the changes made while it was down (and nothing is open any more).
        review = staff_get(venue, f"/api/admin/attempts/{attempt_id}")
        saved = {item["questionId"]: item for item in review["items"]}
        assert saved["Q-CS-01-2"]["response"] == {"value": True}
        assert saved["Q-SA-01"]["response"]["text"] == SA_TEXT + SA_OFFLINE_TAIL
        assert saved["Q-TH-01"]["response"]["attachment"]["name"] == PDF_NAME
        assert saved["Q-ES-01"]["flagged"] is True
        assert review["status"] == "submitted"

        # 7. The venue admin sees the score of the objective questions answered correctly.
        admin = make_driver(tmp_path / "profile-admin")
        admin.get(venue.base + "/admin/")
        wait_visible(admin, "staff-username")
        type_into(admin, "staff-username", "admin")
        type_into(admin, "staff-password", "kaodian-admin")
        click(admin, "staff-login")
        click(admin, "tab-results")
        # The sitting list arrives a moment later (and the page may re-render): choose it once it is there.
        wait_until(admin, lambda d: Select(find(d, "results-sitting")).select_by_value(SITTING) is None
                   and Select(find(d, "results-sitting")).first_selected_option.get_attribute("value") == SITTING,
                   f"{SITTING} cannot be chosen in the results page")
        wait_visible(admin, f"result-row-{admission}")
        wait_until(admin, lambda d: text(d, f"result-score-{admission}") != "", "no score in the results table")
        assert float(text(admin, f"result-score-{admission}")) == expected_score()
        assert float(text(admin, f"result-pending-{admission}")) == float(sum(POINTS[q] for q in PENDING))
        assert float(text(admin, f"result-max-{admission}")) == 100.0
        assert attr(admin, "results-csv", "href").endswith(f"/api/admin/sittings/{SITTING}/results.csv")
        shots.take(admin, "11-admin-results")
        click(admin, f"result-row-{admission}")
        wait_visible(admin, "review-view")
        assert float(attr(admin, "review-score", "data-score")) == expected_score()
        for question, right in CORRECT.items():
            assert attr(admin, f"review-q-{question}", "data-status") == ("correct" if right else "wrong"), question
        for question in PENDING:
            assert attr(admin, f"review-q-{question}", "data-status") == "pendingMarking", question
        assert PDF_NAME in text(admin, "review-answer-Q-TH-01")
        shots.take(admin, "12-admin-review")
        shots.take_full(admin, "12-admin-review-whole")

        for driver in (first, second, admin):
            problems += console_problems(driver, logs)
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        log_file = OUTPUT / "browser" / request.node.name / "console.log"
        for driver in (first, second, admin):
            if driver is not None:
                try:
                    console_problems(driver, logs)
                except Exception:  # noqa: BLE001 - the driver may be gone already
                    pass
                driver.quit()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text("\n".join(f"{e.get('level')} {e.get('message')}" for e in logs), encoding="utf-8")


def test_invigilator_console_starts_the_room_the_terminal_is_waiting_for(venue, tmp_path, request):
    """The console's room screen shows the candidate who logged in, and its start button opens the paper; a
    one-candidate extension reaches the terminal's clock; ending the exam collects the paper."""
    shots = Shots(OUTPUT / "browser" / request.node.name)
    admission, id_number = demo_candidate(1)
    logs, problems = [], []
    terminal = console = None
    try:
        terminal = make_driver(tmp_path / "profile-terminal")
        login(terminal, venue.base, admission, id_number)
        wait_visible(terminal, "waiting-view")

        console = make_driver(tmp_path / "profile-console")
        staff_login(console, venue.base, "invigilator1", "kaodian-demo")
        wait_visible(console, f"sitting-{SITTING}")
        assert attr(console, f"sitting-phase-{SITTING}", "data-phase") == "waiting"
        click(console, f"open-room-{SITTING}-R01")
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "waiting",
                   "the roster does not show the candidate as logged in")
        wait_until(console, lambda d: d.execute_script(
            "return [...document.querySelectorAll('img.thumb')].some(i => i.complete && i.naturalWidth > 0)"),
            "no roster photo loaded")
        shots.take(console, "01-console-roster")

        click(console, "room-start")
        wait_visible(console, "console-dialog")
        click(console, "dialog-confirm")
        wait_until(console, lambda d: attr(d, "room-phase", "data-phase") == "running", "the room did not start")
        wait_visible(terminal, "exam-view", timeout=60)
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "answering",
                   "the candidate is not shown answering")
        # A one-candidate extension shows in the terminal's clock.
        before = hms_seconds(text(terminal, "remaining-time"))
        click(console, f"extend-{admission}")
        wait_visible(console, "dialog-minutes")
        type_into(console, "dialog-minutes", "15", clear=True)
        type_into(console, "dialog-reason", "终端故障换机")
        click(console, "dialog-confirm")
        wait_visible(console, "console-message")
        wait_until(terminal, lambda d: hms_seconds(text(d, "remaining-time")) > before + 14 * 60,
                   "the extension never reached the terminal", timeout=60)
        shots.take(console, "02-console-started-and-extended")
        shots.take(terminal, "03-terminal-extended")
        # Ending the exam (reason and a tick) collects every open paper.
        click(console, "room-end")
        wait_visible(console, "dialog-reason")
        type_into(console, "dialog-reason", "演示结束")
        click(console, "dialog-confirm")
        wait_visible(console, "dialog-error")  # the confirmation tick is missing
        click(console, "dialog-check")
        click(console, "dialog-confirm")
        wait_until(console, lambda d: attr(d, "room-phase", "data-phase") == "over", "the exam did not end")
        wait_until(console, lambda d: attr(d, f"roster-row-{admission}", "data-status") == "submitted", "the paper was not collected")
        wait_visible(terminal, "submitted-view", timeout=60)
        assert attr(terminal, "submitted-view", "data-submitted-by") == "invigilator"
        shots.take(terminal, "04-terminal-collected-at-the-end")
        shots.take(console, "05-console-ended")
        for driver in (terminal, console):
            problems += console_problems(driver, logs)
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        for driver in (terminal, console):
            if driver is not None:
                driver.quit()
