"""Crash durability: "an acknowledged answer is never lost".

A real venue serves the demo exam to CANDIDATES logged-in candidates. Worker threads act as their terminals and
autosave random, valid answers without pause, while the main thread SIGKILLs the venue KILLS times at random moments
and starts it again on the same data folder. Like a real terminal, a worker re-sends a batch whose request failed
with the SAME changeIds and clientSeqs until the venue acknowledges it, and only then sends the candidate's next one.

At the end the venue is stopped cleanly and its SQLite file is read directly. The checks:
  1. every acknowledged change is in answer_log with exactly the expected canonical JSON bytes, attempt, question,
     kind, flag, clientSeq and terminal (a change sent but never acknowledged may be missing, but if it is there it
     must be right as well);
  2. answer_log of every attempt is seq 1..logLength without gap or duplicate, in the order the terminal sent it;
  3. no changeId appears twice, and there is no change nobody sent;
  4. the current answer (table answer) of every question is the last logged change for it, and that value is the
     last acknowledged one or one sent after it;
  5. the tokens from the single login still work after every restart (sessions survive SIGKILL).
A self-check then damages copies of the database (a lost last commit, a hole, different bytes for the same JSON)
and makes sure the same checks notice each one, so the test cannot pass by checking nothing.

SIGKILL ends the process, not the machine: the page cache survives, so this test catches an acknowledgement sent
before the commit (or a lost, reordered or half-applied commit), not a missing fsync; that needs a power-cut test.

Run: VENUE_BIN=/path/to/venue pytest -s Tests/e2e/test_crash_durability.py
Environment knobs: CRASH_KILLS (default 25), CRASH_SEED (random seed, printed in the summary).
"""
import json
import os
import random
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
import requests

from conftest import OUTPUT, VenueProcess, demo_candidate, free_port

KILLS = int(os.environ.get("CRASH_KILLS", "25"))
CANDIDATES = 40
WORKERS = 8
KILL_DELAY = (0.3, 2.5)  # seconds the venue runs after it became healthy before it is killed
FINAL_LOAD_SECONDS = 2.0  # load after the last restart before the terminals stop making new changes
DRAIN_TIMEOUT = 90.0  # how long the terminals may take to get every outstanding change acknowledged
REQUEST_TIMEOUT = (2.0, 20.0)  # connect, read
SITTING = "S-DEMO-THEORY"
SUMMARY_FILE = "crash-durability.txt"


