"""Benchmark: the findings-intake API under 50 concurrent field clients, against a trivial endpoint as baseline.

A fresh SQLite (WAL) database gets a province registry and one campaign selected, approved and scheduled
(``--inspections`` visits, default 4,600, over enough teams and days). The intake app is served by uvicorn
in a subprocess on loopback; ``--clients`` threads, each with its own persistent ``http.client``
connection, send ``--submissions`` findings submissions (default 5,000): one per inspection, plus
``--retry-share`` (10%) exact retries of an earlier ``client_submission_id``, queued a little later than
the original so some of them race it. The same load generator then drives a trivial FastAPI app (same
paths, headers and bodies; an async handler that returns a small JSON, as the real one is async) in its own
uvicorn subprocess: that is the baseline. A third run, the parse-only floor, serves the real request model
and stores nothing: what validating the body costs before any database work.

The servers bind their socket through ``services.intake.server.bind_socket`` (TCP_NODELAY on every
connection); before that fix every response waited 44 ms for a delayed ACK and the "baseline" measured
that wait (~1,000/s at 0.4 core) instead of the server. ``server_ms_per_request`` is the server process's
CPU time per answer, read from /proc.

Afterwards the server is stopped and the database read back: every acknowledged submission (201, or 200
for a retry) must be there with the acknowledged id (``lost`` counts those that are not), and there must
be exactly one row per client id (``duplicated`` counts extra rows). ``client_cpu_share`` is the load
generator's own CPU time over the wall time of a run (1.0 would be one core busy): it says how much of
the 2-core machine the generator takes from the server. The last printed line is one JSON object.

    python benchmarks/intake.py [--submissions 5000] [--clients 50] [--inspections 4600] [--profile DIR]

``--profile DIR`` records the intake server with py-spy (if installed) into DIR/intake.speedscope.json
and DIR/intake.txt (collapsed stacks).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CODE = "BENCH-INTAKE-01"
PERIOD = (date(2026, 3, 2), date(2026, 12, 31))


# --------------------------------------------------------------------------- the servers (subprocess side)


def _trivial_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/api/inspections/{inspection_id}/findings", status_code=201)
    async def ok(inspection_id: int) -> dict[str, Any]:
        return {"submission_id": inspection_id, "status": "ok"}

    return app


def _parse_only_app() -> Any:
    """The floor: the real request model validates the body (auth header read), nothing is stored."""
    from fastapi import FastAPI, Header

    from services.intake.schemas import FindingsSubmission

    globals()["FindingsSubmission"] = FindingsSubmission  # FastAPI resolves the (string) annotations in module globals
    app = FastAPI()

    @app.post("/api/inspections/{inspection_id}/findings", status_code=201)
    async def parsed(inspection_id: int, body: FindingsSubmission, authorization: str = Header()) -> dict[str, Any]:
        return {"submission_id": inspection_id, "findings": len(body.findings)}

    return app


def serve(kind: str, data_dir: str) -> None:
    """Run one uvicorn server on a free loopback port; print the port on stdout, serve until SIGTERM."""
    import uvicorn

    if kind == "intake":
        from services.intake.app import create_app
        from services.settings import Settings

        app = create_app(Settings(environment="development", data_dir=Path(data_dir)))
    elif kind == "parse-only":
        app = _parse_only_app()
    else:
        app = _trivial_app()
    from services.intake.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", backlog=512)
    server = uvicorn.Server(config)
    print(sock.getsockname()[1], flush=True)
    server.run(sockets=[sock])


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    profiler: subprocess.Popen[bytes] | None = None

    def cpu_s(self) -> float:
        """The server process's CPU time so far (user + system), from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            self.profiler.wait(timeout=120)
        self.proc.send_signal(signal.SIGTERM)  # uvicorn finishes in-flight requests, then exits
        self.proc.wait(timeout=60)


