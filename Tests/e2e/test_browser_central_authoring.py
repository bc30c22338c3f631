"""From an empty question bank at the central office to the candidate's screen at the venue — in Chromium.

Given central on a throwaway PostgreSQL with two office accounts and the demo venue enrolled (which makes the venue
trust central's package-signing key), an office user builds a theory bank on the office pages: the knowledge-point
tree (a wrong parent is refused with the problem shown, then saved), three questions typed in the editor (single
choice, multiple choice, true/false; one previewed as the candidate will see it), a near-duplicate that the page
warns about with the matching stem beside it and that is then deleted; the rest of the bank comes from an .xlsx
(written with openpyxl) whose check lists the one bad row (row, column, reason) before the good rows are imported
explicitly. The user assembles a paper by rule (two sections, a coverage constraint, a seed), sees the constraint
report, sets one question's points by hand (a new version: the paper's points follow, the report shows the section
off its rule), and requests approval; approving it with the same account is refused by the server in words; a second
office account approves it (the page reads the same in English). The first user sets up the venue's room with seats
01–30, a plan and a sitting an hour ahead (the approved paper, that room); on a phone-width window pastes three
candidates (one with a registered photo), allocates seats (shown on the seat plan) and adds an invigilator (the
one-time password is shown once); then issues the venue package with the paper sealed (the page shows the 启封码).
The venue fetches and imports it over the sync channel (the sitting page says so); "release now" releases the paper
key, the venue fetches it at its next sync and opens the paper; a candidate from the pasted list logs in at the venue
terminal and, once the sitting starts, sees the assembled paper: every stem the office put in the paper is on the
candidate's screen, the question with its points set by hand showing them.

Screenshots go to test-output/browser/<test name>/.
"""
import re
import time

import openpyxl
import requests

from browser_helpers import (Shots, attr, choose, click, console_problems, find, find_all, make_driver, text, type_into,
                             value, wait_until, wait_visible)
from central_process import CentralProcess
from conftest import FACE_DIR, OUTPUT, VenueProcess, free_port
from test_central_enrolment import add_venue, enrol, office_account, postgres  # noqa: F401 (postgres is a fixture)

WAIT = 45
VENUE = "KD-DEMO-01"
SITTING = "S-CENTRAL-THEORY"
ROOM = "R11"


def id_number(index: int) -> str:
    """A well-formed resident ID number (check digit by GB 11643)."""
    body = "%s%04d%02d%02d%03d" % (["110105", "310104", "440305"][index % 3], 1980 + index, 1 + index % 12, 1 + index % 28,
                                   (index * 53 + 7) % 1000)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


CANDIDATES = [("KD2612000001", "赵一凡", id_number(1), "城东电力"), ("KD2612000002", "钱二宝", id_number(2), "城东电力"),
              ("KD2612000003", "孙三立", id_number(3), "西郊机电")]


def set_value(driver, testid: str, text_value: str):
    """Sets an input's value as a script would (date and time inputs take keys by locale)."""
    driver.execute_script("const el = document.querySelector(arguments[0]); el.value = arguments[1];"
                          "el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true}));",
                          f'[data-testid="{testid}"]', text_value)


def check(driver, testid: str, on: bool = True):
    box = wait_visible(driver, testid)
    if box.is_selected() != on:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        box.click()


def office_login(driver, base: str, username: str, password: str):
    driver.get(base + "/office/")
    wait_visible(driver, "login-username")
    type_into(driver, "login-username", username)
    type_into(driver, "login-password", password)
    click(driver, "login-submit")
    wait_visible(driver, "tab-banks")


def go(driver, base: str, hash_: str):
    driver.get(f"{base}/office/#{hash_}")
    driver.refresh()


def single_choice_rows(count: int, start: int):
    """Rows of the question sheet: single choice questions on distinct subjects (no near-duplicates)."""
    subjects = ["熔断器", "接触器", "热继电器", "断路器", "变压器", "电流互感器", "电压互感器", "万用表", "兆欧表", "钳形电流表",
                "漏电保护器", "行程开关", "时间继电器", "中间继电器", "按钮开关", "指示灯", "电磁阀", "变频器", "软起动器", "电容器",
                "电抗器", "避雷器", "接地装置", "照明灯具", "插座"]
    rows = []
    for i in range(count):
        thing = subjects[(start + i) % len(subjects)]
        kp = ["1.1", "1.2", "2.1"][i % 3]
        rows.append(["单选题", f"关于{thing}的第{start + i}号判断要点，下列说法正确的是（{thing}专题）",
                     f"{thing}须按额定参数选用", f"{thing}可以随意替换", f"{thing}无需定期检查", f"{thing}不需要接地",
                     "A", 2, 1 + i % 5, kp, f"{thing}应按额定参数选用。"])
    return rows


