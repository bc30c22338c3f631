"""A sealed paper is opened at the venue with its code (启封码), in real Chromium.

Given a venue with the demo exam, when the central office's package arrives with the sitting's paper sealed
(`venue demo-package --sealed`, which prints the code) and the admin imports it on the admin page,
then the page lists the sitting as 已密封 with its scheduled start; the paper stays closed (the sitting cannot
start, the candidate waiting at a terminal gets no paper); a wrong code is refused with the reason and changes
nothing; the right code, typed loosely, opens it; and once the sitting starts the candidate's paper appears.

Screenshots go to test-output/browser/<test name>/.
"""
import re
import subprocess

import requests

from browser_helpers import (Shots, attr, click, console_problems, find, make_driver, staff_login, text, type_into,
                             wait_until, wait_visible)
from conftest import OUTPUT, ROOT, demo_candidate, venue_binary

SITTING = "S-DEMO-THEORY"


def sealed_package(venue, out):
    """The demo exam signed by the venue's demo issuer, its sitting sealed; returns the printed code."""
    made = subprocess.run(
        [venue_binary(), "demo-package", "--out", str(out), "--key", str(venue.data_dir / "demo-issuer.key"),
         "--start-in", "3600", "--sealed"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    match = re.search(rf"sealed {SITTING}: code ([0-9A-Z-]+)", made.stdout)
    assert match, made.stdout
    return match.group(1)


def test_admin_opens_a_sealed_paper_with_its_code_and_the_candidate_gets_it(venue, tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    package = tmp_path / "sealed.kdpkg"
    code = sealed_package(venue, package)
    assert len(code) == 29
    admission, id_number = demo_candidate(0)
    logs, problems = [], []
    admin = terminal = None
    try:
        # The admin imports the package on the admin page.
        admin = make_driver(tmp_path / "profile-admin")
        staff_login(admin, venue.base, "admin", "kaodian-admin", page="/admin/")
        wait_visible(admin, "import-submit")
        find(admin, "import-file").send_keys(str(package))
        click(admin, "import-submit")
        wait_visible(admin, "import-summary", timeout=120)
        row = f"sealed-row-{SITTING}"
        wait_visible(admin, row)
        assert attr(admin, row, "data-state") == "sealed"
        assert "已密封" in text(admin, row)
        shots.take(admin, "01-admin-sealed-after-import")

        # The paper stays closed: the candidate waits, the sitting cannot start.
        terminal = make_driver(tmp_path / "profile-terminal")
        terminal.get(venue.base + "/terminal/")
        wait_visible(terminal, "login-view")
        type_into(terminal, "login-admission", admission)
        type_into(terminal, "login-id", id_number)
        click(terminal, "login-submit")
        wait_visible(terminal, "waiting-view")
        token = venue.staff_token("admin", "kaodian-admin")
        started = requests.post(f"{venue.base}/api/console/sittings/{SITTING}/start",
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert started.status_code == 409 and started.json()["error"]["code"] == "paper_sealed", started.text

        # A wrong code is refused with the reason.
        wrong = "00000-00000-00000-00000-00000" if code != "00000-00000-00000-00000-00000" else "11111-11111-11111-11111-11111"
        type_into(admin, f"sealed-code-{SITTING}", wrong)
        click(admin, f"sealed-submit-{SITTING}")
        wait_visible(admin, f"sealed-error-{SITTING}")
        assert "启封码不正确" in text(admin, f"sealed-error-{SITTING}")
        assert attr(admin, row, "data-state") == "sealed"
        shots.take(admin, "02-admin-wrong-code")

        # The right code, typed in lower case with spaces, opens the paper.
        type_into(admin, f"sealed-code-{SITTING}", code.lower().replace("-", " "), clear=True)
        click(admin, f"sealed-submit-{SITTING}")
        wait_until(admin, lambda d: attr(d, row, "data-state") == "unsealed", "the sitting was not shown as opened")
        assert "已启封" in text(admin, row)
        shots.take(admin, "03-admin-opened")

        # Once the sitting starts, the waiting candidate's paper appears.
        venue.start_sitting(SITTING)
        wait_visible(terminal, "exam-view", timeout=60)
        shots.take(terminal, "04-terminal-paper")

        audit = requests.get(f"{venue.base}/api/admin/audit", params={"action": "paper.unsealed"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        assert [entry["actor"] for entry in audit] == ["admin"]
        for driver in (admin, terminal):
            problems += console_problems(driver, logs)
        # The wrong code's 422 is logged by the browser as a failed request; anything else is a problem.
        problems = [p for p in problems if "422" not in p]
        assert not problems, "browser console shows CSP violations or script errors:\n" + "\n".join(problems)
    finally:
        for driver in (admin, terminal):
            if driver is not None:
                driver.quit()
