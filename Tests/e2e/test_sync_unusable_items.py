"""An item central can never take does not hold back the results behind it.

Given central and the demo venue enrolled, when the venue's outbox holds items central cannot take (a submission whose
score is not a number, which does not fit central's tables, and an incident whose text holds a NUL character, which
PostgreSQL refuses), central refuses the batch naming every such item with its reason (item_unusable) and keeps
nothing of it; the venue sets those items aside with the reason, shows them on the sync page, and sends everything
else, so a candidate's results still reach central within seconds. Items central acknowledged leave the outbox after
their keeping time (here none). A USB bundle holding the same items is taken
without them: the rest of its signed batch is stored and the refused items are reported.
"""
import json
import re
import sqlite3
import uuid

from conftest import VenueProcess, free_port
from central_process import CentralProcess
from test_central_enrolment import add_venue, central, enrol, postgres  # noqa: F401 (postgres is a fixture)
from test_sync import SITTING, sync_view, take_exam, usb_export, venue_sql, wait_for


def add_outbox_item(data, kind: str, payload: dict, priority: int = 0) -> str:
    """Writes an item into the venue's outbox the way its triggers do (as a faulty venue version might)."""
    item_id = str(uuid.uuid4())
    with sqlite3.connect(data / "venue.sqlite", timeout=30) as db:
        db.execute("INSERT INTO sync_outbox (id, kind, priority, sittingId, payload, createdAt) "
                   "VALUES (?, ?, ?, ?, ?, 1790000000000)", (item_id, kind, priority, SITTING, json.dumps(payload)))
    return item_id


def test_unusable_items_are_set_aside_and_the_rest_arrives(postgres, tmp_path):  # noqa: F811
    code = add_venue(postgres)
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    # Acknowledged items are deleted as soon as all is sent (the refused ones stay).
    venue = VenueProcess(data, free_port(), log_name="venue-unusable", extra_args=("--sync-keep-days", "0"))
    try:
        office.start()
        venue.start()
        # Before the venue enrols (so before anything is sent): two items central cannot take, first in the queue.
        unfit = add_outbox_item(data, "attemptSubmitted", {
            "id": "A-BROKEN", "sittingId": SITTING, "admissionNumber": "KD000", "status": "submitted",
            "createdAt": 1790000000000, "score": "nine", "logLength": 0, "extensionSeconds": 0})
        nul = add_outbox_item(data, "incident", {"id": "I-BROKEN", "sittingId": SITTING, "note": "a\u0000b"})
        done = enrol(data, office.base, "KD-DEMO-01", code)
        assert done.returncode == 0, done.stderr
        venue.start_sitting(SITTING)
        admission = take_exam(venue, 0)

        # The candidate's submission reaches central; the two items are set aside, each with its reason.
        wait_for(lambda: office.sql(f"SELECT 1 FROM exam_attempt WHERE admission_number = '{admission}' AND status = 'submitted'"),
                 "the submission did not reach central past the unusable items")
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE ackedAt IS NULL AND refusedAt IS NULL")[0][0] == 0,
                 "the rest of the outbox was not all acknowledged")
        refusals = dict(venue_sql(data, "SELECT id, refusal FROM sync_outbox WHERE refusedAt IS NOT NULL"))
        assert set(refusals) == {unfit, nul}, refusals
        assert "item_unusable" in refusals[unfit] and "double precision" in refusals[unfit], refusals[unfit]
        assert "无法写入中心数据表" in refusals[unfit]
        assert "item_unusable" in refusals[nul], refusals[nul]
        # The acknowledged items were deleted from the outbox once all was sent (the venue's own records stay).
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE kind = 'attemptSubmitted' AND refusedAt IS NULL")[0][0] == 0,
                 "the acknowledged submission stayed in the outbox")
        assert venue_sql(data, "SELECT count(*) FROM attempt WHERE admissionNumber = ? AND status = 'submitted'", (admission,))[0][0] == 1
        # Central kept nothing of them, and the office sees why.
        assert office.sql(f"SELECT 1 FROM sync_item WHERE item_id IN ('{unfit}', '{nul}')") == []
        assert office.sql("SELECT 1 FROM exam_attempt WHERE attempt_id = 'A-BROKEN'") == []
        report = office.one("SELECT detail FROM sync_report WHERE code = 'item_unusable' ORDER BY id LIMIT 1")
        assert unfit in report and nul in report, report
        # Everything else the venue holds is at central.
        others = {row[0] for row in venue_sql(data, "SELECT id FROM sync_outbox WHERE refusedAt IS NULL")}
        assert others <= {row[0] for row in office.sql("SELECT item_id FROM sync_item")}
        # The sync page lists the set-aside items for a person.
        view = sync_view(venue)
        assert view["outbox"]["refusedItems"] == 2 and {item["id"] for item in view["refused"]} == {unfit, nul}

        # By USB: a bundle with the refused items and a new submission is taken without the refused items.
        office.stop()
        second = take_exam(venue, 1)
        usb = usb_export(data, tmp_path / "usb")
        imported = central("import", str(usb), "--storage-dir", str(tmp_path / "central-storage"), database_url=postgres)
        assert imported.returncode == 3, imported.stdout + imported.stderr
        assert f"item {unfit} refused" in imported.stdout and f"item {nul} refused" in imported.stdout, imported.stdout
        assert int(re.search(r"(\d+) items stored", imported.stdout).group(1)) > 0
        assert office.sql(f"SELECT 1 FROM exam_attempt WHERE admission_number = '{second}' AND status = 'submitted'")
        assert office.sql(f"SELECT 1 FROM sync_item WHERE item_id IN ('{unfit}', '{nul}')") == []
    finally:
        venue.stop()
        office.stop()