def true_false_rows(count: int):
    facts = ["电气设备的金属外壳应可靠接地", "带电作业时可以单人进行", "电流互感器二次侧严禁开路", "电压互感器二次侧严禁短路",
             "熔断器可以用铜丝代替", "停电检修必须先验电", "绝缘手套使用前应检查是否漏气", "接地线应先接导体端后接接地端",
             "三相四线制中性线上不得装熔断器", "安全电压一般规定为 36 V 及以下", "潮湿场所可以使用普通插座", "电动机过载保护常用热继电器"]
    return [["判断题", f"{facts[i % len(facts)]}。", None, None, None, None, "对" if i % 2 == 0 else "错", 1, 1 + i % 4,
             ["1.2", "2.1"][i % 2], None] for i in range(count)]


def write_workbook(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "试题"
    sheet.append(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "难度", "知识点", "解析"])
    rows = single_choice_rows(16, 0) + true_false_rows(10)
    # One bad row: a single choice whose answer names no option.
    rows.insert(5, ["单选题", "下列哪种工具用于测量绝缘电阻？", "万用表", "兆欧表", "钳形表", "电笔", "Z", 2, 2, "1.1", None])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return 6 + 1, len(rows) - 1  # the bad row as the sheet shows it (header is row 1), the number of good rows


