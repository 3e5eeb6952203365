"""``benchmarks/campaign.py --workers N``: a campaign's documents issued by 1 and by N Prefect process workers.

The production path (docs/operations.md): PostgreSQL for the application and for Prefect, a managed ``prefect
server``, the deployments of prefect.yaml, ``prefect worker start --pool kiemtra-process --limit 1`` workers. One
campaign is brought to approved findings once (seed, selection, schedule and its documents, the inspectors' findings
through the intake API) in a base database; each round copies it (``CREATE DATABASE … TEMPLATE``, and the document
store), starts that many workers and runs ``run-campaign`` with ``parts`` = workers: the records (biên bản kiểm tra,
biên bản vi phạm, tờ trình) and, after the officials' decisions through the API, the quyết định xử phạt are issued as
``stage-part`` flow runs the workers share. Documents per second = those documents / the two stages' seconds. After
each round the numbers are checked: 01..n per issuer, type and year, no gap, no duplicate, no reservation left unused.

Run under ``.ci/postgres run`` (it sets ``KIEMTRA_TEST_DATABASE_URL``, an admin URL) or with ``--database-url``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.settings import PROJECT_ROOT, Settings, get_settings

BIN = Path(sys.executable).parent
ISSUED_BY_STAGES = ("minutes", "violation_record", "proposal", "sanction_decision")


class Databases:
    """Databases on the PostgreSQL server of an admin URL, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.base = sa.engine.make_url(admin_url)
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.prefix = f"kiemtra_bench_{uuid.uuid4().hex[:6]}"
        self.made: list[str] = []

    def create(self, name: str, *, template: str | None = None, driver: str = "postgresql+psycopg") -> str:
        full = f"{self.prefix}_{name}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{full}"' + (f' TEMPLATE "{self.prefix}_{template}"' if template else ""))
        self.made.append(full)
        return self.base.set(database=full, drivername=driver).render_as_string(hide_password=False)

    def close(self) -> None:
        from services.db import _engine_for

        _engine_for.cache_clear()
        with self.admin.connect() as conn:
            for name in reversed(self.made):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def _point_at(settings: Settings) -> None:
    """Flows in this process (``run-campaign``) and the workers started after read their settings from here."""
    os.environ["KIEMTRA_ENVIRONMENT"] = settings.environment
    os.environ["KIEMTRA_DATA_DIR"] = str(settings.data_dir)
    os.environ["KIEMTRA_DATABASE_URL"] = str(settings.database_url)
    get_settings.cache_clear()


