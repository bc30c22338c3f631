"""Venue packages reach the venue through the sync channel.

Given central on a throwaway PostgreSQL and the demo venue enrolled, when the office issues a new package for the
venue (`central package issue`, which first checks the package whole against its issuer's key and that it is for this
venue), the venue fetches it the next time it reaches central (here at once, after 立即同步), imports it under the
same rules as an upload on its admin page, and central lists it as imported. A package signed by an issuer the venue
does not trust is fetched and refused by the venue with the reason, which central shows and keeps among its
refusals. Central itself refuses to issue a changed package file or one made for another venue.
"""
import json
import subprocess
import zipfile

import requests

from central_process import CentralProcess
from conftest import VenueProcess, free_port, venue_binary
from test_central_enrolment import add_venue, central, enrol, postgres  # noqa: F401 (postgres is a fixture)
from test_sync import wait_for


def venue_tool(*args):
    return subprocess.run([venue_binary(), *args], capture_output=True, text=True, timeout=120)


def package_id(path) -> str:
    return json.loads(zipfile.ZipFile(path).read("manifest.json"))["packageId"]


def test_the_venue_fetches_and_imports_the_packages_central_issues(postgres, tmp_path):  # noqa: F811
    code = add_venue(postgres)
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-sync-packages")
    try:
        office.start()
        venue.start()
        assert enrol(data, office.base, "KD-DEMO-01", code).returncode == 0
        trusted = data / "trusted-issuers" / "kaodian-demo-central.json"
        # Enrolment also made the venue trust central's own package-signing key.
        assert json.loads((data / "trusted-issuers" / "kaodian-central.json").read_text())["issuer"] == "kaodian-central"

        # A new package from the venue's own issuer.
        fresh = tmp_path / "next.kdpkg"
        made = venue_tool("demo-package", "--out", str(fresh), "--key", str(data / "demo-issuer.key"), "--start-in", "7200",
                          "--candidates", "40")
        assert made.returncode == 0, made.stderr
        issued = central("package", "issue", "--venue", "KD-DEMO-01", "--issuer-key", str(trusted), str(fresh),
                         database_url=postgres)
        assert issued.returncode == 0, issued.stderr
        fresh_id = package_id(fresh)
        admin = venue.staff_token("admin", "kaodian-admin")
        auth = {"Authorization": f"Bearer {admin}"}
        requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)

        def imported_at_venue():
            packages = requests.get(venue.base + "/api/admin/packages", headers=auth, timeout=30).json()
            return any(p["packageID"] == fresh_id for p in packages)
        wait_for(imported_at_venue, "the venue did not import the package central issued", timeout=30)
        wait_for(lambda: f"{fresh_id}\timported" in central("package", "list", "--venue", "KD-DEMO-01", database_url=postgres).stdout,
                 "central did not hear that the package was imported", timeout=30)

        # A package from an issuer the venue does not trust: fetched, refused with the reason, reported.
        stranger = tmp_path / "stranger"
        assert venue_tool("keygen", "--issuer", "STRANGER", "--out", str(stranger)).returncode == 0
        strange = tmp_path / "strange.kdpkg"
        assert venue_tool("demo-package", "--out", str(strange), "--key", f"{stranger}.key", "--start-in", "7200").returncode == 0
        assert central("package", "issue", "--venue", "KD-DEMO-01", "--issuer-key", f"{stranger}.pub.json", str(strange),
                       database_url=postgres).returncode == 0
        requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)
        strange_id = package_id(strange)
        listed = wait_for(lambda: (out := central("package", "list", "--venue", "KD-DEMO-01", database_url=postgres).stdout)
                          and f"{strange_id}\trefused" in out and out, "the refusal did not reach central", timeout=30)
        assert "package_" in listed.split(f"{strange_id}\trefused")[1].splitlines()[0]
        assert office.sql("SELECT 1 FROM sync_report WHERE code = 'package_refused'")
        assert not imported_at_venue_id(venue, auth, strange_id)

        # Central checks what it issues: a changed file, a package for another venue.
        broken = tmp_path / "broken.kdpkg"
        with zipfile.ZipFile(fresh) as source, zipfile.ZipFile(broken, "w") as target:
            for item in source.infolist():
                body = source.read(item.filename)
                target.writestr(item, body + b" " if item.filename.endswith(".json") and item.filename != "manifest.json" else body)
        refused = central("package", "issue", "--venue", "KD-DEMO-01", "--issuer-key", str(trusted), str(broken),
                          database_url=postgres)
        assert refused.returncode != 0 and "package_digest_mismatch" in refused.stderr + refused.stdout
        add_venue(postgres, "KD-OTHER", "别的考点")
        other = central("package", "issue", "--venue", "KD-OTHER", "--issuer-key", str(trusted), str(fresh), database_url=postgres)
        assert other.returncode != 0 and "KD-DEMO-01" in other.stderr + other.stdout
    finally:
        venue.stop()
        office.stop()


def imported_at_venue_id(venue, auth, package) -> bool:
    return any(p["packageID"] == package for p in requests.get(venue.base + "/api/admin/packages", headers=auth, timeout=30).json())
