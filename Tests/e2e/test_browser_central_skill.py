"""A skill-operation paper from an empty skill bank to its printed scoring sheet — in Chromium.

Given central on a throwaway PostgreSQL with two office accounts, an office user makes a skill bank (技能操作题库) on
the office pages and writes two tasks in the task editor, on a tablet-width window: scoring items with points and
deduction rules, what the candidate brings and what the room provides; a task with no scoring item is refused with
the reason on the page. The task list shows each task's points. The user makes a skill paper of both tasks (its points
are the tasks' sum) and asks for approval; the second account sends it back with a reason, which the page then shows;
the paper is edited (the tasks' order swapped: version 2), asked for again and approved. The printed scoring sheet
(评分表) lists every scoring item with its points and the total, with lines for the examiners' signatures, each task
on a page of its own when printed; the
candidates' and the room's preparation notices list what each task needs.

Screenshots go to test-output/browser/<test name>/.
"""
import re

from browser_helpers import (Shots, attr, choose, click, console_problems, find, find_all, make_driver, text, type_into,
                             wait_until, wait_visible)
from central_process import CentralProcess
from conftest import OUTPUT
from test_browser_central_authoring import go, office_login
from test_central_enrolment import office_account, postgres  # noqa: F401 (postgres is a fixture)

TASKS = [
    {"title": "三相异步电动机正反转控制线路安装与调试", "minutes": "90",
     "items": [("按电路图正确选配元件并检查", "10", "元件选错每个扣 2 分"),
               ("按图接线，走线整齐，接点牢固", "40", "接线错误每处扣 5 分"),
               ("通电试车一次成功", "40", "一次不成功扣 20 分，二次不成功本项不得分"),
               ("安全文明生产", "10", "违反安全规程扣 10 分")],
     "candidate": [("电工工具", "常用一套", "1 套", "自备")],
     "room": [("三相异步电动机", "Y112M-4 4 kW", "1 台", ""), ("交流接触器", "CJX2-1810", "2 只", "")]},
    {"title": "照明电路的安装与故障排除", "minutes": "60",
     "items": [("按图安装双控照明电路", "60", "每错一处扣 10 分"), ("查找并排除设定故障", "40", "每个故障未排除扣 20 分")],
     "candidate": [("万用表", "数字式", "1 块", "")],
     "room": [("照明实训板", "", "1 块", "含双控开关")]},
]


def write_task(driver, task):
    type_into(driver, "task-title", task["title"])
    type_into(driver, "task-description", f"在规定时间内完成{task['title']}，并回答考评员的提问。")
    type_into(driver, "task-duration", task["minutes"], clear=True)
    for i, (what, points, deduction) in enumerate(task["items"]):
        if i:
            click(driver, "task-item-add")
        type_into(driver, f"task-item-{i}-text", what)
        type_into(driver, f"task-item-{i}-points", points)
        type_into(driver, f"task-item-{i}-deduction", deduction)
    for prefix, rows in (("task-cprep", task["candidate"]), ("task-rprep", task["room"])):
        for i, (name, spec, qty, note) in enumerate(rows):
            if not find_all(driver, f'[data-testid="{prefix}-{i}-name"]'):
                click(driver, f"{prefix}-add")
            type_into(driver, f"{prefix}-{i}-name", name)
            if spec:
                type_into(driver, f"{prefix}-{i}-spec", spec)
            type_into(driver, f"{prefix}-{i}-qty", qty)
            if note:
                type_into(driver, f"{prefix}-{i}-note", note)