def canonical(response) -> Optional[str]:
    """The bytes the venue stores for an answer (see ExamCore/Response.swift); None for a cleared answer."""
    if response is None:
        return None
    return json.dumps(response, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def now_ms() -> int:
    return int(time.time() * 1000)


# MARK: - Random valid answers

PHRASES = [
    "安全生产责任制必须落实到每一个岗位。", "发现隐患应当立即报告，并停止作业、撤离人员。", "答：", "（一）", "（二）",
    "电气设备的接地电阻不大于4Ω。", "高处作业必须系好安全带，挂在上方牢固处。", "“引号”与‘单引号’", "——", "……",
    "①②③", "温度 25℃", "𠀀𠀁 扩展B区", "x²+y² ≤ r²", "50% 的人", "a/b/c 路径", 'say "hello"', "back\\slash",
    "tab\there", "emoji 😀👷", "<b>&amp;</b>", "first line", "Résumé café", "ﾊﾝｶｸ", "\u00a0nbsp", "line\u2028sep",
]


def text(rng: random.Random, lines=(1, 6)) -> str:
    out = []
    for _ in range(rng.randint(*lines)):
        out.append("".join(rng.choice(PHRASES) for _ in range(rng.randint(1, 5))))
    return rng.choice(["\n", "\n", "\r\n", "\n\n"]).join(out)


def long_text(rng: random.Random) -> str:
    chunk = text(rng, (5, 10))
    return (chunk + "\n") * rng.randint(20, 120)


def random_response(rng: random.Random, item: dict):
    kind = item["type"]
    if rng.random() < 0.03:
        return None  # cleared
    if kind == "singleChoice":
        return {"choice": rng.choice(item["options"])["id"]}
    if kind == "multipleChoice":
        ids = [o["id"] for o in item["options"]]
        return {"choices": rng.sample(ids, rng.randint(0, len(ids)))}
    if kind == "trueFalse":
        return {"value": rng.random() < 0.5}
    if kind == "fillBlank":
        return {"blanks": [text(rng, (1, 1))[: rng.randint(0, 30)] for _ in range(item["blankCount"])]}
    if kind in ("shortAnswer", "essay"):
        return {"text": long_text(rng) if kind == "essay" and rng.random() < 0.05 else text(rng)}
    if kind == "calculation":
        return {"value": rng.choice(["12.5", "0.75", "-3", "1.2e3", "约 40", ""]), "working": text(rng)}
    if kind == "flowchart":
        steps = [s["id"] for s in item["steps"]]
        return {"order": rng.sample(steps, rng.randint(0, len(steps))), "description": text(rng, (0, 3))}
    if kind == "thesis":
        return {"text": text(rng, (1, 12))}
    raise AssertionError(f"unexpected answerable type {kind}")


# MARK: - The terminals' model of what they sent


@dataclass
class Change:
    change_id: str
    question_id: str
    kind: str  # answer | flag
    response: object  # request JSON (answer kind)
    expected: Optional[str]  # canonical bytes the venue must log (answer kind)
    flagged: Optional[bool]  # flag kind
    client_seq: int
    client_time: int
    acked: bool = False
    failed_sends: int = 0  # sends of its batch that got no answer (venue down or killed mid-request)
    ack_sent_ms: int = 0  # when the send that was acknowledged left

    def wire(self) -> dict:
        body = {"changeId": self.change_id, "questionId": self.question_id, "kind": self.kind,
                "clientSeq": self.client_seq, "clientTime": self.client_time}
        if self.kind == "answer":
            body["response"] = self.response
        else:
            body["flagged"] = self.flagged
        return body


@dataclass
class Batch:
    changes: list
    body: bytes  # fixed at creation: a re-send is byte-for-byte the same request
    sends: int = 0


@dataclass
class Candidate:
    index: int
    admission: str
    id_number: str
    terminal_id: str
    token: str = ""
    attempt_id: str = ""
    items: dict = field(default_factory=dict)  # answerable question id -> paper item
    next_seq: int = 1
    sent: list = field(default_factory=list)  # every Change, in the order the terminal made them
    pending: Optional[Batch] = None

    @property
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.acked_requests = 0
        self.retries = 0
        self.refused = 0
        self.interrupted = 0  # connection reset / closed without an answer: the kill hit an in-flight request
        self.timeouts = 0
        self.acked_changes = 0
        self.acks_per_epoch = {}
        self.problems = []  # server misbehaviour seen by the terminals

    def add(self, **counts):
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def problem(self, text: str):
        with self.lock:
            if len(self.problems) < 200:
                self.problems.append(text)


def walk_items(items):
    for item in items:
        yield item
        yield from walk_items(item.get("subQuestions") or [])


def new_batch(c: Candidate, rng: random.Random) -> Batch:
    changes = []
    for _ in range(rng.randint(1, 5)):
        qid = rng.choice(list(c.items))
        seq = c.next_seq
        c.next_seq += 1
        cid = f"k{c.index:02d}-{seq}-{uuid.uuid4().hex[:20]}"
        if rng.random() < 0.1:
            change = Change(cid, qid, "flag", None, None, rng.random() < 0.5, seq, now_ms())
        else:
            response = random_response(rng, c.items[qid])
            change = Change(cid, qid, "answer", response, canonical(response), None, seq, now_ms())
        changes.append(change)
        c.sent.append(change)
    payload = {"changes": [ch.wire() for ch in changes]}
    # Half the requests carry raw UTF-8, half \u-escaped JSON: the stored bytes must not depend on it.
    body = json.dumps(payload, ensure_ascii=rng.random() < 0.5).encode("utf-8")
    return Batch(changes, body)


class Load:
    """Worker threads acting as the candidates' terminals."""

    def __init__(self, base: str, candidates: list, seed: int, stats: Stats):
        self.base = base
        self.candidates = candidates
        self.seed = seed
        self.stats = stats
        self.stop_new = threading.Event()  # no new changes; keep re-sending outstanding ones
        self.abort = threading.Event()
        self.epoch = 0  # server lifetime number, bumped by the killer
        self.threads = [threading.Thread(target=self.run, args=(w, candidates[w::WORKERS]), daemon=True,
                                         name=f"terminal-{w}") for w in range(WORKERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout: float) -> bool:
        deadline = time.time() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.time()))
        return not any(t.is_alive() for t in self.threads)

    def outstanding(self) -> int:
        return sum(1 for c in self.candidates if c.pending is not None)

    def run(self, worker: int, mine: list):
        rng = random.Random(self.seed * 1000 + worker)
        http = requests.Session()
        try:
            while not self.abort.is_set():
                active = [c for c in mine if c.pending is not None or not self.stop_new.is_set()]
                if not active:
                    return
                progressed = False
                for c in active:
                    if self.abort.is_set():
                        return
                    if c.pending is None:
                        if self.stop_new.is_set():
                            continue
                        c.pending = new_batch(c, rng)
                    progressed |= self.send(http, c)
                if not progressed:
                    time.sleep(0.05)  # venue down: don't spin
        except Exception as error:  # a bug in the test itself; make it visible
            self.stats.problem(f"terminal thread {worker} crashed: {error!r}")
            raise
        finally:
            http.close()

    def send(self, http: requests.Session, c: Candidate) -> bool:
        batch = c.pending
        ids = [ch.change_id for ch in batch.changes]
        if batch.sends:
            self.stats.add(retries=1)
        batch.sends += 1
        self.stats.add(requests=1)
        sent_at = now_ms()
        epoch = self.epoch
        try:
            r = http.post(self.base + "/api/attempt/answers", data=batch.body, timeout=REQUEST_TIMEOUT,
                          headers={**c.auth, "Content-Type": "application/json"})
        except requests.exceptions.Timeout:
            self.stats.add(timeouts=1)
            self.failed(batch)
            return False
        except requests.exceptions.ConnectionError as error:
            message = str(error)
            if "refused" in message.lower():
                self.stats.add(refused=1)
            else:
                self.stats.add(interrupted=1)
            self.failed(batch)
            return False
        if r.status_code != 200:
            self.stats.problem(f"epoch {epoch}: candidate {c.index} POST /api/attempt/answers {ids} -> "
                               f"HTTP {r.status_code} {r.text[:300]}")
            self.failed(batch)
            time.sleep(0.2)
            return False
        try:
            acknowledged = r.json()["acknowledged"]
        except (ValueError, KeyError, TypeError):
            self.stats.problem(f"epoch {epoch}: candidate {c.index} answers {ids} -> 200 but body {r.text[:300]!r}")
            self.failed(batch)
            return False
        if sorted(acknowledged) != sorted(ids):
            self.stats.problem(f"epoch {epoch}: candidate {c.index} sent {ids}, acknowledged {acknowledged}")
        for ch in batch.changes:
            if ch.change_id in acknowledged and not ch.acked:
                ch.acked = True
                ch.ack_sent_ms = sent_at
                self.stats.add(acked_changes=1)
        if all(ch.acked for ch in batch.changes):
            c.pending = None
        with self.stats.lock:
            self.stats.acked_requests += 1
            self.stats.acks_per_epoch[epoch] = self.stats.acks_per_epoch.get(epoch, 0) + 1
        return True

    @staticmethod
    def failed(batch: Batch):
        for ch in batch.changes:
            ch.failed_sends += 1


