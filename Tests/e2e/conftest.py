"""Shared fixtures for the end-to-end tests: a real venue process on 127.0.0.1 with its own data folder.

The venue binary is `.build/debug/venue` unless VENUE_BIN names another; KAODIAN_WEB_ROOT, when set and not empty,
makes it serve the pages from that folder (--web-root). Every process a test starts is stopped when the test ends,
whatever happens.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
FACE_DIR = ROOT.parent / "shared" / "face"
OUTPUT = Path(os.environ.get("KAODIAN_TEST_OUTPUT", ROOT / "test-output"))


def venue_binary() -> str:
    return os.environ.get("VENUE_BIN", str(ROOT / ".build" / "debug" / "venue"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VenueProcess:
    """One venue server process serving a data folder; can be killed and started again on the same folder."""

    def __init__(self, data_dir: Path, port: int, demo_start_in: int = 3600, log_name: str = "venue",
                 face_models: str | None = None, extra_args: tuple = ()):
        self.data_dir = data_dir
        # More `venue serve` options, e.g. ("--demo-self-check-in", "--demo-rechecks", "3", "--demo-duration", "3").
        self.extra_args = list(extra_args)
        self.face_models = face_models
        self.port = port
        self.demo_start_in = demo_start_in
        self.base = f"http://127.0.0.1:{port}"
        self.process = None
        self.log_path = OUTPUT / f"{log_name}-{port}.log"
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.starts = 0

    def start(self, timeout: float = 60):
        args = [venue_binary(), "serve", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                "--port", str(self.port), "--demo", f"--demo-start-in={self.demo_start_in}"]
        if FACE_DIR.exists():
            args += ["--face-photos", str(FACE_DIR)]
        if self.face_models:
            args += ["--face-models", self.face_models]
        if os.environ.get("KAODIAN_WEB_ROOT"):
            # Serve the pages from the source folder instead of the binary's bundle (page edits without a rebuild).
            args += ["--web-root", os.environ["KAODIAN_WEB_ROOT"]]
        if not any(a.startswith("--https-port") for a in self.extra_args):
            args += ["--https-port=0"]  # no HTTPS unless a test asks for it (a fixed port would clash)
        args += self.extra_args
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.starts += 1
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"venue exited with {self.process.returncode}; see {self.log_path}")
            try:
                # The HTTPS listener starts beside the HTTP one and may bind a moment later: wait for both.
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200 and self._https_listening():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"venue did not become healthy within {timeout}s; see {self.log_path}")

    def _https_listening(self) -> bool:
        ports = [a.split("=", 1)[1] for a in self.extra_args if a.startswith("--https-port=")]
        if not ports or ports[-1] == "0":
            return True
        try:
            socket.create_connection(("127.0.0.1", int(ports[-1])), timeout=1).close()
            return True
        except OSError:
            return False

    def kill(self):
        """SIGKILL: the process gets no chance to flush or close anything."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    # API helpers used by several tests.
    def staff_token(self, username="invigilator1", password="kaodian-demo") -> str:
        r = requests.post(self.base + "/api/staff/login", json={"username": username, "password": password}, timeout=30)
        r.raise_for_status()
        return r.json()["token"]

    def start_sitting(self, sitting="S-DEMO-THEORY"):
        """Starts every room of the sitting now, as the venue admin."""
        token = self.staff_token("admin", "kaodian-admin")
        r = requests.post(f"{self.base}/api/console/sittings/{sitting}/start",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code in (200, 409), r.text

    def candidate_login(self, admission: str, id_number: str, terminal: str):
        r = requests.post(self.base + "/api/candidate/login",
                          json={"admissionNumber": admission, "idNumber": id_number, "terminalId": terminal}, timeout=30)
        r.raise_for_status()
        return r.json()


def demo_candidate(index: int):
    """Admission number and ID number of demo candidate `index` (same rule as DemoContent)."""
    regions = ["110105", "310104", "440305", "510107", "330106"]
    body = "%s%04d%02d%02d%03d" % (regions[index % 5], 1975 + index % 25, 1 + index % 12, 1 + index % 28, (index * 37) % 1000)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return "KD2611%05d" % (index + 1), body + check


@pytest.fixture
def venue(tmp_path):
    """A fresh venue with the demo exam imported; the sitting starts an hour later unless a test starts it."""
    server = VenueProcess(tmp_path / "venue-data", free_port())
    server.start()
    yield server
    server.stop()