def page_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def test_office_makes_a_skill_paper_and_prints_its_scoring_sheet(postgres, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    passwords = {username: office_account(postgres, username, name) for username, name in (("office1", "王组卷"), ("office2", "李审核"))}
    office = CentralProcess(postgres, tmp_path / "central-storage")
    driver = make_driver(tmp_path / "profile", width=820, height=1180)  # a tablet held upright
    problems, logs = [], []
    try:
        office.start()
        office_login(driver, office.base, "office1", passwords["office1"])
        click(driver, "tab-banks")
        type_into(driver, "bank-name", "维修电工四级技能操作题库")
        type_into(driver, "bank-occupation", "维修电工")
        choose(driver, "bank-level", "四级")
        choose(driver, "bank-subject", "skill")
        click(driver, "bank-create")
        wait_visible(driver, "bank-title")
        assert attr(driver, "bank-title", "data-subject") == "skill"
        bank_id = re.search(r"#bank/([^/]+)", driver.current_url).group(1)

        # A task without a scoring item is refused with the reason.
        go(driver, office.base, f"bank/{bank_id}/task")
        wait_visible(driver, "task-title")
        type_into(driver, "task-title", "没有评分项的任务")
        type_into(driver, "task-description", "说明")
        click(driver, "task-save")
        wait_visible(driver, "task-error")
        assert "评分" in text(driver, "task-error"), text(driver, "task-error")

        task_ids = []
        for task in TASKS:
            go(driver, office.base, f"bank/{bank_id}/task")
            wait_visible(driver, "task-title")
            write_task(driver, task)
            if not task_ids:
                shots.take_full(driver, "01-task-editor-tablet")
                assert driver.execute_script("return document.documentElement.scrollWidth") <= 830, "the task editor is wider than a tablet"
            click(driver, "task-save")
            wait_visible(driver, "task-saved")
            task_ids.append(attr(driver, "task-saved", "data-id"))
        go(driver, office.base, f"bank/{bank_id}/tasks")
        wait_visible(driver, "tasks-table")
        for task_id, task in zip(task_ids, TASKS):
            row = text(driver, f"task-row-{task_id}")
            assert task["title"] in row and str(sum(int(p) for _, p, _ in task["items"])) in row, row
        shots.take(driver, "02-tasks")

        # A skill paper of both tasks.
        click(driver, "tab-papers")
        wait_visible(driver, "skill-create")
        choose(driver, "skill-bank", bank_id)
        type_into(driver, "skill-title", "维修电工四级技能操作试卷")
        for task_id in task_ids:
            wait_visible(driver, f"skill-task-{task_id}")
            click(driver, f"skill-task-{task_id}")
        click(driver, "skill-create")
        wait_visible(driver, "paper-state")
        paper_id = re.search(r"#paper/([^/]+)", driver.current_url).group(1)
        assert attr(driver, "paper-state", "data-state") == "draft"
        assert "200" in text(driver, "paper-points"), text(driver, "paper-points")
        for task_id in task_ids:
            wait_visible(driver, f"paper-task-{task_id}")
        shots.take(driver, "03-skill-paper")
        click(driver, "paper-request")
        type_into(driver, "dialog-input", "请审核")
        click(driver, "dialog-ok")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "requested", "the request did not go through")

        # Sent back with a reason by the second account; the first edits it and asks again; then it is approved.
        click(driver, "logout")
        office_login(driver, office.base, "office2", passwords["office2"])
        go(driver, office.base, f"paper/{paper_id}")
        click(driver, "paper-reject")
        click(driver, "dialog-ok")  # no reason: the office refuses and says why
        wait_visible(driver, "paper-action-error")
        assert attr(driver, "paper-action-error", "data-code") == "reason_required"
        assert "原因" in text(driver, "paper-action-error"), text(driver, "paper-action-error")
        assert attr(driver, "paper-state", "data-state") == "requested"
        click(driver, "paper-reject")
        type_into(driver, "dialog-input", "试题 2 的评分标准须写明故障个数")
        click(driver, "dialog-ok")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "rejected", "the paper was not sent back")
        assert "故障个数" in text(driver, "paper-reason")
        click(driver, "logout")
        office_login(driver, office.base, "office1", passwords["office1"])
        go(driver, office.base, f"paper/{paper_id}")
        wait_visible(driver, "paper-reason")
        click(driver, "paper-edit")
        wait_visible(driver, "edit-task-1-up")
        click(driver, "edit-task-1-up")
        type_into(driver, "edit-note", "调换试题顺序")
        click(driver, "edit-save")
        wait_until(driver, lambda d: attr(d, "paper-version", "data-version") == "2", "the edit did not make version 2")
        order = [el.get_attribute("data-testid") for el in find_all(driver, '[data-testid^="paper-task-"]')]
        assert order == [f"paper-task-{task_ids[1]}", f"paper-task-{task_ids[0]}"], order
        click(driver, "paper-request")
        click(driver, "dialog-ok")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "requested", "the second request did not go through")
        click(driver, "logout")
        office_login(driver, office.base, "office2", passwords["office2"])
        go(driver, office.base, f"paper/{paper_id}")
        click(driver, "paper-approve")
        wait_until(driver, lambda d: attr(d, "paper-state", "data-state") == "approved", "office2 could not approve")
        shots.take(driver, "04-approved")

        # The printed scoring sheet and the preparation notices.
        links = {part: attr(driver, f"print-{part}", "href") for part in ("scoring", "candidate-notice", "room-notice")}
        driver.get(links["scoring"])
        sheet = page_text(driver)
        assert "评分表" in sheet and "考评员（签名）" in sheet
        for task in TASKS:
            assert task["title"] in sheet
            for what, points, deduction in task["items"]:
                assert what in sheet and deduction in sheet, what
        totals = [cell.text for cell in find_all(driver, "tbody tr:last-child td.num")]
        assert totals == ["100", "100"], totals
        shots.take_full(driver, "05-scoring-sheet")
        # Printed, each task's sheet is a page of its own (examiners fill one per candidate and task).
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        breaks = driver.execute_script("return [...document.querySelectorAll('section.sheet')].map((s) => getComputedStyle(s).breakAfter)")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        assert breaks == ["page", "auto"], breaks
        driver.get(links["candidate-notice"])
        notice = page_text(driver)
        assert "考生准备通知单" in notice and "电工工具" in notice and "万用表" in notice and "交流接触器" not in notice
        driver.get(links["room-notice"])
        notice = page_text(driver)
        assert "考场准备通知单" in notice and "Y112M-4 4 kW" in notice and "含双控开关" in notice and "电工工具" not in notice
        shots.take_full(driver, "06-room-notice")

        problems += console_problems(driver, logs)
        # Refusals the test provokes (the task without scoring items, the reject without a reason) are logged.
        problems = [p for p in problems if not re.search(r"\b(409|422)\b", p)]
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        driver.quit()
        office.stop()