# MARK: - Checking the database


def verify_database(db_path: Path, candidates: list) -> tuple:
    """Every problem found in the venue's SQLite file, compared with what the terminals sent and were told."""
    problems = []
    facts = {}

    def problem(text):
        if len(problems) < 100:
            problems.append(text)
        elif len(problems) == 100:
            problems.append("… (more problems left out)")

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problem(f"integrity_check: {integrity[:5]}")
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            problem(f"journal_mode is {mode}, not wal")

        by_attempt = {c.attempt_id: c for c in candidates}
        sent = {}
        for c in candidates:
            for ch in c.sent:
                sent[ch.change_id] = (c, ch)

        # 3. no changeId twice, nothing nobody sent
        for change_id, count in db.execute(
                "SELECT changeId, count(*) FROM answer_log GROUP BY changeId HAVING count(*) > 1"):
            problem(f"changeId {change_id} appears {count} times in answer_log")

        rows = db.execute(
            "SELECT attemptId, seq, changeId, questionId, kind, response, typeof(response), flagged, clientSeq,"
            " sessionId, terminalId FROM answer_log ORDER BY attemptId, seq").fetchall()
        facts["answer_log rows"] = len(rows)
        log = {}  # attempt -> rows in seq order
        logged = {}
        for row in rows:
            log.setdefault(row[0], []).append(row)
            logged[row[2]] = row
            if row[2] not in sent:
                problem(f"answer_log row nobody sent: attempt {row[0]} seq {row[1]} changeId {row[2]}")

        # 1. every acknowledged change is there, byte for byte; unacknowledged ones, if there, are right too
        lost = 0
        for change_id, (c, ch) in sent.items():
            row = logged.get(change_id)
            if row is None:
                if ch.acked:
                    lost += 1
                    problem(f"LOST acknowledged change {change_id}: candidate {c.index} attempt {c.attempt_id} "
                            f"question {ch.question_id} kind {ch.kind} clientSeq {ch.client_seq} "
                            f"(failed sends before the ack: {ch.failed_sends})")
                continue
            attempt_id, seq, _, question_id, kind, response, response_type, flagged, client_seq, _, terminal = row
            where = f"change {change_id} (attempt {attempt_id} seq {seq})"
            if attempt_id != c.attempt_id:
                problem(f"{where}: attempt {attempt_id}, expected {c.attempt_id}")
            if question_id != ch.question_id:
                problem(f"{where}: question {question_id}, expected {ch.question_id}")
            if kind != ch.kind:
                problem(f"{where}: kind {kind}, expected {ch.kind}")
            if client_seq != ch.client_seq:
                problem(f"{where}: clientSeq {client_seq}, expected {ch.client_seq}")
            if terminal != c.terminal_id:
                problem(f"{where}: terminalId {terminal}, expected {c.terminal_id}")
            if ch.kind == "answer":
                if response_type not in ("text", "null"):
                    problem(f"{where}: response stored as {response_type}, not text")
                got = response.encode("utf-8") if isinstance(response, str) else response
                want = ch.expected.encode("utf-8") if ch.expected is not None else None
                if got != want:
                    problem(f"{where}: response bytes {got[:200]!r} differ from the expected {want[:200]!r}")
                if flagged is not None:
                    problem(f"{where}: an answer change logged with flagged {flagged}")
            else:
                if response is not None:
                    problem(f"{where}: a flag change logged with a response")
                if flagged != int(ch.flagged):
                    problem(f"{where}: flagged {flagged}, expected {int(ch.flagged)}")
        facts["lost acknowledged changes"] = lost

        # 2. no holes; the log is in the order the terminal sent; one session per attempt
        attempts = {a: (n, status) for a, n, status in db.execute("SELECT id, logLength, status FROM attempt")}
        for attempt_id, c in by_attempt.items():
            if attempt_id not in attempts:
                problem(f"attempt {attempt_id} of candidate {c.index} is missing")
                continue
            length, status = attempts[attempt_id]
            seqs = [row[1] for row in log.get(attempt_id, [])]
            if seqs != list(range(1, length + 1)):
                missing = sorted(set(range(1, length + 1)) - set(seqs))
                extra = sorted(set(seqs) - set(range(1, length + 1)))
                problem(f"attempt {attempt_id}: logLength {length} but {len(seqs)} rows; missing seqs "
                        f"{missing[:10]}, seqs beyond logLength {extra[:10]}")
            order = [ch.change_id for ch in c.sent]
            position = {cid: i for i, cid in enumerate(order)}
            logged_positions = [position.get(row[2], -1) for row in log.get(attempt_id, [])]
            if logged_positions != sorted(logged_positions):
                problem(f"attempt {attempt_id}: answer_log is not in the order the terminal sent the changes")
            client_seqs = [row[8] for row in log.get(attempt_id, [])]
            if any(b <= a for a, b in zip(client_seqs, client_seqs[1:])):
                problem(f"attempt {attempt_id}: clientSeq does not increase along seq")
            sessions = {row[9] for row in log.get(attempt_id, [])}
            if len(sessions) > 1:
                problem(f"attempt {attempt_id}: changes logged under {len(sessions)} sessions, expected one")
            if log.get(attempt_id) and status != "answering":
                problem(f"attempt {attempt_id}: status {status}, expected answering")

        # 4. the current answer is the last logged change; its value the last acknowledged one or a later one
        current = {(a, q): (response, flagged, log_seq, client_seq, session) for a, q, response, flagged, log_seq,
                   client_seq, session in db.execute(
                       "SELECT attemptId, questionId, response, flagged, logSeq, clientSeq, sessionId FROM answer")}
        checked = 0
        for attempt_id, c in by_attempt.items():
            per_question = {}
            for row in log.get(attempt_id, []):
                per_question.setdefault(row[3], []).append(row)
            for question_id in set(per_question) | {q for a, q in current if a == attempt_id}:
                key = (attempt_id, question_id)
                rows_q = per_question.get(question_id, [])
                where = f"answer of attempt {attempt_id} question {question_id}"
                if key not in current:
                    problem(f"{where} is missing although {len(rows_q)} changes are logged")
                    continue
                if not rows_q:
                    problem(f"{where} exists but no change for it is logged")
                    continue
                response, flagged, log_seq, client_seq, session = current[key]
                last = rows_q[-1]
                answers = [r for r in rows_q if r[4] == "answer"]
                flags = [r for r in rows_q if r[4] == "flag"]
                want_response = answers[-1][5] if answers else None
                want_flag = flags[-1][7] if flags else 0
                if response != want_response:
                    problem(f"{where}: current {str(response)[:120]!r} is not the last logged answer "
                            f"{str(want_response)[:120]!r}")
                if flagged != want_flag:
                    problem(f"{where}: flagged {flagged}, the last logged flag says {want_flag}")
                if (log_seq, client_seq, session) != (last[1], last[8], last[9]):
                    problem(f"{where}: logSeq/clientSeq/session {(log_seq, client_seq, session)} are not those of "
                            f"the last logged change {(last[1], last[8], last[9])}")
                # Against the terminal: the last acknowledged value, or one sent after it.
                made = [ch for ch in c.sent if ch.question_id == question_id and ch.kind == "answer"]
                acked_at = max((i for i, ch in enumerate(made) if ch.acked), default=None)
                allowed = {ch.expected for ch in (made[acked_at:] if acked_at is not None else made)}
                if acked_at is None:
                    allowed.add(None)
                if response not in allowed:
                    problem(f"{where}: current {str(response)[:120]!r} is neither the last acknowledged answer nor "
                            f"one sent after it")
                checked += 1
        facts["current answers checked"] = checked
    finally:
        db.close()
    return problems, facts


