"""A paper goes from central's bank to a candidate's terminal at a venue, sealed until central releases its key.

Given central on a throwaway PostgreSQL and the demo venue enrolled (enrolment also makes the venue trust central's
package-signing key), the office builds a bank, assembles a paper by rule, has it approved by a second person, plans a
sitting at the venue with rooms, candidates, seats and an invigilator, and issues the package with the paper sealed.
The venue fetches and imports it over the sync channel; the paper stays closed (the sitting cannot start) until the
office releases the key, which the venue picks up at its next sync; then the sitting starts and a planned candidate
logs in and gets exactly the assembled paper. The package also downloads for USB, signed by the same key.
"""
import datetime
import io
import zipfile

import requests

from central_process import CentralProcess
from conftest import VenueProcess, free_port
from test_central_enrolment import add_venue, central, enrol, office_account, postgres  # noqa: F401 (postgres is a fixture)
from test_sync import wait_for

KNOWLEDGE = [{"code": "1", "name": "基础知识", "weight": 40}, {"code": "1.1", "name": "电工基础", "parent": "1"},
             {"code": "2", "name": "安全知识", "weight": 60}, {"code": "2.1", "name": "安全用电", "parent": "2"}]


def id_number(serial: int) -> str:
    body = "11010119900307%03d" % serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def office_session(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    r = session.post(base + "/api/office/login", json={"username": username, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return session


def test_a_planned_sitting_reaches_the_venue_sealed_and_opens_when_central_releases_the_key(postgres, tmp_path):  # noqa: F811
    code = add_venue(postgres)
    passwords = {name: office_account(postgres, name, name) for name in ("editor", "chief")}
    office = CentralProcess(postgres, tmp_path / "central-storage")
    data = tmp_path / "venue-data"
    venue = VenueProcess(data, free_port(), log_name="venue-plan-packages")
    try:
        office.start()
        venue.start()
        assert enrol(data, office.base, "KD-DEMO-01", code).returncode == 0
        editor = office_session(office.base, "editor", passwords["editor"])
        chief = office_session(office.base, "chief", passwords["chief"])
        api = office.base + "/api/office"

        # The bank: knowledge points and 30 questions.
        assert editor.post(api + "/banks", json={"id": "ELEC-4", "name": "电工四级理论", "occupation": "电工", "level": "四级/中级工",
                                                 "subject": "theory"}).status_code == 201
        assert editor.put(api + "/banks/ELEC-4/knowledge-points", json=KNOWLEDGE).status_code == 200
        stems = {}
        for i in range(24):
            question = {"id": f"E4-S{i:02d}", "type": "singleChoice", "stem": f"第{i}题：电路中{['电压', '电流', '电阻'][i % 3]}的单位是什么？编号{i * 7919}",
                        "points": 1, "options": [{"id": "a", "text": "伏特"}, {"id": "b", "text": "安培"}, {"id": "c", "text": "欧姆"}],
                        "correct": "abc"[i % 3], "knowledgePoints": ["1.1" if i % 2 else "2.1"], "difficulty": 1 + i % 5}
            stems[question["id"]] = question["stem"]
            r = editor.post(api + "/banks/ELEC-4/questions", json=question)
            assert r.status_code == 201, r.text
        for i in range(6):
            question = {"id": f"E4-T{i}", "type": "trueFalse", "stem": f"判断{i}：检修前必须先验电。序号{i * 104729}", "points": 1,
                        "correct": True, "knowledgePoints": ["2"], "difficulty": 3}
            stems[question["id"]] = question["stem"]
            assert editor.post(api + "/banks/ELEC-4/questions", json=question).status_code == 201

        # Assembled by rule, approved by the other person.
        rule = {"sections": [{"type": "singleChoice", "count": 10, "pointsEach": 5}, {"type": "trueFalse", "count": 5, "pointsEach": 10}],
                "useStandardWeights": True, "coverageTolerancePercent": 15, "seed": 11}
        r = editor.post(api + "/banks/ELEC-4/assemble", json={"title": "电工四级理论（2026-12）", "rule": rule})
        assert r.status_code == 201, r.text
        paper = r.json()["papers"][0]
        paper_id = paper["summary"]["id"]
        assembled = {q["question"]["id"] for section in paper["sections"] for q in section["questions"]}
        assert len(assembled) == 15 and paper["summary"]["points"] == 100
        assert editor.post(api + f"/papers/{paper_id}/request", json={"note": "请审批"}).status_code == 200
        assert editor.post(api + f"/papers/{paper_id}/approve").json()["error"]["code"] == "paper_self_approval"
        assert chief.post(api + f"/papers/{paper_id}/approve").json()["summary"]["state"] == "approved"

        # The plan: rooms at the venue, a sitting two hours ahead (its key is not due yet), candidates, seats, staff.
        rooms = [{"id": "R-301", "name": "301 考场", "seats": ["%02d" % n for n in range(1, 11)]}]
        assert editor.put(api + "/venues/KD-DEMO-01/rooms", json=rooms).status_code == 200
        plan = editor.post(api + "/plans", json={"name": "2026 年 12 月电工认定"}).json()
        start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = editor.post(api + f"/plans/{plan['id']}/sittings", json={
            "id": "S-ELEC-4", "name": "电工四级理论", "venueId": "KD-DEMO-01", "subject": "theory", "occupation": "电工",
            "level": "四级", "paperId": paper_id, "rooms": ["R-301"], "scheduledStart": start, "durationMinutes": 90,
            "instructions": "请独立作答。"})
        assert r.status_code == 201, r.text
        candidates = [{"admissionNumber": f"E4{n:04d}", "name": f"考生{n}", "idNumber": id_number(n),
                       "organisation": ["甲公司", "乙公司"][n % 2]} for n in range(1, 7)]
        assert editor.put(api + "/sittings/S-ELEC-4/candidates", json=candidates).status_code == 200
        assert editor.post(api + "/sittings/S-ELEC-4/seats").status_code == 200
        staff = editor.put(api + "/sittings/S-ELEC-4/staff",
                           json=[{"username": "inv301", "name": "王监考", "role": "invigilator", "rooms": ["R-301"]}]).json()
        invigilator_password = staff["passwords"][0]["password"]
        r = editor.post(api + f"/plans/{plan['id']}/packages", json={"venueId": "KD-DEMO-01", "seal": True})
        assert r.status_code == 201, r.text
        package = r.json()
        assert package["sittings"] == ["S-ELEC-4"] and len(package["seals"]) == 1

        # The USB download is the same signed file, and the paper is not readable in it.
        zipped = editor.get(api + f"/venues/KD-DEMO-01/packages/{package['packageId']}/file")
        assert zipped.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
        assert "sealed/S-ELEC-4.bin" in names and not any(n.startswith("papers/") for n in names)
        assert not any(stem.encode() in zipped.content for stem in stems.values())

        # The venue fetches and imports it; the paper stays closed.
        admin = venue.staff_token("admin", "kaodian-admin")
        auth = {"Authorization": f"Bearer {admin}"}
        requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)
        wait_for(lambda: f"{package['packageId']}\timported" in central("package", "list", "--venue", "KD-DEMO-01",
                                                                         database_url=postgres).stdout,
                 "the venue did not import the package", timeout=60)
        started = requests.post(venue.base + "/api/console/sittings/S-ELEC-4/start", headers=auth, timeout=30)
        assert started.status_code == 409 and started.json()["error"]["code"] == "paper_sealed", started.text
        assert venue.staff_token("inv301", invigilator_password)

        # Central releases the key; the venue opens the paper at its next sync.
        released = editor.post(api + "/sittings/S-ELEC-4/release-key").json()
        assert released["seal"]["released"] is True
        requests.post(venue.base + "/api/admin/sync/now", headers=auth, timeout=30)

        def opened():
            r = requests.post(venue.base + "/api/console/sittings/S-ELEC-4/start", headers=auth, timeout=30)
            return r.status_code in (200, 409) and r.json().get("error", {}).get("code") != "paper_sealed"
        wait_for(opened, "the venue did not open the paper after central released its key", timeout=60)

        # A planned candidate gets exactly the assembled paper.
        login = venue.candidate_login("E40001", id_number(1), "plan-terminal")
        got = requests.get(venue.base + "/api/attempt/paper", headers={"Authorization": f"Bearer {login['token']}"}, timeout=30)
        assert got.status_code == 200, got.text
        text = got.text
        shown = {qid for qid in assembled if stems[qid] in text}
        assert shown == assembled
        assert not any(stems[qid] in text for qid in set(stems) - assembled)
    finally:
        venue.stop()
        office.stop()
