"""A kill -9 of the intake server under load loses no acknowledged submission (issue 13, Done when 4).

The real app is served by uvicorn in its own process over the test's database (SQLite file in WAL, or
PostgreSQL). Client threads, each with a keep-alive connection, send one findings submission per inspection,
a tenth of them twice (exact retries). When a third of the submissions have been acknowledged the server
process gets SIGKILL; the clients' requests in flight fail. A new server process is started on the same
database and the clients send again whatever was not acknowledged, with the same client ids (what a field
device does). Then: every submission ever acknowledged (201, or 200 for a retry) is stored with the id it was
acknowledged with, there is exactly one row per client id, and each has its findings.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import Finding, Inspection, Submission, TeamMember, Person
from services.db import session_scope
from services.intake import logic
from services.settings import Settings
from tests.factories import create_scheduled_campaign

ROOT = Path(__file__).resolve().parents[2]
SERVE = """
import sys
import uvicorn
from services.entry.http.app import create_app
from services.entry.http.server import bind_socket
from services.settings import Settings

sock = bind_socket("127.0.0.1", 0)
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(create_app(Settings()), log_level="warning", access_log=False,
                              lifespan="off")).run(sockets=[sock])
"""
CLIENTS = 8


def start_server(settings: Settings) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "KIEMTRA_ENVIRONMENT": "test", "KIEMTRA_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["KIEMTRA_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen([sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    proc.stdout.close()  # the port was all it had to say
    deadline = time.monotonic() + 30
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("the intake server did not start")
        time.sleep(0.05)


@dataclass(frozen=True)
class Send:
    path: str
    body: bytes
    token: str
    client_id: str


@dataclass
class Ledger:
    acknowledged: dict[str, set[int]] = field(default_factory=dict)  # client id → submission ids answered
    refused: list[str] = field(default_factory=list)  # answers that are neither an acknowledgement nor a crash
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return sum(len(ids) for ids in self.acknowledged.values())


def drive(port: int, sends: list[Send], ledger: Ledger) -> list[Send]:
    """Send everything from ``CLIENTS`` threads; return what got no answer (the server went away)."""
    pending, unanswered, lock = iter(sends), [], threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                s = next(pending, None)
            if s is None:
                break
            try:
                conn.request("POST", s.path, body=s.body, headers={"Authorization": f"Bearer {s.token}",
                                                                  "Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    unanswered.append(s)
                continue
            with ledger.lock:
                if response.status in (200, 201):
                    ledger.acknowledged.setdefault(s.client_id, set()).add(int(json.loads(payload)["submission_id"]))
                else:
                    ledger.refused.append(f"{s.client_id}: {response.status} {payload[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return unanswered


def workload(settings: Settings, tokens: dict[str, str]) -> list[Send]:
    with session_scope(settings) as session:
        heads = dict(session.exec(select(TeamMember.team_id, Person.code).join(Person, Person.id == TeamMember.person_id)
                                  .where(Person.code.startswith("SNV-TT"))).all())  # type: ignore[attr-defined]
        sends = []
        for inspection in session.exec(select(Inspection).order_by(Inspection.id)).all():
            findings = [{"item_code": item.code, "result": "pass"} for item in logic.checklist_for(session, inspection)]
            client_id = f"kill9-inspection-{inspection.id:06d}"
            body = json.dumps({"client_submission_id": client_id, "findings": findings}).encode()
            sends.append(Send(f"/api/inspections/{inspection.id}/findings", body, tokens[heads[inspection.team_id]],
                              client_id))
    order: list[Send] = []
    for i, s in enumerate(sends):  # a tenth sent twice, five places apart: some retries race their original
        order.append(s)
        if i % 10 == 5:
            order.append(sends[i - 5])
    return order


@pytest.fixture
def world(settings: Settings) -> Iterator[list[Send]]:
    tokens = create_scheduled_campaign(settings, code="KILL9-01", establishments=1200, quota=120, teams=4)
    yield workload(settings, tokens)


def stored(settings: Settings) -> tuple[dict[str, list[int]], int]:
    with session_scope(settings) as session:
        rows: dict[str, list[int]] = {}
        for client_id, submission_id in session.exec(select(Submission.client_submission_id, Submission.id)).all():
            rows.setdefault(client_id, []).append(submission_id)
        with_findings = session.execute(sa.select(sa.func.count(sa.distinct(Finding.submission_id)))).scalar_one()
    return rows, int(with_findings)


def test_a_killed_server_loses_no_acknowledged_submission(settings: Settings, world: list[Send]) -> None:
    sends, ledger = world, Ledger()
    assert len({s.client_id for s in sends}) >= 100
    proc, port = start_server(settings)
    killed = threading.Event()

    def killer() -> None:
        while ledger.count() < len(sends) // 3 and proc.poll() is None:
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the load: requests in flight, batches being committed
        killed.set()

    watcher = threading.Thread(target=killer)
    watcher.start()
    try:
        unanswered = drive(port, sends, ledger)
        watcher.join()
        proc.wait(timeout=10)
        assert killed.is_set() and proc.returncode == -signal.SIGKILL
        before_restart = ledger.count()
        assert 0 < before_restart < len(sends) and unanswered, "the kill did not land in the middle of the load"
        # what was acknowledged before the restart is already there, with its id
        rows, _ = stored(settings)
        assert all(ids <= set(rows.get(cid, [])) for cid, ids in ledger.acknowledged.items())

        proc, port = start_server(settings)  # a new server on the same database; the devices send again
        left = drive(port, unanswered, ledger)
        assert left == [] and ledger.refused == [], ledger.refused[:5]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

    rows, with_findings = stored(settings)
    lost = [cid for cid, ids in ledger.acknowledged.items() if not ids <= set(rows.get(cid, []))]
    answered_twice_differently = [cid for cid, ids in ledger.acknowledged.items() if len(ids) > 1]
    duplicated = [cid for cid, ids in rows.items() if len(ids) > 1]
    assert lost == [] and answered_twice_differently == [] and duplicated == []
    assert set(rows) == {s.client_id for s in sends}  # every submission ends up stored once
    assert with_findings == len(rows)  # none half-written