def self_check(db_path: Path, candidates: list, work: Path) -> list:
    """Damages copies of the database the way a premature acknowledgement would, and makes sure
    verify_database notices. Returns what it could not catch."""
    failures = []
    source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    acked_last = None  # an attempt whose last logged change was acknowledged, and that change
    for c in candidates:
        row = source.execute("SELECT changeId, seq FROM answer_log WHERE attemptId = ? ORDER BY seq DESC LIMIT 1",
                             (c.attempt_id,)).fetchone()
        if row and row[1] > 2 and any(ch.change_id == row[0] and ch.acked for ch in c.sent):
            acked_last = (c, row[0])
            break
    non_ascii = next((ch for c in candidates for ch in c.sent
                      if ch.acked and ch.expected and any(ord(x) > 127 for x in ch.expected)), None)

    def damaged(name, sql, params):
        copy = work / f"selfcheck-{name}.sqlite"
        copy.unlink(missing_ok=True)
        target = sqlite3.connect(copy)
        source.backup(target)
        # The venue's answer log is append-only (triggers refuse UPDATE and DELETE); a damaged copy has to
        # lift that first, as a disk that lost a commit would not ask.
        for trigger in ("answer_log_no_update", "answer_log_no_delete"):
            target.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement, args in zip(sql, params):
            target.execute(statement, args)
        target.commit()
        target.close()
        return copy

    cases = []
    if acked_last:
        c, change_id = acked_last
        # The commit that carried the last acknowledged change never reached the disk: the row is gone and
        # logLength is consistent with that (exactly what acknowledging before fsync would leave behind).
        cases.append(("lost-last-commit", [
            "DELETE FROM answer_log WHERE changeId = ?",
            "UPDATE attempt SET logLength = logLength - 1 WHERE id = ?"], [(change_id,), (c.attempt_id,)], change_id))
        cases.append(("hole", ["DELETE FROM answer_log WHERE attemptId = ? AND seq = 2"], [(c.attempt_id,)],
                      "missing seqs [2]"))
    else:
        failures.append("no attempt with an acknowledged last change to damage")
    if non_ascii:
        escaped = json.dumps(json.loads(non_ascii.expected), sort_keys=True, separators=(",", ":"))
        cases.append(("escaped-bytes", ["UPDATE answer_log SET response = ? WHERE changeId = ?"],
                      [(escaped, non_ascii.change_id)], non_ascii.change_id))
    else:
        failures.append("no acknowledged non-ASCII answer to damage")
    for name, sql, params, needle in cases:
        found, _ = verify_database(damaged(name, sql, params), candidates)
        if not any(needle in p for p in found):
            failures.append(f"self-check {name}: verify_database did not notice ({found[:3]})")
    source.close()
    return failures