def start_server(kind: str, data_dir: Path, profile_dir: Path | None = None) -> Server:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{kind} server did not start") from None
            time.sleep(0.05)
    profiler = None
    if profile_dir is not None:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler = subprocess.Popen([py_spy, "record", "--pid", str(proc.pid), "--rate", "200", "--format", "raw",
                                     "--output", str(profile_dir / f"{kind}.txt"), "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    return Server(proc, port, profiler)


# --------------------------------------------------------------------------- the load generator


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    client_id: str


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    acknowledged: dict[str, set[int]] = field(default_factory=dict)  # client id → submission ids answered
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0


def drive(port: int, requests: list[Request], clients: int) -> Outcome:
    """``clients`` threads, each with one keep-alive connection, take the next request from a shared list."""
    out = Outcome()
    lock = threading.Lock()
    next_index = iter(range(len(requests)))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        latencies: list[float] = []
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            r = requests[i]
            start = time.perf_counter()
            try:
                conn.request("POST", r.path, body=r.body, headers=r.headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    out.failures.append(f"{r.client_id}: {e!r}")
                continue
            latencies.append(time.perf_counter() - start)
            with lock:
                out.statuses[response.status] = out.statuses.get(response.status, 0) + 1
                if response.status in (200, 201):
                    out.acknowledged.setdefault(r.client_id, set()).add(int(json.loads(payload)["submission_id"]))
                elif len(out.failures) < 20:
                    out.failures.append(f"{r.client_id}: {response.status} {payload[:300]!r}")
        conn.close()
        with lock:
            out.latencies.extend(latencies)

    threads = [threading.Thread(target=worker, name=f"client-{n}") for n in range(clients)]
    cpu0, start = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.wall_s, out.client_cpu_s = time.perf_counter() - start, time.process_time() - cpu0
    return out


def percentile_ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return round(statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] * 1000, 2)


# --------------------------------------------------------------------------- the world and the workload


def seed(data_dir: Path, args: argparse.Namespace) -> Any:
    from services import demo
    from services.db import migrate, session_scope
    from services.settings import Settings
    from services.stages import approval, scheduling, selection

    settings = Settings(environment="development", data_dir=data_dir)
    migrate(settings)
    with session_scope(settings) as session:
        agencies = demo.seed_agencies(session)
        tokens = demo.seed_people(session, settings, agencies, teams=args.teams, seed=2026)
        demo.seed_registry(session, n=args.establishments, province_code=demo.PROVINCE, seed=2026, as_of=PERIOD[0])
        demo.ensure_campaign(session, code=CODE, title="Benchmark intake", lead=agencies["SNV"], members=["SYT", "LDLD"],
                             province_code=demo.PROVINCE, period_start=PERIOD[0], period_end=PERIOD[1],
                             quota=args.inspections, teams=args.teams, actor="bench")
    selection.select_establishments(settings, CODE)
    approval.approve_selection(settings, CODE, by="SNV-LEAD")
    scheduling.schedule_inspections(settings, CODE)
    return settings, tokens


def workload(settings: Any, tokens: dict[str, str], args: argparse.Namespace) -> list[Request]:
    """One submission per scheduled inspection (as its team head would send it), plus exact retries."""
    from sqlmodel import select

    from models import Establishment, Inspection, Person, TeamMember
    from services.db import session_scope
    from services.demo import observed_findings
    from services.intake import logic
    from services.intake.schemas import InspectionOut

    with session_scope(settings) as session:
        heads = dict(session.exec(select(TeamMember.team_id, Person.code).join(Person, Person.id == TeamMember.person_id)
                                  .where(Person.code.startswith("SNV-TT"))).all())  # type: ignore[attr-defined]
        rows = session.exec(select(Inspection, Establishment).join(Establishment, Establishment.id == Inspection.establishment_id)
                            .order_by(Inspection.id)).all()
        checklists: dict[int, list[dict[str, Any]]] = {}
        originals: list[Request] = []
        for inspection, establishment in rows:
            if inspection.team_id not in checklists:
                checklists[inspection.team_id] = [
                    {"code": i.code, "text_vi": i.text_vi, "counts_workers": i.counts_workers,
                     "counts_devices": i.counts_devices, "risk_factor": i.risk_factor}
                    for i in logic.checklist_for(session, inspection)]
            view = InspectionOut(id=inspection.id, campaign_code=CODE, establishment_name=establishment.name,
                                 tax_code=establishment.tax_code, address=establishment.address,
                                 scheduled_on=inspection.scheduled_on, status="scheduled", team="",
                                 checklist=checklists[inspection.team_id], violations=[], competent_signer=None)
            client_id = f"bench-{inspection.id}-v1"
            body = json.dumps({"client_submission_id": client_id, "findings": observed_findings(view, establishment)},
                              ensure_ascii=False).encode()
            originals.append(Request(f"/api/inspections/{inspection.id}/findings", body,
                                     {"Authorization": f"Bearer {tokens[heads[inspection.team_id]]}",
                                      "Content-Type": "application/json"}, client_id))
    retries = round(args.submissions * args.retry_share)
    unique = args.submissions - retries
    if len(originals) < unique:
        raise SystemExit(f"only {len(originals)} inspections were scheduled, {unique} are needed")
    rng = random.Random(2026)
    order: list[Request] = list(originals[:unique])
    # each retry goes 10–200 places after its original: close enough that some race it on other connections
    for original in rng.sample(range(unique), retries):
        order.insert(min(len(order), order.index(originals[original]) + rng.randint(10, 200)), originals[original])
    return order


def check_database(settings: Any, outcome: Outcome) -> dict[str, int]:
    import sqlalchemy as sa
    from sqlmodel import select

    from models import Finding, Submission
    from services.db import session_scope

    with session_scope(settings) as session:
        stored: dict[str, list[int]] = {}
        for client_id, submission_id in session.exec(select(Submission.client_submission_id, Submission.id)).all():
            stored.setdefault(client_id, []).append(submission_id)
        findings = session.execute(sa.select(sa.func.count(sa.distinct(Finding.submission_id)))).scalar_one()
    lost = sum(1 for cid, ids in outcome.acknowledged.items() if not ids <= set(stored.get(cid, [])))
    duplicated = sum(len(ids) - 1 for ids in stored.values()) + sum(len(ids) - 1 for ids in outcome.acknowledged.values())
    return {"lost": lost, "duplicated": duplicated, "stored": len(stored),
            "stored_without_findings": len(stored) - int(findings)}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=5000)
    parser.add_argument("--retry-share", type=float, default=0.10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--inspections", type=int, default=4600)
    parser.add_argument("--establishments", type=int, default=12_000)
    parser.add_argument("--teams", type=int, default=14)
    parser.add_argument("--profile", type=Path, default=None, help="record the intake server with py-spy into this dir")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    with tempfile.TemporaryDirectory(prefix="kiemtra-intake-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        start = time.perf_counter()
        settings, tokens = seed(data_dir, args)
        requests = workload(settings, tokens, args)
        seed_s = time.perf_counter() - start
        print(f"seeded and scheduled in {seed_s:.1f} s; {len(requests)} requests over "
              f"{len({r.client_id for r in requests})} inspections")

        server = start_server("intake", data_dir, args.profile)
        try:
            cpu0 = server.cpu_s()
            intake = drive(server.port, requests, args.clients)
            intake.server_cpu_s = server.cpu_s() - cpu0
        finally:
            server.stop()
        checks = check_database(settings, intake)

        runs = {}
        for kind in ("trivial", "parse-only"):
            reference = start_server(kind, data_dir)
            try:
                cpu0 = reference.cpu_s()
                runs[kind] = drive(reference.port, requests, args.clients)
                runs[kind].server_cpu_s = reference.cpu_s() - cpu0
            finally:
                reference.stop()
        baseline, floor = runs["trivial"], runs["parse-only"]

    for name, o in (("intake", intake), ("baseline", baseline), ("parse-only floor", floor)):
        print(f"{name}: {len(o.latencies)} answers in {o.wall_s:.2f} s = {len(o.latencies) / o.wall_s:.0f}/s, "
              f"p50 {percentile_ms(o.latencies, 50)} ms, p99 {percentile_ms(o.latencies, 99)} ms, "
              f"statuses {dict(sorted(o.statuses.items()))}, load generator CPU {o.client_cpu_s / o.wall_s:.2f} core, "
              f"server CPU {o.server_cpu_s / o.wall_s:.2f} core ({o.server_cpu_s / max(1, len(o.latencies)) * 1000:.2f} ms a request)")
    for failure in intake.failures[:10]:
        print(f"  intake failure: {failure}")
    if args.profile:
        print(f"py-spy profile: {args.profile / 'intake.txt'}")
    submissions_per_s = len(intake.latencies) / intake.wall_s
    baseline_per_s = len(baseline.latencies) / baseline.wall_s
    print(json.dumps({
        "submissions": len(requests), "clients": args.clients, "retries": round(args.submissions * args.retry_share),
        "submissions_per_s": round(submissions_per_s, 1), "baseline_per_s": round(baseline_per_s, 1),
        "ratio_vs_baseline": round(submissions_per_s / baseline_per_s, 3),
        "p50_ms": percentile_ms(intake.latencies, 50), "p99_ms": percentile_ms(intake.latencies, 99),
        "baseline_p50_ms": percentile_ms(baseline.latencies, 50), "baseline_p99_ms": percentile_ms(baseline.latencies, 99),
        "server_ms_per_request": round(intake.server_cpu_s / len(intake.latencies) * 1000, 3),
        "baseline_server_ms_per_request": round(baseline.server_cpu_s / len(baseline.latencies) * 1000, 3),
        "floor_per_s": round(len(floor.latencies) / floor.wall_s, 1),
        "floor_ratio_vs_baseline": round(len(floor.latencies) / floor.wall_s / baseline_per_s, 3),
        "statuses": {str(k): v for k, v in sorted(intake.statuses.items())}, "failed": len(intake.failures),
        "acknowledged": len(intake.acknowledged), **checks,
        "client_cpu_share": round(intake.client_cpu_s / intake.wall_s, 3),
        "baseline_client_cpu_share": round(baseline.client_cpu_s / baseline.wall_s, 3),
        "seed_s": round(seed_s, 1)}))
    if checks["lost"] or checks["duplicated"] or intake.failures:  # correctness is not a figure: it fails the run
        raise SystemExit(1)


if __name__ == "__main__":
    main()
