"""A venue enrols with the central office, as the two offices' staff would do it, against a real PostgreSQL.

Given a throwaway PostgreSQL 15 server on 127.0.0.1 and the central service running on it,
when the central office registers venue KD-DEMO-01 (`central venue add`), it gets a one-time code XXXX-XXXX-XXXX;
the venue admin runs `venue enrol` on the demo venue's data folder: a wrong code and another venue's id are refused
with their reasons and leave nothing behind; the right code registers the venue's new Ed25519 key (kept in
DATA/sync/venue-signing.key, readable by its owner only) and `central venue list` shows the venue enrolled; the same
code a second time is refused (enrolment_used); `central venue revoke` marks the venue revoked.
"""
import re
import stat
import subprocess
import time

import pytest
import requests

from conftest import VenueProcess, free_port, venue_binary

from central_process import central_binary
from throwaway_postgres import ThrowawayPostgres


@pytest.fixture
def postgres():
    with ThrowawayPostgres() as url:
        yield url


def central(*args, database_url):
    return subprocess.run([central_binary(), *args, "--database-url", database_url], capture_output=True, text=True, timeout=60)


ENROLMENT_CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


def add_venue(postgres, venue_id="KD-DEMO-01", name="城东考点") -> str:
    """Adds a venue at central as the office does (`central venue add`) and answers its one-time enrolment code."""
    added = central("venue", "add", "--id", venue_id, "--name", name, database_url=postgres)
    assert added.returncode == 0, added.stderr + added.stdout
    return ENROLMENT_CODE.search(added.stdout).group(0)


def office_account(postgres, username, name) -> str:
    """Makes an office account (`central account set`) and answers the password it printed once."""
    made = central("account", "set", "--username", username, "--name", name, database_url=postgres)
    assert made.returncode == 0, made.stderr + made.stdout
    return re.search(r"password 密码: (\S+)", made.stdout).group(1)


def enrol(data_dir, base, venue_id, code):
    return subprocess.run([venue_binary(), "enrol", "--data-dir", str(data_dir), "--central", base, "--venue-id", venue_id,
                           "--code", code], capture_output=True, text=True, timeout=60)


def test_central_says_when_its_database_is_not_there():
    started = time.time()
    result = subprocess.run([central_binary(), "venue", "list", "--database-url", f"postgres://kaodian@127.0.0.1:{free_port()}/none"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "database_unavailable" in result.stderr + result.stdout, result.stderr
    assert time.time() - started < 30
    bad = subprocess.run([central_binary(), "venue", "list", "--database-url", "mysql://x@y/z"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "database_url_invalid" in bad.stderr + bad.stdout


def test_a_venue_enrols_once_with_its_one_time_code(postgres, tmp_path):
    code = add_venue(postgres)
    again = central("venue", "add", "--id", "KD-DEMO-01", "--name", "x", database_url=postgres)
    assert again.returncode != 0 and "venue_exists" in again.stderr + again.stdout

    port = free_port()
    server = subprocess.Popen([central_binary(), "serve", "--host", "127.0.0.1", "--port", str(port), "--database-url", postgres],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    venue = VenueProcess(tmp_path / "venue-data", free_port(), log_name="venue-enrol")
    try:
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline and server.poll() is None, "central did not start"
            time.sleep(0.1)
        venue.start()  # the demo venue's data folder: venue KD-DEMO-01
        venue.stop()
        data = tmp_path / "venue-data"

        wrong = enrol(data, base, "KD-DEMO-01", "AAAA-BBBB-CCCC")
        assert wrong.returncode == 3 and "enrolment_code_wrong" in wrong.stderr, wrong.stderr
        other = enrol(data, base, "KD-OTHER", code)
        assert other.returncode != 0 and "KD-DEMO-01" in other.stderr + other.stdout
        assert not (data / "sync" / "central.json").exists()

        done = enrol(data, base, "KD-DEMO-01", code.lower())
        assert done.returncode == 0, done.stderr
        key = data / "sync" / "venue-signing.key"
        assert key.stat().st_size == 32
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert "KD-DEMO-01" in (data / "sync" / "central.json").read_text()
        listed = central("venue", "list", database_url=postgres)
        assert "KD-DEMO-01\tenrolled\t城东考点" in listed.stdout, listed.stdout

        twice = enrol(data, base, "KD-DEMO-01", code)
        assert twice.returncode == 3 and "enrolment_used" in twice.stderr, twice.stderr

        # The appliance is stolen: the office revokes it; the list says so.
        revoked = central("venue", "revoke", "--id", "KD-DEMO-01", database_url=postgres)
        assert revoked.returncode == 0, revoked.stderr
        assert "KD-DEMO-01\trevoked\t" in central("venue", "list", database_url=postgres).stdout
    finally:
        venue.stop()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
