"""The room documents print as real A4 paper, checked as a person would: print to PDF in headless Chromium, read it.

Given a venue with the demo exam and a small sitting in room R01 (two candidates checked in at the photo, one
marked absent, three logged in, a pause and resume, one incident, one candidate who submitted, then the invigilator ends the exam),
when the invigilator opens each document (考生花名册, 考场座位表, 签到表, 考场记录) and prints it to PDF,
then each PDF is A4, has the document's title, the room, the candidates' names, the signature column or lines,
and a plausible number of pages; the on-screen toolbar (print button, hints) is not on the paper.

The PDFs and a PNG of each first page (pdftoppm -r 60) go to test-output/print/. pdftotext, pdfinfo and pdftoppm
come from poppler-utils (scripts/setup.sh installs it).
"""
import base64
import re
import shutil
import subprocess
import time

import pytest
import requests
from selenium.webdriver.common.print_page_options import PrintOptions

from browser_helpers import StaffAPI, Shots, console_problems, make_driver, staff_login, wait_until, wait_visible
from conftest import OUTPUT, demo_candidate

SITTING = "S-DEMO-THEORY"
ROOM = "R01"
PRINT_OUT = OUTPUT / "print"
ROOM_API = f"/api/console/sittings/{SITTING}/rooms/{ROOM}"
INCIDENT_NOTE = "考生携带手机进入考场，已收缴并登记"
PAUSE_REASON = "考场停电，等待恢复供电"
END_REASON = "考试时间到，统一收卷"

# document → (title, the signature heading it must show, fewest pages, most pages) for the 30 seats of R01
DOCUMENTS = {
    "roster": ("考生花名册", "考生签名", 2, 5),
    "seating": ("考场座位表", "讲台", 1, 2),
    "signin": ("签到表", "考生签名", 1, 3),
    "record": ("考场记录", "监考员（签名）", 1, 3),
}


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils; scripts/setup.sh does it)")
    return path


def flat(text: str) -> str:
    """The PDF's text without any white space (letter-spaced titles and wrapped cells read as one)."""
    return re.sub(r"\s+", "", text)


def small_sitting(venue):
    """Two check-ins, one absence, three logins, an incident, one submission by the candidate, then the end."""
    invigilator = StaffAPI(venue.base, "invigilator1", "kaodian-demo")
    invigilator.post(f"{ROOM_API}/candidates/KD261100001/check-in", {}, expect=(204,))
    invigilator.post(f"{ROOM_API}/candidates/KD261100002/check-in", {"note": "核对身份证无误"}, expect=(204,))
    invigilator.post(f"{ROOM_API}/candidates/KD261100005/absent", {"reason": "开考 15 分钟后仍未到"}, expect=(204,))
    tokens = {}
    for index in range(3):
        admission, id_number = demo_candidate(index)
        tokens[admission] = venue.candidate_login(admission, id_number, f"print-test-{index}")["token"]
    invigilator.post(f"{ROOM_API}/start", {}, expect=(200,))
    invigilator.post(f"{ROOM_API}/pause", {"reason": PAUSE_REASON}, expect=(200,))
    invigilator.post(f"{ROOM_API}/resume", {}, expect=(200,))
    invigilator.post(f"{ROOM_API}/incidents", {"admissionNumber": "KD261100003", "category": "cheating", "note": INCIDENT_NOTE},
                     expect=(201,))
    r = requests.post(venue.base + "/api/attempt/submit", json={"confirm": True},
                      headers={"Authorization": f"Bearer {tokens['KD261100002']}"}, timeout=30)
    assert r.status_code == 200, r.text
    invigilator.post(f"{ROOM_API}/end", {"reason": END_REASON}, expect=(200,))
    return invigilator