def prepare_base(dbs: Databases, root: Path, args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    """The campaign up to approved findings, in the base database."""
    from benchmarks.campaign import _field, _setup, plain_stages
    from services.db import get_engine

    settings, tokens, seed_s = _setup(root / "base", args, database_url=dbs.create("base"))
    start = time.perf_counter()
    run = plain_stages(settings)
    run()
    _field(settings, tokens, "lead")
    run()
    _field(settings, tokens, "inspectors")
    get_engine(settings).dispose()
    print(f"base: seed {seed_s:.1f}s, up to approved findings {time.perf_counter() - start:.1f}s", flush=True)
    return settings, tokens


def start_server(dbs: Databases, root: Path, args: argparse.Namespace) -> tuple[Any, Settings]:
    from services.runtime.client import prefect_client_env
    from services.runtime.server import ensure_server, ensure_work_pool

    os.environ["KIEMTRA_PREFECT_HOME"] = str(root / "prefect")
    os.environ["KIEMTRA_PREFECT_PORT"] = str(args.prefect_port)
    os.environ["KIEMTRA_PREFECT_DATABASE_URL"] = dbs.create("prefect", driver="postgresql+asyncpg")
    get_settings.cache_clear()
    settings = get_settings()
    server = ensure_server(settings)
    ensure_work_pool()
    done = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=PROJECT_ROOT, check=False,
                          env={**os.environ, **prefect_client_env(server), "PWD": str(PROJECT_ROOT)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"prefect deploy failed:\n{done.stdout}\n{done.stderr}")
    return server, settings


def start_workers(server: Any, n: int, tag: str) -> list[subprocess.Popen[bytes]]:
    from prefect.client.orchestration import get_client
    from services.runtime.client import prefect_client_env

    env = {**os.environ, **prefect_client_env(server), "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_WORKER_PREFETCH_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    names = [f"bench-{tag}-{i}" for i in range(n)]
    workers = [subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "kiemtra-process", "--limit", "1",
                                 "--name", name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True) for name in names]
    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while {w.name for w in client.read_workers_for_work_pool("kiemtra-process")} < set(names):
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                stop_workers(workers)
                raise SystemExit(f"workers {names} did not come online")
            time.sleep(0.5)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:  # each worker and its flow-run processes: the process group this benchmark started
        if w.poll() is None:
            os.killpg(w.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait(timeout=30)


def check_numbers(settings: Settings) -> dict[str, int]:
    """Numbers 01..n per issuer, type and year (no gap, no duplicate) and no reservation left unused; the documents
    the two timed stages issued, by type."""
    engine = sa.create_engine(str(settings.database_url), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        for issuer, doc_type, year, n, distinct, low, high in conn.exec_driver_sql(
                "SELECT issuer_code, doc_type, year, count(*), count(DISTINCT seq), min(seq), max(seq) FROM document "
                "GROUP BY issuer_code, doc_type, year"):
            assert (low, high, distinct) == (1, n, n), f"{issuer} {doc_type} {year}: {n} numbers {low}..{high}"
        unused = conn.exec_driver_sql("SELECT count(*) FROM numberreservation WHERE state <> 'used'").scalar_one()
        assert unused == 0, f"{unused} numbers reserved and not used"
        by_type = dict(conn.exec_driver_sql("SELECT doc_type, count(*) FROM document GROUP BY doc_type").all())
    engine.dispose()
    return {t: int(by_type.get(t, 0)) for t in ISSUED_BY_STAGES}


def one_round(base: Settings, tokens: dict[str, str], server: Any, root: Path, dbs: Databases, n: int,
              code: str) -> dict[str, Any]:
    """Records and decisions of the base campaign issued by ``n`` workers, on a copy of the base."""
    from benchmarks.campaign import _field
    from flows.run_campaign import run_campaign
    from services.entry.cli.in_process import in_process_run

    settings = base.model_copy(update={"data_dir": root / f"workers-{n}",
                                       "database_url": dbs.create(f"workers_{n}", template="base")})
    shutil.copytree(base.data_dir, settings.data_dir)
    _point_at(settings)
    workers = start_workers(server, n, f"{n}-{uuid.uuid4().hex[:4]}")
    seconds: dict[str, float] = {}
    issued: dict[str, int] = {}
    busy, workers_cpu = [0.0, 0.0], 0.0
    try:
        with in_process_run():
            for field_step in ("officials", None):
                before, cpu_before = check_numbers(settings), cpu_times()
                workers_before = sum(process_cpu_s(w.pid) for w in workers)
                for stage in run_campaign(code, parts=n)["stages"]:
                    name = str(stage.get("stage", ""))
                    seconds[name] = seconds.get(name, 0.0) + stage["seconds"]
                    part_timings(stage)
                cpu = [b - a for a, b in zip(cpu_before, cpu_times(), strict=True)]
                time.sleep(2)  # the flow-run processes have reported their end: let their worker reap them
                workers_cpu += sum(process_cpu_s(w.pid) for w in workers) - workers_before
                busy[0], busy[1] = busy[0] + cpu[0], busy[1] + cpu[1]
                after = check_numbers(settings)  # numbers checked after each run
                issued = {t: issued.get(t, 0) + after[t] - before[t] for t in after}
                if field_step:
                    _field(settings, tokens, field_step)
    finally:
        stop_workers(workers)
    stage_s = seconds.get("issue-records", 0.0) + seconds.get("decide-sanctions", 0.0)
    total = sum(issued.values())
    out = {"workers": n, "documents": total, "by_type": issued, "records_s": round(seconds.get("issue-records", 0), 2),
           "decisions_s": round(seconds.get("decide-sanctions", 0), 2), "documents_per_s": round(total / stage_s, 2),
           "machine_busy": round(busy[0] / max(busy[1], 1e-9), 3), "load_1min": round(os.getloadavg()[0], 2),
           "workers_cpu_s": round(workers_cpu, 1), "cores_used_by_workers": round(workers_cpu / stage_s, 2)}
    print(f"{n} worker(s): {total} documents {issued} in {stage_s:.1f}s (records {out['records_s']}s, decisions "
          f"{out['decisions_s']}s): {out['documents_per_s']} documents/s; numbers 01..n without gaps; all cores "
          f"{out['machine_busy']:.0%} busy meanwhile (every process of the machine), load {out['load_1min']}; the "
          f"workers and their flow runs used {workers_cpu:.0f} CPU-s = {out['cores_used_by_workers']} cores", flush=True)
    return out


def process_cpu_s(pid: int) -> float:
    """CPU seconds of a process and of its children it has waited for (a worker and its finished flow runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(float(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime


def cpu_times() -> tuple[float, float]:
    """The machine's busy and total CPU time so far (/proc/stat, all cores): how much of the machine was free."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def part_timings(stage: dict[str, Any]) -> None:
    """When each part's flow run was created, started and ended (seconds after the first was created)."""
    from prefect.client.orchestration import get_client

    if not stage.get("flow_runs"):
        return
    with get_client(sync_client=True) as client:
        runs = [client.read_flow_run(uuid.UUID(i)) for i in stage["flow_runs"]]
    t0 = min(r.created for r in runs if r.created)
    for r in runs:
        start, end = r.start_time, r.end_time
        print(f"  {stage['stage']} part: start +{(start - t0).total_seconds():.1f}s, "
              f"end +{(end - t0).total_seconds():.1f}s" if start and end else f"  part {r.id}: {r.state_name}")


def main(args: argparse.Namespace, code: str) -> dict[str, Any]:
    import tempfile

    from services.runtime.server import stop_server

    admin = args.database_url or os.environ.get("KIEMTRA_TEST_DATABASE_URL", "")
    if not admin.startswith("postgresql"):
        raise SystemExit("--workers needs PostgreSQL: run under `.ci/postgres run` or give --database-url (admin URL)")
    counts = sorted({1, args.workers})
    dbs = Databases(admin)
    try:
        with tempfile.TemporaryDirectory(prefix="kiemtra-bench-workers-") as tmp:
            root = Path(tmp)
            base, tokens = prepare_base(dbs, root, args)
            server, prefect_settings = start_server(dbs, root, args)
            try:
                rounds = [one_round(base, tokens, server, root, dbs, n, code) for n in counts]
            finally:
                stop_server(prefect_settings)
    finally:
        dbs.close()
    assert len({r["documents"] for r in rounds}) == 1, "every round must issue the same documents"
    ratio = rounds[-1]["documents_per_s"] / rounds[0]["documents_per_s"]
    print(f"{counts[-1]} workers / 1 worker: {ratio:.2f}x (target 1.6x; {os.cpu_count()} cores)", flush=True)
    return {"rounds": rounds, "ratio": round(ratio, 3), "cores": os.cpu_count()}
