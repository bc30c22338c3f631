"""Sync through a bad link, with crashes: nothing lost, nothing doubled.

Given central on a throwaway PostgreSQL and the demo venue enrolled through scripts/fault-proxy.py — a proxy that
cuts connections at random byte offsets, stalls them and throttles them — when 20 candidates take the exam (each
answer re-sent by its terminal until the venue acknowledges it, as the real terminal does) while, over and over, the
venue is killed with SIGKILL and started again, central is killed with SIGKILL and started again, and the link goes
down for a few seconds, then at the end, once the link is healed, central holds exactly what the venue holds: the same
outbox items with the same digests, each once, every answer-log entry, every submission.
"""
import importlib.util
import random
import threading
import time

import requests

from conftest import ROOT, VenueProcess, demo_candidate, free_port
from test_central_enrolment import add_venue, enrol, postgres  # noqa: F401 (postgres is a fixture)
from central_process import CentralProcess
from test_sync import SITTING, central_holds_the_venue_outbox, venue_sql, wait_for

spec = importlib.util.spec_from_file_location("fault_proxy", ROOT / "scripts" / "fault-proxy.py")
fault_proxy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fault_proxy)

CANDIDATES = 20
CHANGES = 12


def until_acknowledged(call, stop_at: float):
    """Repeats a terminal's request until the venue answers it (the venue may be down or restarting)."""
    while True:
        try:
            r = call()
            if r.status_code < 500:
                return r
        except requests.RequestException:
            pass
        assert time.time() < stop_at, "a terminal's request was never acknowledged"
        time.sleep(0.2)


def candidate(venue: VenueProcess, index: int, stop_at: float, problems: list):
    try:
        admission, id_number = demo_candidate(index)
        login = until_acknowledged(lambda: requests.post(
            venue.base + "/api/candidate/login",
            json={"admissionNumber": admission, "idNumber": id_number, "terminalId": f"fault-{index}"}, timeout=5), stop_at)
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        for seq in range(1, CHANGES + 1):
            change = {"changeId": f"fault-{index}-{seq}", "questionId": ["Q-TF-01", "Q-TF-02"][seq % 2], "kind": "answer",
                      "clientSeq": seq, "response": {"value": random.random() < 0.5}}
            r = until_acknowledged(lambda: requests.post(venue.base + "/api/attempt/answers", json={"changes": [change]},
                                                         headers=auth, timeout=5), stop_at)
            assert r.status_code == 200, r.text
            time.sleep(random.uniform(0.05, 0.3))
        r = until_acknowledged(lambda: requests.post(venue.base + "/api/attempt/submit", json={"confirm": True}, headers=auth,
                                                     timeout=5), stop_at)
        assert r.status_code == 200, r.text
    except Exception as error:  # noqa: BLE001 (reported to the test)
        problems.append(f"candidate {index}: {error!r}")


def test_nothing_is_lost_or_doubled_through_cuts_stalls_and_crashes(postgres, tmp_path):  # noqa: F811
    code = add_venue(postgres)
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-sync-faults")
    proxy = None
    try:
        office.start()
        proxy = fault_proxy.FaultProxy(office.port, cut_every=8_000, stall_every=12_000, stall_seconds=1.5,
                                       rate=400_000, seed=7).start()
        venue.start()
        assert enrol(data, f"http://127.0.0.1:{proxy.port}", "KD-DEMO-01", code).returncode == 0
        venue.start_sitting(SITTING)
        stop_at = time.time() + 240
        problems: list = []
        threads = [threading.Thread(target=candidate, args=(venue, i, stop_at, problems), daemon=True) for i in range(CANDIDATES)]
        for thread in threads:
            thread.start()
        rng = random.Random(11)
        faults = {"venue": 0, "central": 0, "link": 0}
        for _ in range(9):
            time.sleep(rng.uniform(0.8, 2.5))
            what = rng.choice(["venue", "central", "link"])
            faults[what] += 1
            if what == "venue":
                venue.kill()
                venue.start()
            elif what == "central":
                office.kill()
                time.sleep(rng.uniform(0.2, 1.5))
                office.start()
            else:
                proxy.down = True
                time.sleep(rng.uniform(1, 3))
                proxy.down = False
        for thread in threads:
            thread.join(timeout=max(1, stop_at - time.time()))
        assert not problems, problems
        assert all(count > 0 for count in faults.values()) or sum(faults.values()) == 9
        assert proxy.cuts >= 5, f"the proxy cut only {proxy.cuts} connections: the test proved little"

        # The link heals; everything drains.
        proxy.cut_every = proxy.stall_every = proxy.rate = None
        wait_for(lambda: venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE ackedAt IS NULL")[0][0] == 0,
                 "the outbox did not drain after the link healed", timeout=60)
        assert venue_sql(data, "SELECT count(*) FROM sync_outbox WHERE refusedAt IS NOT NULL")[0][0] == 0
        central_holds_the_venue_outbox(office, data)
        assert int(office.one("SELECT count(*) FROM exam_attempt WHERE status = 'submitted'")) == CANDIDATES
        assert int(office.one("SELECT count(*) FROM answer_log")) == CANDIDATES * CHANGES
        # No batch was refused for a conflict: a re-send after a cut is always recognised as the same items.
        assert office.sql("SELECT count(*) FROM sync_report WHERE code = 'item_conflict'") == [["0"]]
        print(f"faults {faults}; proxy: {proxy.connections} connections, {proxy.cuts} cuts, {proxy.stalls} stalls")
    finally:
        venue.stop()
        office.stop()
        if proxy:
            proxy.stop()
