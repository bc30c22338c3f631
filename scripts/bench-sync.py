#!/usr/bin/env python3
"""Sync benchmark: how fast results and video reach the central office once the link is back.

Starts a throwaway PostgreSQL, `central serve`, scripts/fault-proxy.py between venue and central, a GStreamer RTSP
camera filming room R01, and the demo venue with N candidates (enrolled through the proxy). With the link down, every
candidate logs in, changes answers and submits while the camera records; recording then stops. Then:

1. results: the link comes back; the time until central holds every submission and every answer-log
   entry of the sitting (goal: within 5 s for 200 candidates);
2. video: the time from the results being in until every segment is stored at central, the throughput as a
   fraction of the link's rate (goal: ≥ 90 %), and, with --cuts connections cut mid-upload, the video bytes the venue
   sent again (its sync status counts bytes sent and bytes acknowledged; goal: at most one chunk per cut).
The link is throttled to --link-kbps throughout (results are small and go first).

  scripts/bench-sync.sh [--candidates 200] [--changes 20] [--link-kbps 16000] [--chunk-kib 1024] [--cuts 2]

Needs the built binaries (.build/release or .build/debug, or VENUE_BIN / CENTRAL_BIN) and scripts/setup.sh's tools.
"""
import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))

import requests  # noqa: E402

from conftest import VenueProcess, demo_candidate, free_port  # noqa: E402
from test_camera_probe import Camera  # noqa: E402
from test_central_enrolment import central, enrol  # noqa: E402
from central_process import CentralProcess
from test_sync import SITTING, venue_sql  # noqa: E402
from throwaway_postgres import ThrowawayPostgres  # noqa: E402

spec = importlib.util.spec_from_file_location("fault_proxy", ROOT / "scripts" / "fault-proxy.py")
fault_proxy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fault_proxy)