def test_room_documents_print_on_a4(venue, tmp_path, request):
    for tool in ("pdftotext", "pdfinfo", "pdftoppm"):
        poppler(tool)
    PRINT_OUT.mkdir(parents=True, exist_ok=True)
    for old in PRINT_OUT.glob("*"):
        old.unlink()
    shots = Shots(OUTPUT / "browser" / request.node.name)
    invigilator = small_sitting(venue)
    view = invigilator.room(SITTING, ROOM)
    names = [entry["name"] for entry in view["roster"]]
    assert len(names) == 30
    by_admission = {entry["admissionNumber"]: entry["name"] for entry in view["roster"]}
    logs, problems, timings = [], [], {}
    browser = None
    try:
        browser = make_driver(tmp_path / "profile")
        staff_login(browser, venue.base, "invigilator1", "kaodian-demo")
        wait_visible(browser, f"open-room-{SITTING}-{ROOM}")
        for kind, (title, signature, fewest, most) in DOCUMENTS.items():
            started = time.time()
            browser.get(f"{venue.base}/console/print/{kind}.html?sitting={SITTING}&room={ROOM}")
            wait_until(browser, lambda d: d.execute_script("return document.body.dataset.ready") in ("true", "error"),
                       f"{kind}: the document never finished loading")
            assert browser.execute_script("return document.body.dataset.ready") == "true", f"{kind}: the page shows an error"
            assert browser.execute_script(
                "return [...document.querySelectorAll('#doc img')].every(i => i.naturalWidth > 0)"), f"{kind}: a photo is missing"
            wait_visible(browser, "print-button")
            shots.take(browser, f"{kind}-screen")

            options = PrintOptions()
            options.page_width = 21.0
            options.page_height = 29.7
            options.margin_top = options.margin_bottom = options.margin_left = options.margin_right = 0  # @page sets 15 mm
            options.background = True
            pdf_path = PRINT_OUT / f"{kind}.pdf"
            pdf_path.write_bytes(base64.b64decode(browser.print_page(options)))
            subprocess.run([poppler("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf_path),
                            str(PRINT_OUT / f"{kind}-page1")], check=True)

            info = subprocess.run([poppler("pdfinfo"), str(pdf_path)], capture_output=True, text=True, check=True).stdout
            pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
            size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
            assert abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2, f"{kind}: not A4: {size.group(0)}"
            assert fewest <= pages <= most, f"{kind}: {pages} pages"
            text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf_path), "-"], capture_output=True, text=True,
                                  check=True).stdout
            (PRINT_OUT / f"{kind}.txt").write_text(text, encoding="utf-8")
            whole = flat(text)
            assert title in whole, f"{kind}: no title {title}"
            assert "第一考场" in whole and "R01" in whole, f"{kind}: the room is missing"
            assert "电工（四级/中级工）理论知识考试" in whole, f"{kind}: the sitting is missing"
            assert signature in whole, f"{kind}: no {signature}"
            assert "请用A4纸打印" not in whole and "返回" not in whole, f"{kind}: the screen toolbar was printed"
            assert f"共{pages}页" in whole, f"{kind}: no page numbers"
            if kind == "record":
                for expected in ("考试结束", "监考员收卷", "考生交卷", INCIDENT_NOTE, "作弊", "缺考考生", PAUSE_REASON, END_REASON, "暂停次数1次",
                                 by_admission["KD261100005"], by_admission["KD261100002"], by_admission["KD261100003"]):
                    assert flat(expected) in whole, f"record: {expected} is missing"
            else:
                missing = [name for name in names if name not in whole]
                assert not missing, f"{kind}: names missing: {missing}"
                admissions = re.findall(r"KD2611\d{5}", text)
                assert len(set(admissions)) == 30, f"{kind}: {len(set(admissions))} admission numbers"
            if kind in ("roster", "signin"):
                # Every page repeats the column headings, and no row is split across two pages.
                for number, page in enumerate(text.split("\f")[:pages], start=1):
                    assert "准考证号" in flat(page), f"{kind}: page {number} has no column headings"
                rows_per_page = [len(re.findall(r"KD2611\d{5}", page)) for page in text.split("\f")[:pages]]
                assert sum(rows_per_page) == 30, f"{kind}: rows per page {rows_per_page}"
            timings[kind] = round(time.time() - started, 1)
        problems += console_problems(browser, logs)
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
        print("print timings (s):", timings)
    finally:
        if browser is not None:
            browser.quit()
