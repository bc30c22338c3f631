"""The venue reports to the central office whenever the link allows, and by USB when there is none.

Given a throwaway PostgreSQL 15 server, `central serve` on it, and the demo venue enrolled with the office's one-time
code, when candidates take the exam at the venue (check-in, answers, submission), every record reaches central's
tables on its own: the attempt with its score, every answer-log entry, the check-in, the audit entries; the venue's
outbox is all acknowledged and its sync page says so.
When the link goes away (central stopped), the sync page says central is unreachable and what is queued; when it
comes back, the queued results reach central within seconds without anyone doing anything.
When there is no link at all, `venue export` writes a signed bundle to a folder (the USB stick) and `central import`
ingests it; importing it again, and the same items arriving online afterwards, doubles nothing. A bundle whose batch
was changed is refused (signature_invalid) and nothing of that batch is stored.
At the end central holds exactly what the venue holds: same items, same digests, no duplicates.
"""
import hashlib
import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import requests

from conftest import VenueProcess, demo_candidate, free_port
from central_process import CentralProcess
from test_central_enrolment import add_venue, central, enrol, office_account, postgres  # noqa: F401 (postgres is a fixture)

SITTING = "S-DEMO-THEORY"
ROOM_API = f"/api/console/sittings/{SITTING}/rooms/R01"


def venue_sql(data: Path, query: str, args=()):
    with sqlite3.connect(f"file:{data / 'venue.sqlite'}?mode=ro", uri=True) as db:
        return db.execute(query, args).fetchall()


def wait_for(condition, message: str, timeout: float = 20):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.time() < deadline, message
        time.sleep(0.2)