# MARK: - The test


def log_tail(venue: VenueProcess, lines: int = 3) -> str:
    try:
        text = venue.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:])


def final_api_check(http: requests.Session, base: str, candidates: list) -> list:
    """The original tokens still work, and GET /api/attempt/paper shows what each terminal last sent."""
    problems = []
    for c in candidates:
        r = heartbeat(http, base, c)
        if r.status_code != 200:
            problems.append(f"final heartbeat of candidate {c.index} -> HTTP {r.status_code} {r.text[:200]}")
        r = http.get(base + "/api/attempt/paper", headers=c.auth, timeout=30)
        if r.status_code != 200:
            problems.append(f"final paper of candidate {c.index} -> HTTP {r.status_code} {r.text[:200]}")
            continue
        shown = {a["questionId"]: a for a in r.json()["answers"]}
        last = {}
        for ch in c.sent:
            last.setdefault(ch.question_id, {})[ch.kind] = ch
        for question_id, kinds in last.items():
            a = shown.get(question_id)
            if a is None:
                problems.append(f"candidate {c.index}: the paper shows no answer for {question_id}")
                continue
            if "answer" in kinds and a.get("response") != kinds["answer"].response:
                problems.append(f"candidate {c.index} {question_id}: the paper shows {a.get('response')!r:.120}, "
                                f"the terminal last sent {kinds['answer'].response!r:.120}")
            if a.get("flagged", False) != (kinds["flag"].flagged if "flag" in kinds else False):
                problems.append(f"candidate {c.index} {question_id}: the paper shows flagged {a.get('flagged')}")
    return problems


