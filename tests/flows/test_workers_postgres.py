"""The production path, end to end: PostgreSQL for the application and for Prefect, `prefect server`, two process
workers, the campaign's stages run as deployments; one worker is killed (SIGKILL, with the flow run it was
executing) in the middle of issuing records, and the campaign still ends with every record, document number and
publication exactly once.

The commands are the ones docs/operations.md gives (kiemtra migrate, kiemtra server start, kiemtra server deploy,
prefect worker start, prefect deployment run). Needs a PostgreSQL server: KIEMTRA_TEST_DATABASE_URL (an admin URL,
e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres, as `make test` exports for its PostgreSQL pass).
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.demo import users as demo_users
from services.db import get_engine
from services.settings import Settings
from tests.conftest import PostgresDatabases
from tests.factories import campaign_with_approved_findings, intake_http
from tests.prefect_support import free_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
CODE = "PG-WORKERS-01"
OFFICIALS = {"SNV-GD": "Giám đốc Sở Nội vụ", "UBND-CT": "Chủ tịch Ủy ban nhân dân tỉnh"}


@pytest.fixture
def databases(postgres_databases: PostgresDatabases | None) -> Iterator[tuple[str, str]]:
    """A fresh application database and an empty Prefect database on the test PostgreSQL server."""
    if postgres_databases is None:
        pytest.skip("needs KIEMTRA_TEST_DATABASE_URL (a PostgreSQL admin URL); `make test` sets it for its PostgreSQL pass")
    app_url, prefect_url = postgres_databases.create(), postgres_databases.create(empty=True)
    try:
        yield app_url, sa.engine.make_url(prefect_url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    finally:
        postgres_databases.drop(app_url)
        postgres_databases.drop(prefect_url)


def _run(argv: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _wait(what: str, check, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_campaign_survives_a_killed_worker(tmp_path: Path, databases: tuple[str, str]) -> None:
    app_url, prefect_url = databases
    data = tmp_path / "shared"  # the document store every worker writes to (shared storage in production)
    port = free_port()
    env = {**os.environ, "KIEMTRA_DATA_DIR": str(data), "KIEMTRA_DATABASE_URL": app_url,
           "KIEMTRA_PREFECT_DATABASE_URL": prefect_url, "KIEMTRA_PREFECT_PORT": str(port),
           "KIEMTRA_ENVIRONMENT": "test", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("KIEMTRA_PREFECT_API_URL", None)
    kiemtra, prefect = str(BIN / "kiemtra"), str(BIN / "prefect")
    workers: list[subprocess.Popen[bytes]] = []
    engines: list[sa.Engine] = []
    try:
        _run([kiemtra, "migrate"], env)
        _run([kiemtra, "server", "start"], env, timeout=120)
        _run([kiemtra, "server", "deploy"], env)
        worker_env = {**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
        for name in ("worker-a", "worker-b"):
            workers.append(subprocess.Popen([prefect, "worker", "start", "--pool", "kiemtra-process", "--name", name],
                                            env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True))

        settings = Settings(environment="test", data_dir=data, database_url=app_url)
        engine = sa.create_engine(app_url)
        engines += [engine, get_engine(settings)]

        def scalar(sql: str) -> int:
            with engine.connect() as conn:
                return int(conn.exec_driver_sql(sql).scalar_one())

        tokens = campaign_with_approved_findings(settings, code=CODE)

        # issue the records through the deployment; kill whichever worker runs it, half-way
        _run([prefect, "deployment", "run", "issue-records/issue-records", "--param", f"campaign_code={CODE}"], worker_env)
        _wait("the first records", lambda: scalar("SELECT count(*) FROM document WHERE doc_type = 'minutes'") >= 3)
        busy = [w for w in workers if _descendants(w.pid)]
        assert len(busy) == 1, "exactly one worker runs the stage"
        victim = busy[0]
        for pid in [victim.pid, *_descendants(victim.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        victim.wait()
        issued_at_kill = scalar("SELECT count(*) FROM document WHERE doc_type = 'minutes'")
        assert issued_at_kill < 24, "the kill must land in the middle of the stage"

        # the lead starts the stage again; the surviving worker finishes it
        _run([prefect, "deployment", "run", "issue-records/issue-records", "--param", f"campaign_code={CODE}"], worker_env)
        _wait("every record", lambda: scalar("SELECT count(*) FROM inspection WHERE status = 'findings_approved'") == 0)

        with intake_http(settings) as http:
            files = scalar("SELECT count(DISTINCT inspection_id) FROM violation")
            assert demo_users.simulate_officials(http, tokens, OFFICIALS, CODE) == files  # every file with violations decided
        _run([prefect, "deployment", "run", "run-campaign/run-campaign", "--param", f"campaign_code={CODE}"], worker_env)
        closed = f"SELECT count(*) FROM campaign WHERE code = '{CODE}' AND status = 'closed'"
        _wait("the campaign to close", lambda: scalar(closed) == 1)

        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM inspection WHERE status <> 'closed'").scalar_one() == 0
            # numbers: 1..n per issuer, type and year, no gap, no duplicate
            for issuer, doc_type, year, n, low, high in conn.exec_driver_sql(
                    "SELECT issuer_code, doc_type, year, count(*), min(seq), max(seq) FROM document "
                    "GROUP BY issuer_code, doc_type, year"):
                assert (low, high) == (1, n), (issuer, doc_type, year)
            per_inspection = conn.exec_driver_sql(
                "SELECT doc_type, inspection_id, count(*) FROM document WHERE inspection_id IS NOT NULL "
                "GROUP BY doc_type, inspection_id HAVING count(*) > 1").all()
            assert per_inspection == []
            assert conn.exec_driver_sql("SELECT count(*) FROM document WHERE doc_type = 'minutes'").scalar_one() == 24
            decisions = conn.exec_driver_sql("SELECT count(*) FROM document WHERE doc_type = 'sanction_decision'").scalar_one()
            assert decisions > 0
            assert conn.exec_driver_sql("SELECT count(*) FROM publication").scalar_one() == decisions
            assert conn.exec_driver_sql("SELECT count(DISTINCT finding_id) FROM violation").scalar_one() == \
                conn.exec_driver_sql("SELECT count(*) FROM violation").scalar_one()
            records_issued = conn.exec_driver_sql(
                "SELECT entity_id, count(*) FROM auditevent WHERE entity_type = 'inspection' AND to_state = 'records_issued' "
                "GROUP BY entity_id").all()
            assert len(records_issued) == 24 and all(n == 1 for _, n in records_issued)
            for path, digest in conn.exec_driver_sql("SELECT path, sha256 FROM document"):
                assert hashlib.sha256((settings.documents_path / path).read_bytes()).hexdigest() == digest
    finally:
        for e in engines:
            e.dispose()
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
                try:
                    w.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(w.pid, signal.SIGKILL)
                    w.wait(timeout=20)
        subprocess.run([kiemtra, "server", "stop"], env=env, capture_output=True, timeout=60, check=False)