def take_exam(venue: VenueProcess, index: int, answers: int = 3):
    """Candidate `index` logs in, changes a few answers and submits."""
    admission, id_number = demo_candidate(index)
    token = venue.candidate_login(admission, id_number, f"sync-{index}")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for seq in range(1, answers + 1):
        change = {"changeId": f"sync-{index}-{seq}", "questionId": "Q-TF-01", "kind": "answer", "clientSeq": seq,
                  "response": {"value": seq % 2 == 1}}
        r = requests.post(venue.base + "/api/attempt/answers", json={"changes": [change]}, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
    r = requests.post(venue.base + "/api/attempt/submit", json={"confirm": True}, headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    return admission


ADMIN_TOKENS = {}


def sync_view(venue: VenueProcess) -> dict:
    """The sync page's data, as the admin (signed in once: a sign-in is itself an audit entry to report)."""
    token = ADMIN_TOKENS.get(venue.base) or ADMIN_TOKENS.setdefault(venue.base, venue.staff_token("admin", "kaodian-admin"))
    r = requests.get(venue.base + "/api/admin/sync", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def central_holds_the_venue_outbox(office: CentralProcess, data: Path):
    """Every outbox item at the venue is at central once, with the same digest; the answer logs agree row by row."""
    venue_items = {item_id: hashlib.sha256(payload.encode()).hexdigest()
                   for item_id, payload in venue_sql(data, "SELECT id, payload FROM sync_outbox")}
    central_items = {row[0]: row[1] for row in office.sql("SELECT item_id, sha256 FROM sync_item")}
    assert central_items == venue_items
    venue_log = sorted((a, s, c) for a, s, c in venue_sql(data, "SELECT attemptId, seq, changeId FROM answer_log"))
    central_log = sorted((a, int(s), c) for a, s, c in office.sql("SELECT attempt_id, seq, change_id FROM answer_log"))
    assert central_log == venue_log and len(venue_log) > 0


def test_results_reach_central_online_after_an_outage_and_by_usb(postgres, tmp_path):  # noqa: F811
    code = add_venue(postgres)
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-sync")
    try:
        office.start()
        venue.start()
        before = sync_view(venue)
        assert before["status"]["state"] == "notEnrolled" and before["outbox"]["queuedItems"] > 0
        done = enrol(data, office.base, "KD-DEMO-01", code)
        assert done.returncode == 0, done.stderr
        venue.start_sitting(SITTING)
        invigilator = venue.staff_token()
        r = requests.post(f"{venue.base}{ROOM_API}/candidates/{demo_candidate(0)[0]}/check-in", json={"note": "证件核对"},
                          headers={"Authorization": f"Bearer {invigilator}"}, timeout=30)
        assert r.status_code == 204, r.text
        first = take_exam(venue, 0)

        # Online: the submission, its answers and score, the check-in and the audit reach central by themselves.
        wait_for(lambda: office.sql(f"SELECT score FROM exam_attempt WHERE admission_number = '{first}' AND status = 'submitted'"),
                 "the submission did not reach central")
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE ackedAt IS NULL")[0][0] == 0,
                 "the venue's outbox was not all acknowledged")
        venue_score = venue_sql(data, "SELECT score FROM attempt WHERE admissionNumber = ?", (first,))[0][0]
        assert float(office.one(f"SELECT score FROM exam_attempt WHERE admission_number = '{first}'")) == venue_score
        assert office.one(f"SELECT method FROM check_in WHERE admission_number = '{first}'") == "manual"
        assert int(office.one("SELECT count(*) FROM audit_entry WHERE action = 'candidate.checkedIn'")) == 1
        assert office.one(f"SELECT response->>'value' FROM exam_answer a JOIN exam_attempt t USING (venue_id, attempt_id) "
                          f"WHERE t.admission_number = '{first}' AND a.question_id = 'Q-TF-01'") == "true"
        view = wait_for(lambda: (v := sync_view(venue))["status"]["state"] == "idle" and v["outbox"]["queuedItems"] == 0 and v,
                        "the sync page did not say all is reported")
        assert view["outbox"]["queuedItems"] == 0 and view["status"]["lastSuccessAt"] and view["status"].get("lastError") is None
        central_holds_the_venue_outbox(office, data)

        # The link goes away: results queue, the page says why; when it is back they arrive within seconds.
        office.stop()
        second = take_exam(venue, 1)
        down = wait_for(lambda: (v := sync_view(venue))["status"]["state"] == "offline" and v, "the page did not say offline")
        assert down["status"]["lastError"]["code"] == "central_unreachable" and down["outbox"]["queuedItems"] > 0
        assert "无法连接中心" in down["status"]["lastError"]["messageZh"]
        office.start()
        back = time.time()
        wait_for(lambda: office.sql(f"SELECT 1 FROM exam_attempt WHERE admission_number = '{second}' AND status = 'submitted'"),
                 "results did not reach central after the link came back", timeout=15)
        assert time.time() - back < 10
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE ackedAt IS NULL")[0][0] == 0, "outbox not drained")

        # No link at all: a USB export, imported at central, then the same items online: nothing doubled.
        office.stop()
        third = take_exam(venue, 2)
        usb = usb_export(data, tmp_path / "usb")
        bundle = next(usb.glob("kaodian-KD-DEMO-01-*"))
        assert (bundle / "bundle.json.sig").exists() and not list(usb.glob(".*partial"))
        imported = central("import", str(usb), "--storage-dir", str(tmp_path / "central-storage"), database_url=postgres)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        stored = int(re.search(r"(\d+) items stored", imported.stdout).group(1))
        assert stored > 0
        assert office.sql(f"SELECT 1 FROM exam_attempt WHERE admission_number = '{third}' AND status = 'submitted'")
        again = central("import", str(usb), "--storage-dir", str(tmp_path / "central-storage"), database_url=postgres)
        assert again.returncode == 0 and "0 items stored" in again.stdout and "1 batches already imported" in again.stdout, again.stdout

        # A changed batch is refused and nothing of it is stored.
        tampered = tmp_path / "tampered"
        subprocess.run(["cp", "-r", str(bundle), str(tampered)], check=True)
        batch_file = tampered / "batches" / "0001.json"
        batch = json.loads(batch_file.read_text())
        batch["batchId"] = "tampered-" + batch["batchId"][:40]
        batch_file.write_text(json.dumps(batch))
        count_before = office.one("SELECT count(*) FROM sync_item")
        refused = central("import", str(tampered), database_url=postgres)
        assert refused.returncode == 3 and "signature_invalid" in refused.stdout, refused.stdout
        assert office.one("SELECT count(*) FROM sync_item") == count_before
        assert office.sql("SELECT 1 FROM sync_report WHERE code = 'signature_invalid' AND venue_id = 'KD-DEMO-01'")

        office.start()
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE ackedAt IS NULL")[0][0] == 0,
                 "the exported items were not acknowledged online")
        central_holds_the_venue_outbox(office, data)
        assert int(office.one("SELECT count(*) FROM exam_attempt WHERE status = 'submitted'")) == 3

        # The rooms end: the venue sends its manifest of the sitting at once, and the office's completeness page shows
        # everything arrived (central's digest of the answer log equals the venue's).
        admin = venue.staff_token("admin", "kaodian-admin")
        for room in ("R01", "R02"):
            r = requests.post(f"{venue.base}/api/console/sittings/{SITTING}/rooms/{room}/end", json={"reason": "考试结束"},
                              headers={"Authorization": f"Bearer {admin}"}, timeout=30)
            assert r.status_code == 200, r.text
        password = office_account(postgres, "office1", "王主任")
        session = requests.Session()
        assert session.post(office.base + "/api/office/login", json={"username": "office1", "password": password},
                            timeout=30).status_code == 200

        def sitting_complete():
            rows = session.get(office.base + "/api/office/completeness", timeout=30).json()
            row = next((r for r in rows if r["sittingId"] == SITTING and r.get("closedAt")), None)
            return row if row and row["resultsComplete"] else None
        row = wait_for(sitting_complete, "the office did not see the sitting complete", timeout=20)
        assert row["answerLogMatches"] and row["held"]["submitted"] == row["expected"]["submitted"] == 3
        assert row["missing"] == [] and row["recordingsComplete"] and not row["resultsOverdue"]
    finally:
        venue.stop()
        office.stop()


def usb_export(data: Path, usb: Path) -> Path:
    """`venue export` of the results (no video) into a new folder, as onto a USB stick."""
    usb.mkdir()
    exported = subprocess.run([venue_binary_path(), "export", "--data-dir", str(data), str(usb), "--no-video"],
                              capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    return usb


def venue_binary_path() -> str:
    from conftest import venue_binary
    return venue_binary()