@pytest.fixture
def crash_venue(tmp_path):
    server = VenueProcess(tmp_path / "venue-data", free_port(), log_name="crash-venue")
    try:
        yield server
    finally:
        server.stop()
        server.kill()


def heartbeat(http: requests.Session, base: str, c: Candidate):
    return http.post(base + "/api/attempt/heartbeat", headers=c.auth, timeout=10)


def test_acknowledged_answers_survive_sigkill(crash_venue, tmp_path):
    venue = crash_venue
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    stats = Stats()
    server_problems = []
    started = time.time()
    kills = 0
    token_checks = 0
    load = None
    load_seconds = 0.0
    stop_code = None
    restart_failed = None
    candidates = [Candidate(i, *demo_candidate(i), terminal_id=f"crash-term-{i:02d}-{uuid.uuid4().hex[:8]}")
                  for i in range(CANDIDATES)]
    http = requests.Session()
    try:
        venue.start()
        venue.start_sitting(SITTING)
        for c in candidates:
            login = venue.candidate_login(c.admission, c.id_number, c.terminal_id)
            c.token, c.attempt_id = login["token"], login["attemptId"]
            r = http.get(venue.base + "/api/attempt/paper", headers=c.auth, timeout=30)
            assert r.status_code == 200, r.text
            paper = r.json()
            answerable = set(paper["paper"]["answerOrder"])
            for section in paper["paper"]["sections"]:
                for item in walk_items(section["items"]):
                    if item["id"] in answerable:
                        c.items[item["id"]] = item
            assert set(c.items) == answerable, f"answerable ids not all found in the paper: {answerable - set(c.items)}"
        types = sorted({item["type"] for item in candidates[0].items.values()})

        load = Load(venue.base, candidates, seed, stats)
        load.start()
        load_started = time.time()
        rotation = 0
        for k in range(KILLS):
            kill_at = time.time() + rng.uniform(*KILL_DELAY)
            # 5. the single login's tokens keep working after every restart (a few candidates per lifetime)
            for _ in range(6):
                if time.time() > kill_at - 0.05:
                    break
                c = candidates[rotation % CANDIDATES]
                rotation += 1
                try:
                    r = heartbeat(http, venue.base, c)
                    token_checks += 1
                    if r.status_code != 200:
                        server_problems.append(f"lifetime {k}: heartbeat of candidate {c.index} with its "
                                               f"original token -> HTTP {r.status_code} {r.text[:200]}")
                except requests.RequestException as error:
                    server_problems.append(f"lifetime {k}: heartbeat failed while the venue should be up: "
                                           f"{error!r}")
            time.sleep(max(0.0, kill_at - time.time()))
            if venue.process.poll() is not None:
                server_problems.append(f"the venue exited by itself with {venue.process.returncode} during "
                                       f"lifetime {k}; see {venue.log_path}")
            venue.kill()
            kills += 1
            load.epoch += 1
            try:
                venue.start()
            except RuntimeError as error:  # the venue cannot come back on its own data folder
                restart_failed = f"restart after kill {kills} failed: {error}; last log lines: {log_tail(venue)}"
                server_problems.append(restart_failed)
                break
        if restart_failed is None:
            time.sleep(FINAL_LOAD_SECONDS)
            load.stop_new.set()
            if not load.join(DRAIN_TIMEOUT):
                server_problems.append(f"{load.outstanding()} candidates still had unacknowledged changes "
                                       f"{DRAIN_TIMEOUT}s after the load stopped")
            load_seconds = time.time() - load_started
            # Every original token still works, and the API shows what the terminals last sent.
            try:
                server_problems += final_api_check(http, venue.base, candidates)
                token_checks += len(candidates)
            except requests.RequestException as error:
                server_problems.append(f"the final API check could not reach the venue: {error!r}")
        else:
            load_seconds = time.time() - load_started
    finally:
        if load is not None:
            load.stop_new.set()
            load.abort.set()
            load.join(30)
        http.close()
        if venue.process is not None and venue.process.poll() is None:
            venue.stop()
            stop_code = venue.process.returncode
        venue.kill()

    db_path = venue.data_dir / "venue.sqlite"
    db_problems, facts = verify_database(db_path, candidates)
    self_check_failures = self_check(db_path, candidates, tmp_path)

    all_changes = [ch for c in candidates for ch in c.sent]
    retried_changes = [ch for ch in all_changes if ch.failed_sends]
    durable_before_ack = 0
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    server_time = dict(db.execute("SELECT changeId, serverTime FROM answer_log"))
    db.close()
    for ch in retried_changes:
        if ch.acked and ch.change_id in server_time and server_time[ch.change_id] < ch.ack_sent_ms:
            durable_before_ack += 1  # written by a request whose answer the kill swallowed

    duration = time.time() - started
    summary = [
        "crash durability: an acknowledged answer is never lost",
        f"seed {seed}; {CANDIDATES} candidates, {WORKERS} terminal threads; answer types {', '.join(types)}",
        f"kills (SIGKILL) {kills} of {KILLS}; venue starts {venue.starts}; clean stop exit code {stop_code}",
        f"requests {stats.requests}, acknowledged {stats.acked_requests}, re-sends {stats.retries} "
        f"(refused {stats.refused}, cut off mid-request {stats.interrupted}, timed out {stats.timeouts})",
        f"changes made {len(all_changes)}, acknowledged {stats.acked_changes}, never acknowledged "
        f"{sum(1 for ch in all_changes if not ch.acked)}; changes re-sent after a failure {len(retried_changes)}, "
        f"of which already durable before their acknowledgement {durable_before_ack}",
        f"server lifetimes with acknowledged requests {len(stats.acks_per_epoch)} of {kills + 1}; "
        f"token checks after restarts {token_checks}",
        f"database: {facts}; problems {len(db_problems)}; self-check misses {len(self_check_failures)}",
        f"load {load_seconds if load else 0:.1f}s, test {duration:.1f}s; data folder {venue.data_dir}",
    ]
    problems = stats.problems + server_problems + db_problems + self_check_failures
    if restart_failed is None and stats.acked_changes != len(all_changes):
        problems.append(f"{len(all_changes) - stats.acked_changes} changes never got acknowledged")
    if stats.interrupted == 0:
        problems.append("no kill hit an in-flight request: the test exercised nothing")
    if kills != KILLS:
        problems.append(f"only {kills} of {KILLS} kills happened")
    if problems:
        summary.append("PROBLEMS:")
        summary += [f"  {p}" for p in problems[:60]]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / SUMMARY_FILE).write_text("\n".join(summary) + "\n", encoding="utf-8")
    print("\n" + "\n".join(summary))
    assert not problems, "\n".join(summary)