def candidate(venue, index, changes):
    admission, id_number = demo_candidate(index)
    http = requests.Session()
    token = http.post(venue.base + "/api/candidate/login", json={"admissionNumber": admission, "idNumber": id_number,
                                                                 "terminalId": f"bench-{index}"}, timeout=60).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for seq in range(1, changes + 1):
        change = {"changeId": f"bench-{index}-{seq}", "questionId": ["Q-TF-01", "Q-TF-02"][seq % 2], "kind": "answer",
                  "clientSeq": seq, "response": {"value": seq % 3 == 0}}
        r = http.post(venue.base + "/api/attempt/answers", json={"changes": [change]}, headers=auth, timeout=60)
        r.raise_for_status()
    http.post(venue.base + "/api/attempt/submit", json={"confirm": True}, headers=auth, timeout=60).raise_for_status()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--changes", type=int, default=20, help="answer changes per candidate")
    parser.add_argument("--record-seconds", type=float, default=40, help="at least this long the camera records")
    parser.add_argument("--camera-kbps", type=int, default=4000)
    parser.add_argument("--link-kbps", type=int, default=16000, help="the throttled link's rate for the video")
    parser.add_argument("--chunk-kib", type=int, default=4096, help="video chunk size the venue sends")
    parser.add_argument("--cuts", type=int, default=2, help="connections cut during the video upload")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kaodian-bench-sync-"))
    with ThrowawayPostgres() as url:
        added = central("venue", "add", "--id", "KD-DEMO-01", "--name", "基准考点", database_url=url)
        code = re.search(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", added.stdout).group(0)
        office = CentralProcess(url, work / "central-storage")
        office.start()
        proxy = fault_proxy.FaultProxy(office.port).start()
        camera = Camera("--size", "1280x720", "--fps", "25", "--bitrate-kbps", str(args.camera_kbps))
        data = work / "venue-data"
        venue = VenueProcess(data, free_port(), demo_start_in=120, log_name="bench-sync-venue",
                             extra_args=("--demo-candidates", str(args.candidates), "--segment-seconds", "10",
                                         "--demo-camera", f"R01={camera.urls[0]}", "--sync-video-chunk-kib", str(args.chunk_kib)))
        try:
            venue.start(timeout=180)
            assert enrol(data, f"http://127.0.0.1:{proxy.port}", "KD-DEMO-01", code).returncode == 0
            time.sleep(2)
            proxy.down = True
            proxy.cut_now()
            venue.start_sitting(SITTING)
            started = time.time()
            with ThreadPoolExecutor(max_workers=50) as pool:
                list(pool.map(lambda i: candidate(venue, i, args.changes), range(args.candidates)))
            answered = time.time() - started
            while time.time() - started < args.record_seconds:
                time.sleep(0.5)
            admin = venue.staff_token("admin", "kaodian-admin")
            auth = {"Authorization": f"Bearer {admin}"}
            for cam in requests.get(venue.base + "/api/admin/cameras", headers=auth, timeout=30).json():
                requests.post(f"{venue.base}/api/admin/cameras/{cam['id']}/recording", json={"mode": "off"}, headers=auth,
                              timeout=30).raise_for_status()
            time.sleep(12)  # the recorder closes its last segment
            entries = args.candidates * args.changes
            assert venue_sql(data, "SELECT count(*) FROM answer_log")[0][0] == entries

            # 1. Results (through the link throttled as for the video: results go first and are small).
            rate = args.link_kbps * 1000 / 8
            proxy.rate = rate
            video_bytes = venue_sql(data, "SELECT sum(bytes) FROM recording_segment WHERE uploadedAt IS NULL")[0][0] or 0
            segment_count = venue_sql(data, "SELECT count(*) FROM recording_segment WHERE uploadedAt IS NULL")[0][0]
            link_back = time.time()
            proxy.down = False
            while True:
                submitted = int(office.one(f"SELECT count(*) FROM exam_attempt WHERE sitting_id = '{SITTING}' AND status = 'submitted'"))
                logged = int(office.one("SELECT count(*) FROM answer_log"))
                if submitted == args.candidates and logged == entries:
                    break
                assert time.time() - link_back < 120, f"results incomplete after 120 s: {submitted} submitted, {logged} entries"
                time.sleep(0.05)
            results_seconds = time.time() - link_back
            items = int(office.one("SELECT count(*) FROM sync_item"))

            # 2. Video through the throttled link, with cuts (it starts as soon as the results are in).
            video_started = time.time()
            expected_seconds = video_bytes / rate
            # Cuts fall while video crosses the link: after 1/(cuts+1), 2/(cuts+1)… of the video's bytes went up.
            up_at_start = proxy.bytes_up
            cut_after = [video_bytes * (k + 1) / (args.cuts + 1) for k in range(args.cuts)]
            cuts_done = 0
            while venue_sql(data, "SELECT count(*) FROM recording_segment WHERE uploadedAt IS NULL")[0][0]:
                if cuts_done < len(cut_after) and proxy.bytes_up - up_at_start >= cut_after[cuts_done]:
                    proxy.cut_now()
                    cuts_done += 1
                assert time.time() - video_started < expected_seconds * 3 + 60, "video upload did not finish"
                time.sleep(0.05)
            video_seconds = time.time() - video_started
            status = requests.get(venue.base + "/api/admin/sync", headers=auth, timeout=30).json()["status"]
            resent = status["videoBytesSent"] - status["videoBytesAcknowledged"]
            throughput = video_bytes / video_seconds
        finally:
            venue.stop()
            office.stop()
            proxy.stop()
            camera.stop()

    print(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
          f"{args.candidates} candidates × {args.changes} answer changes (answered in {answered:.1f} s with the link down)")
    print(f"results: link back → all {args.candidates} submissions and {entries} answer-log entries at central "
          f"({items} items) in {results_seconds:.2f} s (goal ≤ 5 s)")
    print(f"video: {segment_count} segments, {video_bytes / 1e6:.1f} MB through a {args.link_kbps / 1000:.1f} Mb/s link in "
          f"{video_seconds:.1f} s = {throughput * 8 / 1e6:.2f} Mb/s, {throughput / rate * 100:.1f} % of the link (goal ≥ 90 %)")
    print(f"cuts: {cuts_done}; video bytes sent again: {resent / 1024:.0f} KiB = {resent / max(cuts_done, 1) / 1024:.0f} KiB per cut, "
          f"chunk {args.chunk_kib} KiB (goal ≤ one chunk per cut; a cut chunk counts whole, however much of it had crossed)")


if __name__ == "__main__":
    main()