def test_office_builds_a_bank_assembles_and_issues_a_paper_the_candidate_sees(postgres, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    code = add_venue(postgres, VENUE)
    passwords = {username: office_account(postgres, username, name) for username, name in (("office1", "王组卷"), ("office2", "李审核"))}
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-central-authoring")
    driver = make_driver(tmp_path / "profile-office")
    terminal = None
    problems, logs = [], []
    try:
        office.start()
        venue.start()
        enrolled = enrol(data, office.base, VENUE, code)
        assert enrolled.returncode == 0, enrolled.stderr + enrolled.stdout
        # `venue enrol` stores central's package-signing key among the venue's trusted issuers.
        session = requests.Session()
        session.post(office.base + "/api/office/login", json={"username": "office1", "password": passwords["office1"]},
                     timeout=30).raise_for_status()
        issuer = session.get(office.base + "/api/office/issuer-key", timeout=30).json()
        trusted = data / "trusted-issuers" / f"{issuer['issuer']}.json"
        assert trusted.exists(), "venue enrol did not store central's issuer key"

        # A theory bank.
        office_login(driver, office.base, "office1", passwords["office1"])
        click(driver, "tab-banks")
        type_into(driver, "bank-name", "维修电工四级理论题库")
        type_into(driver, "bank-occupation", "维修电工")
        type_into(driver, "bank-occupation-code", "6-31-01-03")
        choose(driver, "bank-level", "四级")
        choose(driver, "bank-subject", "theory")
        click(driver, "bank-create")
        wait_visible(driver, "bank-title")
        assert attr(driver, "bank-title", "data-subject") == "theory"
        bank_id = re.search(r"#bank/([^/]+)", driver.current_url).group(1)

        # Knowledge points: a wrong parent is refused with the problem, then the tree is saved.
        click(driver, "bank-part-tree")
        tree = [("1", "基础知识", "", "40"), ("1.1", "电工基础", "1", ""), ("1.2", "安全用电", "1", ""),
                ("2", "相关知识", "", "60"), ("2.1", "电动机控制", "9", "")]
        for i, (kp_code, name, parent, weight) in enumerate(tree):
            if i:
                click(driver, "kp-add")
            type_into(driver, f"kp-{i}-code", kp_code)
            type_into(driver, f"kp-{i}-name", name)
            if parent:
                type_into(driver, f"kp-{i}-parent", parent)
            if weight:
                type_into(driver, f"kp-{i}-weight", weight)
        click(driver, "kp-save")
        wait_visible(driver, "kp-error")
        assert find_all(driver, '[data-testid^="problem-"]'), "the refusal lists no problem"
        shots.take(driver, "01-tree-problem")
        type_into(driver, "kp-4-parent", "2", clear=True)
        click(driver, "kp-save")
        wait_visible(driver, "kp-saved")

        # Questions typed in the editor.
        def new_question():
            go(driver, office.base, f"bank/{bank_id}/edit")
            wait_visible(driver, "q-stem")

        def save_question():
            click(driver, "question-save")
            wait_visible(driver, "question-saved")
            return attr(driver, "question-saved", "data-id")

        typed = {}
        new_question()
        stem = "我国工频交流电的频率是多少赫兹？"
        type_into(driver, "q-stem", stem)
        for i, option in enumerate(["50 Hz", "60 Hz", "100 Hz", "220 Hz"]):
            type_into(driver, f"q-option-{i}", option)
        click(driver, "q-option-0-correct")
        type_into(driver, "q-points", "2", clear=True)
        choose(driver, "q-difficulty", "1")
        check(driver, "q-kp-1.1")
        type_into(driver, "q-explanation", "我国电网标准频率为 50 Hz。")
        click(driver, "question-preview")
        wait_visible(driver, "preview")
        assert stem in text(driver, "preview") and "50 Hz" in text(driver, "preview")
        shots.take(driver, "02-editor-preview")
        typed[save_question()] = stem

        new_question()
        choose(driver, "q-type", "multipleChoice")
        stem = "停电检修时，保证安全的技术措施包括哪些？"
        type_into(driver, "q-stem", stem)
        for i, option in enumerate(["停电", "验电", "装设接地线", "口头通知即可送电"]):
            type_into(driver, f"q-option-{i}", option)
        for i in (0, 1, 2):
            click(driver, f"q-option-{i}-correct")
        choose(driver, "q-difficulty", "3")
        check(driver, "q-kp-1.2")
        typed[save_question()] = stem

        new_question()
        choose(driver, "q-type", "trueFalse")
        stem = "在有爆炸危险的场所应选用防爆型电气设备。"
        type_into(driver, "q-stem", stem)
        choose(driver, "q-tf", "true")
        type_into(driver, "q-points", "1", clear=True)
        check(driver, "q-kp-1.2")
        typed[save_question()] = stem

        # A near-duplicate: saved with a warning beside the matching stem, then deleted.
        new_question()
        type_into(driver, "q-stem", "我国工频交流电的频率是多少赫兹?")
        for i, option in enumerate(["50 Hz", "60 Hz", "100 Hz", "220 Hz"]):
            type_into(driver, f"q-option-{i}", option)
        click(driver, "q-option-0-correct")
        duplicate_id = save_question()
        wait_visible(driver, "question-duplicates")
        assert "我国工频交流电的频率是多少赫兹？" in text(driver, "duplicate-0")
        shots.take(driver, "03-duplicate-warning")
        click(driver, "question-delete")
        click(driver, "dialog-ok")
        wait_visible(driver, "question-outcome")
        assert attr(driver, "question-outcome", "data-outcome") == "deleted"
        assert duplicate_id not in typed

        # The rest from a spreadsheet: check first (one bad row), then the good rows only.
        workbook = tmp_path / "bank.xlsx"
        bad_row, good_rows = write_workbook(workbook)
        click(driver, "bank-part-import")
        choose(driver, "import-format", "xlsx")
        find(driver, "import-file").send_keys(str(workbook))
        click(driver, "import-check")
        wait_visible(driver, "import-report")
        assert attr(driver, "import-report", "data-problems") == "1"
        assert attr(driver, "import-report", "data-good") == str(good_rows)
        assert attr(driver, "import-problem-0", "data-row") == str(bad_row)
        assert "答案" in text(driver, "import-problem-0")
        assert not find(driver, "import-all").is_enabled()
        shots.take(driver, "04-import-check")
        click(driver, "import-good")
        click(driver, "dialog-ok")
        wait_visible(driver, "import-result")
        assert attr(driver, "import-result", "data-written") == str(good_rows)
        click(driver, "bank-part-questions")
        wait_until(driver, lambda d: attr(d, "qs-total", "data-total") == str(good_rows + len(typed)), "the bank does not list every question")
        type_into(driver, "qs-q", "工频")
        click(driver, "qs-search")
        wait_until(driver, lambda d: attr(d, "qs-total", "data-total") == "1", "search by words does not find the typed question")
        click(driver, "bank-part-stats")
        wait_visible(driver, "stats-type-chart")
        assert attr(driver, "stats-total", "data-total") == str(good_rows + len(typed))
        shots.take(driver, "05-statistics")

        # A paper by rule.
        click(driver, "tab-papers")
        wait_visible(driver, "asm-submit")
        choose(driver, "asm-bank", bank_id)
        type_into(driver, "asm-title", "维修电工四级理论知识试卷")
        choose(driver, "asm-section-0-type", "singleChoice")
        type_into(driver, "asm-section-0-count", "8", clear=True)
        type_into(driver, "asm-section-0-points", "2", clear=True)
        click(driver, "asm-section-add")
        choose(driver, "asm-section-1-type", "trueFalse")
        type_into(driver, "asm-section-1-count", "4", clear=True)
        type_into(driver, "asm-section-1-points", "1", clear=True)
        click(driver, "asm-cov-add")
        choose(driver, "asm-cov-0-kp", "1")
        type_into(driver, "asm-cov-0-min", "20", clear=True)
        type_into(driver, "asm-seed", "7")
        click(driver, "asm-submit")
        wait_visible(driver, "asm-result")
        paper_id = attr(driver, "asm-paper-0", "data-id")
        click(driver, "asm-paper-0")
        wait_visible(driver, "paper-state")
        assert attr(driver, "paper-state", "data-state") == "draft"
        wait_visible(driver, "paper-report")
        assert all(row.get_attribute("data-met") == "true" for row in find_all(driver, '[data-testid^="report-"]'))
        shots.take(driver, "06-paper-draft")
        # Edited by hand: the first true/false question is worth 3 points instead of 1 (a new version; the paper's
        # points follow, and the report says the section no longer meets the rule).
        click(driver, "paper-edit")
        wait_visible(driver, "edit-1-0-points")
        three_points = attr(driver, "edit-1-0", "data-id")
        type_into(driver, "edit-1-0-points", "3")
        type_into(driver, "edit-note", "第一道判断题改为 3 分")
        click(driver, "edit-save")
        wait_until(driver, lambda d: attr(d, "paper-version", "data-version") == "2", "the edit did not make version 2")
        assert "22" in text(driver, "paper-points"), text(driver, "paper-points")
        assert attr(driver, "report-1", "data-met") == "false"
        assert "（3 分）" in text(driver, f"paper-question-{three_points}")
        click(driver, "paper-edit")
        wait_until(driver, lambda d: value(d, "edit-1-0-points") == "3", "the editor does not show the points set by hand")
        click(driver, "edit-cancel")
        wait_visible(driver, "paper-request")
        click(driver, "paper-request")
        type_into(driver, "dialog-input", "请审核")
        click(driver, "dialog-ok")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "requested", "the request did not go through")
        click(driver, "paper-approve")
        wait_visible(driver, "paper-action-error")
        assert attr(driver, "paper-action-error", "data-code") == "paper_self_approval"
        shots.take(driver, "07-self-approval-refused")

        # A second office account approves it.
        click(driver, "logout")
        office_login(driver, office.base, "office2", passwords["office2"])
        go(driver, office.base, f"paper/{paper_id}")
        click(driver, "paper-approve")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "approved", "office2 could not approve")
        assert "已批准" in text(driver, "paper-state")
        click(driver, "lang-switch")
        wait_until(driver, lambda d: text(d, "paper-state") == "approved", "the paper page has no English")
        assert "Version" in text(driver, "paper-version")
        click(driver, "lang-switch")
        wait_until(driver, lambda d: text(d, "paper-state") == "已批准", "the paper page did not return to Chinese")
        click(driver, "logout")
        office_login(driver, office.base, "office1", passwords["office1"])

        # The venue's room, the plan, the sitting an hour ahead.
        click(driver, "tab-venues")
        click(driver, f"venue-rooms-{VENUE}")
        wait_visible(driver, "rooms-venue")
        type_into(driver, "room-0-id", ROOM)
        type_into(driver, "room-0-name", "第十一考场")
        click(driver, "room-0-generate")
        assert value(driver, "room-0-seats").startswith("01,02,03")
        click(driver, "rooms-save")
        wait_visible(driver, "rooms-saved")

        click(driver, "tab-plans")
        type_into(driver, "plan-name", "2026 年第四季度维修电工认定")
        click(driver, "plan-create")
        wait_visible(driver, "plan-title")
        plan_id = re.search(r"#plan/([^/]+)", driver.current_url).group(1)
        type_into(driver, "sit-id", SITTING)
        type_into(driver, "sit-name", "维修电工四级理论知识")
        choose(driver, "sit-venue", VENUE)
        choose(driver, "sit-subject", "theory")
        wait_until(driver, lambda d: find(d, f"sit-room-{ROOM}"), "the venue's rooms are not offered")
        wait_until(driver, lambda d: any(o.get_attribute("value") == paper_id for o in find_all(d, '[data-testid="sit-paper"] option')),
                   "the approved paper is not offered")
        choose(driver, "sit-paper", paper_id)
        check(driver, f"sit-room-{ROOM}")
        start = time.localtime(time.time() + 3600)
        set_value(driver, "sit-date", time.strftime("%Y-%m-%d", start))
        set_value(driver, "sit-time", time.strftime("%H:%M", start))
        type_into(driver, "sit-duration", "60", clear=True)
        type_into(driver, "sit-instructions", "请携带准考证和身份证。")
        click(driver, "sit-create")
        wait_visible(driver, "sitting-title")

        # Candidates, seats, staff — on a phone-width window.
        driver.set_window_size(390, 844)
        type_into(driver, "cand-paste", "\n".join(",".join(c) for c in CANDIDATES), clear=True)
        click(driver, "cand-save")
        wait_until(driver, lambda d: attr(d, "cand-table", "data-count") == "3", "the candidates were not saved")
        photo = next(iter(sorted((FACE_DIR / "people").glob("*/*.jpg"))), None) if FACE_DIR.exists() else None
        if photo is not None:
            find(driver, f"cand-photo-{CANDIDATES[0][0]}").send_keys(str(photo))
            wait_until(driver, lambda d: attr(d, f"cand-{CANDIDATES[0][0]}", "data-photo") == "true", "the photo was not taken")
        click(driver, "seats-allocate")
        wait_until(driver, lambda d: all(attr(d, f"cand-{c[0]}", "data-seat") for c in CANDIDATES), "no seats allocated")
        seats = [attr(driver, f"cand-{c[0]}", "data-seat") for c in CANDIDATES]
        assert len(set(seats)) == 3
        assert attr(driver, f"seat-{ROOM}-{seats[0]}", "data-candidate") == CANDIDATES[0][0]
        click(driver, "staff-add")
        type_into(driver, "staff-0-username", "kd-jk011")
        type_into(driver, "staff-0-name", "周监考")
        choose(driver, "staff-0-role", "invigilator")
        check(driver, f"staff-0-room-{ROOM}")
        click(driver, "staff-save")
        wait_visible(driver, "staff-password-kd-jk011")
        assert len(text(driver, "staff-password-kd-jk011")) >= 8
        shots.take_full(driver, "08-sitting-phone")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 400, "the sitting page is wider than a phone"
        driver.set_window_size(1280, 900)

        # The package, its paper sealed.
        go(driver, office.base, f"plan/{plan_id}")
        choose(driver, "pkg-venue", VENUE)
        click(driver, "pkg-issue")
        wait_visible(driver, "pkg-result")
        package_id = attr(driver, "pkg-result", "data-package")
        assert attr(driver, f"seal-{SITTING}", "data-code")
        shots.take(driver, "09-package-issued")

        # The venue fetches and imports it.
        admin = venue.staff_token("admin", "kaodian-admin")
        auth = {"Authorization": f"Bearer {admin}"}

        def sitting_package_state(_driver):
            requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)
            time.sleep(1)
            go(driver, office.base, f"sitting/{SITTING}")
            wait_visible(driver, "sitting-package")
            return attr(driver, "sitting-package", "data-state") in ("imported", "refused")
        wait_until(driver, sitting_package_state, "the venue did not report on the package", timeout=90)
        assert attr(driver, "sitting-package", "data-state") == "imported", text(driver, "sitting-package")
        assert package_id in text(driver, "sitting-package")
        shots.take(driver, "10-package-imported")

        # The key is released now; the venue opens the paper at its next sync.
        assert attr(driver, "sitting-seal", "data-released") == "false"
        click(driver, "sitting-release")
        click(driver, "dialog-ok")
        wait_until(driver, lambda d: attr(d, "sitting-seal", "data-released") == "true", "the key was not released")

        terminal = make_driver(tmp_path / "profile-terminal")
        terminal.get(venue.base + "/terminal/")
        wait_visible(terminal, "login-view")
        type_into(terminal, "login-admission", CANDIDATES[0][0])
        type_into(terminal, "login-id", CANDIDATES[0][2])
        click(terminal, "login-submit")
        wait_visible(terminal, "waiting-view")

        deadline = time.time() + 90
        while True:
            requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)
            started = requests.post(f"{venue.base}/api/console/sittings/{SITTING}/start", headers=auth, timeout=30)
            if started.status_code == 200:
                break
            code_ = started.json().get("error", {}).get("code") if started.content else None
            assert code_ == "paper_sealed" and time.time() < deadline, f"the sitting did not start: {started.status_code} {started.text}"
            time.sleep(1)

        wait_visible(terminal, "exam-view", timeout=60)
        paper = session.get(f"{office.base}/api/office/papers/{paper_id}", timeout=30).json()
        paper_stems = [v["question"]["stem"] for section in paper["sections"] for v in section["questions"]]
        assert len(paper_stems) == 12
        on_screen = terminal.execute_script(
            "return [...document.querySelectorAll('[data-testid^=\"stem-\"]')].map((el) => el.textContent.trim())")
        assert set(paper_stems) <= set(on_screen), f"missing on the terminal: {set(paper_stems) - set(on_screen)}"
        points_on_screen = terminal.execute_script(
            "const n = document.querySelector(`[data-testid=\"qnum-${arguments[0]}\"]`);"
            "return n ? n.parentElement.querySelector('.q-points').textContent : null", three_points)
        assert points_on_screen == "3 分", f"the question set to 3 points shows {points_on_screen!r}"
        visible = [el for el in find_all(terminal, '[data-testid^="stem-"]') if el.is_displayed()]
        assert visible and visible[0].text.strip() in paper_stems
        shots.take(terminal, "11-candidate-paper")

        # The candidate hands in; after the venue's next sync the office's sitting page has the result.
        click(terminal, "submit-open")
        wait_visible(terminal, "submit-dialog")
        click(terminal, "submit-confirm")
        wait_visible(terminal, "submitted-view", timeout=60)
        first = CANDIDATES[0][0]

        def result_arrived(_driver):
            requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)
            time.sleep(1)
            go(driver, office.base, f"sitting/{SITTING}")
            wait_visible(driver, "results")
            return attr(driver, f"result-{first}", "data-status") == "submitted"
        wait_until(driver, result_arrived, "the submitted attempt did not reach the office's results", timeout=90)
        assert attr(driver, f"result-{first}", "data-score") != ""
        assert "已交卷" in text(driver, f"result-{first}") and CANDIDATES[0][1] in text(driver, f"result-{first}")
        assert all(attr(driver, f"result-{c[0]}", "data-status") == "noAttempt" for c in CANDIDATES[1:])
        assert "已交卷 1" in text(driver, "results-summary") and "无记录 2" in text(driver, "results-summary"), text(driver, "results-summary")
        # A column per section of the paper, with the submitted attempt's section scores (nothing answered: 0 each).
        reported = session.get(f"{office.base}/api/office/sittings/{SITTING}/results", timeout=30).json()
        assert len(reported["sections"]) == 2 and reported["rows"][0]["sectionScores"] == [0, 0], reported
        header = text(driver, "results").split("\n")[0]
        assert all(section["title"] in header for section in reported["sections"]), header
        shots.take(driver, "12-office-results")

        for browser in (driver, terminal):
            problems += console_problems(browser, logs)
        # Refusals the test provokes (the tree's 422, the self-approval's 409) are logged as failed requests.
        problems = [p for p in problems if not re.search(r"\b(409|422)\b", p)]
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        driver.quit()
        if terminal is not None:
            terminal.quit()
        venue.stop()
        office.stop()
