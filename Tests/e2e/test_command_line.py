"""The `venue` command line as an operator uses it: help, keys, the demo package, and importing packages."""
import shutil
import sqlite3
import subprocess
import zipfile

from conftest import venue_binary


def run(*args, check=True):
    result = subprocess.run([venue_binary(), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_help_lists_every_command():
    result = run("--help")
    for command in ("serve", "import", "demo-package", "keygen", "face"):
        assert command in result.stdout
    serve = run("serve", "--help").stdout
    assert "--data-dir" in serve and "--port" in serve and "--demo" in serve


def test_an_operator_imports_a_signed_package_once_and_a_tampered_one_is_refused(tmp_path):
    data = tmp_path / "venue-data"
    (data / "trusted-issuers").mkdir(parents=True)
    run("keygen", "--issuer", "central-test", "--out", str(tmp_path / "central"))
    shutil.copy(tmp_path / "central.pub.json", data / "trusted-issuers" / "central.json")
    package = tmp_path / "exam.kdpkg"
    made = run("demo-package", "--out", str(package), "--key", str(tmp_path / "central.key"), "--candidates", "12")
    assert "12 candidates" in made.stdout

    first = run("import", str(package), "--data-dir", str(data))
    assert "imported package" in first.stdout and "12 candidates" in first.stdout
    again = run("import", str(package), "--data-dir", str(data))
    assert "already imported" in again.stdout

    # Change one byte of the candidates list without re-signing: refused, named, and nothing written.
    tampered = tmp_path / "tampered.kdpkg"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "candidates.json":
                content = content.replace("KD261100001".encode(), "KD261100099".encode())
            target.writestr(item, content)
    before = sqlite3.connect(data / "venue.sqlite").execute("SELECT COUNT(*) FROM package_import").fetchone()
    refused = run("import", str(tampered), "--data-dir", str(data), check=False)
    assert refused.returncode == 2
    assert "package_digest_mismatch" in refused.stderr and "candidates.json" in refused.stderr
    after = sqlite3.connect(data / "venue.sqlite").execute("SELECT COUNT(*) FROM package_import").fetchone()
    assert before == after == (1,)


def test_a_package_from_an_untrusted_issuer_is_refused(tmp_path):
    data = tmp_path / "venue-data"
    run("keygen", "--issuer", "someone-else", "--out", str(tmp_path / "other"))
    package = tmp_path / "exam.kdpkg"
    run("demo-package", "--out", str(package), "--key", str(tmp_path / "other.key"), "--candidates", "3")
    refused = run("import", str(package), "--data-dir", str(data), check=False)
    assert refused.returncode == 2
    assert "package_unknown_issuer" in refused.stderr and "someone-else" in refused.stderr


def test_a_venue_without_face_models_runs_with_face_verification_off(tmp_path):
    """Given no face models, when the venue starts, then it keeps serving; the admin page says face verification is
    off and why, and a face check gets 503 face_engine_unavailable instead of a crash."""
    import time

    import requests

    from conftest import VenueProcess, free_port

    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-no-face",
                         face_models=str(tmp_path / "no-models-here"))
    venue.start()
    try:
        time.sleep(3)  # long enough for every service to have started (a service that ends stops the server)
        assert venue.process.poll() is None, "the venue stopped without face models"
        assert requests.get(venue.base + "/healthz", timeout=5).status_code == 200

        def token(username, password):
            r = requests.post(venue.base + "/api/staff/login", json={"username": username, "password": password}, timeout=10)
            assert r.status_code == 200, r.text
            return {"Authorization": "Bearer " + r.json()["token"]}

        state = requests.get(venue.base + "/api/admin/face/enrolment", headers=token("admin", "kaodian-admin"), timeout=10)
        assert state.status_code == 200 and state.json()["available"] is False
        assert "no-models-here" in state.json()["message"]["en"]
        r = requests.post(venue.base + "/api/console/sittings/S-DEMO-THEORY/rooms/R01/candidates/KD261100001/face-check",
                          data=b"\xff\xd8\xff", headers={**token("invigilator1", "kaodian-demo"), "Content-Type": "image/jpeg"},
                          timeout=10)
        assert r.status_code == 503 and r.json()["error"]["code"] == "face_engine_unavailable", r.text
    finally:
        venue.stop()


def test_the_venue_serves_https_with_its_own_certificate_authority(tmp_path):
    """Given a venue started with an HTTPS port, when a device fetches the venue's certificate authority over HTTP
    (/venue-ca.crt) and trusts it, then the same pages and API answer over HTTPS with a certificate for 127.0.0.1
    and localhost that verifies; /healthz tells pages where HTTPS is. After a restart the authority is the same (devices
    need not install it again)."""
    import requests

    from conftest import VenueProcess, free_port

    https_port = free_port()
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-https", extra_args=(f"--https-port={https_port}",))
    venue.start()
    try:
        assert requests.get(venue.base + "/healthz", timeout=5).json() == {"status": "ok", "httpsPort": https_port}
        ca = requests.get(venue.base + "/venue-ca.crt", timeout=5)
        assert ca.status_code == 200 and ca.text.startswith("-----BEGIN CERTIFICATE-----")
        ca_file = tmp_path / "venue-ca.crt"
        ca_file.write_text(ca.text)
        for host in ("127.0.0.1", "localhost"):
            secure = requests.get(f"https://{host}:{https_port}/healthz", verify=str(ca_file), timeout=5)
            assert secure.json()["status"] == "ok"
        page = requests.get(f"https://127.0.0.1:{https_port}/terminal/", verify=str(ca_file), timeout=5)
        assert page.status_code == 200 and "<html" in page.text
        login = requests.post(f"https://127.0.0.1:{https_port}/api/staff/login", verify=str(ca_file), timeout=10,
                              json={"username": "invigilator1", "password": "kaodian-demo"})
        assert login.status_code == 200 and login.json()["token"]
        # Without the venue's authority the certificate is not trusted.
        try:
            requests.get(f"https://127.0.0.1:{https_port}/healthz", timeout=5)
            assert False, "an unknown authority was trusted"
        except requests.exceptions.SSLError:
            pass
        venue.stop()
        venue.start()
        assert requests.get(venue.base + "/venue-ca.crt", timeout=5).text == ca.text
        assert requests.get(f"https://127.0.0.1:{https_port}/healthz", verify=str(ca_file), timeout=5).status_code == 200
    finally:
        venue.stop()


def test_the_demo_says_when_its_sitting_is_over_and_how_to_get_a_fresh_one(tmp_path):
    """Given a demo data folder from another day (its sitting scheduled hours ago, so it is over), when the demo is
    started again on it, then it says the sitting is over and how to get a fresh demo exam, in English and Chinese;
    a demo folder whose sitting is still to come says nothing of the kind."""
    from conftest import VenueProcess, free_port

    data = tmp_path / "demo-data"
    old = VenueProcess(data, free_port(), log_name="venue-demo-over", demo_start_in=-20000)
    for _ in range(2):
        old.start()
        old.stop()
    said = old.log_path.read_text()
    assert said.count("already holds an imported package") == 1
    assert "the demo sitting in this folder is over" in said and str(data) in said and "演示考试已结束" in said

    fresh = VenueProcess(tmp_path / "fresh-data", free_port(), log_name="venue-demo-fresh")
    for _ in range(2):
        fresh.start()
        fresh.stop()
    said = fresh.log_path.read_text()
    assert "already holds an imported package" in said and "is over" not in said


def test_the_demo_with_its_skill_sitting_gives_examiners_something_to_score(tmp_path):
    """Given `venue serve --demo --demo-skill` (what scripts/demo.sh starts), the start-up text names the examiners'
    accounts and page, and the examiner of room R01 sees the demo's skill sitting with room R01's candidates."""
    import requests

    from conftest import VenueProcess, free_port

    venue = VenueProcess(tmp_path / "demo-data", free_port(), log_name="venue-demo-skill", extra_args=("--demo-skill",))
    venue.start()
    try:
        said = venue.log_path.read_text()
        assert "/examiner/" in said and "examiner1 / kaodian-demo" in said
        token = venue.staff_token("examiner1", "kaodian-demo")
        auth = {"Authorization": f"Bearer {token}"}
        sittings = requests.get(venue.base + "/api/examiner/sittings", headers=auth, timeout=10).json()
        assert [s["id"] for s in sittings] == ["S-DEMO-SKILL"] and sittings[0]["rooms"] == ["R01"]
        assert [t["points"] for t in sittings[0]["tasks"]] == [100, 100]
        candidates = requests.get(venue.base + "/api/examiner/sittings/S-DEMO-SKILL/candidates", headers=auth, timeout=10).json()
        assert len(candidates) == 30 and {c["room"] for c in candidates} == {"R01"}
    finally:
        venue.stop()
