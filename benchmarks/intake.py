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

The servers bind their socket through ``services.entry.http.server.bind_socket`` (TCP_NODELAY on every
connection); before that fix every response waited 44 ms for a delayed ACK and the "baseline" measured
that wait (~1,000/s at 0.4 core) instead of the server. ``server_ms_per_request`` is the server process's
CPU time per answer, read from /proc.

Afterwards the server is stopped and the database read back: every acknowledged submission (201, or 200
for a retry) must be there with the acknowledged id (``lost`` counts those that are not), and there must
be exactly one row per client id (``duplicated`` counts extra rows). ``client_cpu_share`` is the load
generator's own CPU time over the wall time of a run (1.0 would be one core busy): it says how much of
the 2-core machine the generator takes from the server. The last printed line is one JSON object.

The flood phase (on by default, ``--no-flood`` skips it) runs the same submissions again, on a copy of the
database taken before the first run, while ``--flood-attackers`` threads (default 4) attack the same server:
half send 100 MB bodies with no token (``Content-Length`` announced, the body streamed until an answer comes),
half rotate a 20 MB body of arrays nested 500 deep with no token, the same with a valid token, and a 1 MiB body
nested past the limit with a valid token (an insider's or a stolen one); each attacker pauses ``--flood-pause``
(0.05 s) between attempts, so it measures what bodies cost, not a request-rate flood. The server's resident
memory (VmRSS from /proc) is sampled every 20 ms in both intake runs: before, after and peak. The phase passes
(``flood_targets_met``) when the server grows by less than 50 MB, the submissions' p99 stays within 2× of the
run without the flood, and nothing is lost or duplicated. Before services/entry/http/limits.py every one of those
bodies was read to its end before the token was checked: with the app's middleware taken out, the phase measured
(600 submissions) +1,241 MB of server memory, a p99 of 28 s (48× the quiet run) and 7 submissions/s instead of 199;
with it (the default 5,000), +15.5 MB, a p99 of 265 ms against 335 ms quiet, 0 lost, 0 duplicated.

    python benchmarks/intake.py [--submissions 5000] [--clients 50] [--inspections 4600] [--profile DIR]
                                [--no-flood] [--flood-attackers 4] [--flood-pause 0.05]

``--profile DIR`` records the intake server with py-spy (if installed) into DIR/intake.speedscope.json
and DIR/intake.txt (collapsed stacks).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import select
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
        from services.entry.http.app import create_app
        from services.settings import Settings

        app = create_app(Settings(environment="development", data_dir=Path(data_dir)))
    elif kind == "parse-only":
        app = _parse_only_app()
    else:
        app = _trivial_app()
    from services.entry.http.server import bind_socket

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

    def rss_mb(self) -> float:
        """The server process's resident memory now (VmRSS), from /proc."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024

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


# --------------------------------------------------------------------------- the flood


class MemoryWatch:
    """Samples the server's resident memory every 20 ms in a thread: before, peak and after, in MB."""

    def __init__(self, server: Server) -> None:
        self.server, self.before, self.peak, self.after = server, server.rss_mb(), server.rss_mb(), 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.server.rss_mb())

    def finish(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.after = self.server.rss_mb()
        self.peak = max(self.peak, self.after)
        return {"rss_before_mb": round(self.before, 1), "rss_peak_mb": round(self.peak, 1),
                "rss_after_mb": round(self.after, 1), "rss_growth_mb": round(self.peak - self.before, 1)}


@dataclass(frozen=True)
class Attempt:
    kind: str
    path: str
    headers: dict[str, str]
    length: int  # announced Content-Length
    body: bytes  # sent over and over until ``length`` bytes have gone (or an answer came)


@dataclass
class Attacks:
    statuses: dict[str, int] = field(default_factory=dict)  # "kind status" → count
    answer_ms: list[float] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # body bytes the attacker got out before the answer
    errors: list[str] = field(default_factory=list)


def attempts(path: str, token: str) -> tuple[list[Attempt], list[Attempt]]:
    """The two attackers' rotations: 100 MB with no token; nested bodies with and without a token."""
    nested_20mb = b"[" + b",".join([b"[" * 500 + b"]" * 500] * (20 * 1024 * 1024 // 1001)) + b"]"
    one = b"[" * 40 + b"]" * 40
    nested_1mib = b"[" + b",".join([one] * ((1024 * 1024 - 64) // (len(one) + 1))) + b"]"
    json_type = {"Content-Type": "application/json"}
    bearer = {**json_type, "Authorization": f"Bearer {token}"}
    big = [Attempt("100 MB, no token", path, json_type, 100 * 1024 * 1024, b"[" * 65536)]
    nested = [Attempt("20 MB nested, no token", path, json_type, len(nested_20mb), nested_20mb),
              Attempt("20 MB nested, token", path, bearer, len(nested_20mb), nested_20mb),
              Attempt("1 MiB nested 41 deep, token", path, bearer, len(nested_1mib), nested_1mib)]
    return big, nested


def attack_once(port: int, a: Attempt, out: Attacks, lock: threading.Lock) -> None:
    """Headers, then the body in 64 KiB pieces until the server answers; the answer is read, the socket closed."""
    start = time.perf_counter()
    sent, answer = 0, b""
    view = memoryview(a.body)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            head = [f"POST {a.path} HTTP/1.1", "Host: bench", f"Content-Length: {a.length}",
                    *(f"{k}: {v}" for k, v in a.headers.items()), "", ""]
            sock.sendall("\r\n".join(head).encode())
            while sent < a.length and not select.select([sock], [], [], 0)[0]:
                offset = sent % len(a.body)
                piece = view[offset:offset + min(65536, a.length - sent)]
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
            while b"\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
    except OSError as e:
        if not answer:
            with lock:
                out.errors.append(f"{a.kind}: {e!r}")
            return
    elapsed_ms = (time.perf_counter() - start) * 1000
    status = answer.split(b" ", 2)[1].decode() if b"\r\n" in answer else "no answer"
    with lock:
        key = f"{a.kind}: {status}"
        out.statuses[key] = out.statuses.get(key, 0) + 1
        out.answer_ms.append(elapsed_ms)
        out.sent.append(sent)


def flood(port: int, token: str, path: str, attackers: int, pause_s: float,
          stop: threading.Event) -> tuple[Attacks, list[threading.Thread]]:
    """Start ``attackers`` threads (half big bodies, half nested ones) that attack until ``stop`` is set."""
    out, lock = Attacks(), threading.Lock()
    big, nested = attempts(path, token)

    def attacker(rotation: list[Attempt]) -> None:
        n = 0
        while not stop.is_set():
            attack_once(port, rotation[n % len(rotation)], out, lock)
            n += 1
            stop.wait(pause_s)

    threads = [threading.Thread(target=attacker, args=(big if i % 2 == 0 else nested,), name=f"attacker-{i}")
               for i in range(attackers)]
    for t in threads:
        t.start()
    return out, threads


# --------------------------------------------------------------------------- the world and the workload


def seed(data_dir: Path, args: argparse.Namespace) -> Any:
    from services.demo import seed as demo_seed
    from services.stages.planning import ensure_campaign
    from services.db import migrate, session_scope
    from services.settings import Settings
    from services.stages import approval, scheduling, selection

    settings = Settings(environment="development", data_dir=data_dir)
    migrate(settings)
    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        tokens = demo_seed.seed_people(session, settings, agencies, teams=args.teams, seed=2026)
        demo_seed.seed_registry(session, n=args.establishments, province_code=demo_seed.PROVINCE, seed=2026, as_of=PERIOD[0])
        ensure_campaign(session, code=CODE, title="Benchmark intake", lead=agencies["SNV"], members=["SYT", "LDLD"],
                             province_code=demo_seed.PROVINCE, period_start=PERIOD[0], period_end=PERIOD[1],
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
    from services.demo.users import observed_findings
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
            findings = observed_findings(view, establishment)
            for f in findings:  # dated as seen: from 10/09/2026 an ended act without a day could fall under two decrees
                if f["result"] == "fail":
                    f["committed_on"] = inspection.scheduled_on.isoformat()
            body = json.dumps({"client_submission_id": client_id, "findings": findings}, ensure_ascii=False).encode()
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


def copy_database(data_dir: Path, to_dir: Path) -> None:
    """A consistent copy of the seeded SQLite database (the backup API), for a second run on the same world."""
    import sqlite3

    to_dir.mkdir(parents=True)
    source, target = sqlite3.connect(data_dir / "kiemtra.db"), sqlite3.connect(to_dir / "kiemtra.db")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    (to_dir / "kiemtra.db").chmod(0o600)  # as the app keeps its database


@dataclass
class Run:
    outcome: Outcome
    memory: dict[str, float]
    checks: dict[str, int]
    attacks: Attacks | None = None


def run_intake(data_dir: Path, requests: list[Request], args: argparse.Namespace, profile_dir: Path | None = None, *,
               attack_token: str | None = None) -> Run:
    """One run of the real server on ``data_dir``; with ``attack_token``, under the flood (the token the insiders use)."""
    from services.settings import Settings

    server = start_server("intake", data_dir, profile_dir)
    stop = threading.Event()
    attacks, attackers = None, []
    try:
        memory = MemoryWatch(server)
        if attack_token is not None:
            attacks, attackers = flood(server.port, attack_token, requests[0].path, args.flood_attackers,
                                       args.flood_pause, stop)
        cpu0 = server.cpu_s()
        outcome = drive(server.port, requests, args.clients)
        outcome.server_cpu_s = server.cpu_s() - cpu0
        stop.set()
        for t in attackers:
            t.join()
        used = memory.finish()
    finally:
        stop.set()
        server.stop()
    return Run(outcome, used, check_database(Settings(environment="development", data_dir=data_dir), outcome), attacks)


def flood_summary(quiet: Run, flooded: Run) -> dict[str, Any]:
    """The flood run's figures against the quiet run, and whether the phase's targets are met."""
    assert flooded.attacks is not None
    p99, quiet_p99 = percentile_ms(flooded.outcome.latencies, 99), percentile_ms(quiet.outcome.latencies, 99)
    growth = flooded.memory["rss_growth_mb"]
    met = (growth < 50 and p99 <= 2 * quiet_p99 and not flooded.checks["lost"] and not flooded.checks["duplicated"]
           and not flooded.outcome.failures)
    a = flooded.attacks
    return {
        "flood_p50_ms": percentile_ms(flooded.outcome.latencies, 50), "flood_p99_ms": p99,
        "flood_p99_vs_quiet": round(p99 / quiet_p99, 2),
        "flood_submissions_per_s": round(len(flooded.outcome.latencies) / flooded.outcome.wall_s, 1),
        "flood_server_cpu_share": round(flooded.outcome.server_cpu_s / flooded.outcome.wall_s, 3),
        "quiet_server_cpu_share": round(quiet.outcome.server_cpu_s / quiet.outcome.wall_s, 3),
        "flood_client_cpu_share": round(flooded.outcome.client_cpu_s / flooded.outcome.wall_s, 3),
        **{f"flood_{k}": v for k, v in flooded.memory.items()},
        "flood_lost": flooded.checks["lost"], "flood_duplicated": flooded.checks["duplicated"],
        "flood_failed": len(flooded.outcome.failures),
        "flood_statuses": {str(k): v for k, v in sorted(flooded.outcome.statuses.items())},
        "attacks": dict(sorted(a.statuses.items())), "attack_errors": len(a.errors),
        "attack_answer_p50_ms": percentile_ms([ms / 1000 for ms in a.answer_ms], 50),
        "attack_answer_max_ms": round(max(a.answer_ms, default=float("nan")), 1),
        "attack_mb_sent_max": round(max(a.sent, default=0) / 1024 / 1024, 1),
        "flood_targets_met": met}


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
    parser.add_argument("--no-flood", dest="flood", action="store_false", help="skip the unauthenticated-flood phase")
    parser.add_argument("--flood-attackers", type=int, default=4)
    parser.add_argument("--flood-pause", type=float, default=0.05, help="seconds each attacker waits between attempts")
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

        flood_dir = Path(tmp) / "flood"
        if args.flood:
            copy_database(data_dir, flood_dir)  # the same world, before the quiet run stores anything

        quiet = run_intake(data_dir, requests, args, args.profile)
        intake, checks = quiet.outcome, quiet.checks
        flooded = run_intake(flood_dir, requests, args, attack_token=tokens["SNV-LEAD"]) if args.flood else None

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
    print(f"intake memory (RSS): {quiet.memory}")
    flood_figures = flood_summary(quiet, flooded) if flooded is not None else {}
    if flooded is not None:
        o = flooded.outcome
        print(f"intake under flood: {len(o.latencies)} answers in {o.wall_s:.2f} s = {len(o.latencies) / o.wall_s:.0f}/s, "
              f"p50 {percentile_ms(o.latencies, 50)} ms, p99 {percentile_ms(o.latencies, 99)} ms, "
              f"statuses {dict(sorted(o.statuses.items()))}, memory (RSS) {flooded.memory}, {flooded.checks}")
        print(f"  attacks: {flood_figures['attacks']}, answered in p50 {flood_figures['attack_answer_p50_ms']} ms / "
              f"max {flood_figures['attack_answer_max_ms']} ms, at most {flood_figures['attack_mb_sent_max']} MB sent "
              f"before the answer")
        for failure in (o.failures + flooded.attacks.errors)[:10]:  # type: ignore[union-attr]
            print(f"  flood failure: {failure}")
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
        **{f"intake_{k}": v for k, v in quiet.memory.items()}, **flood_figures,
        "seed_s": round(seed_s, 1)}))
    lost = checks["lost"] or checks["duplicated"] or intake.failures
    if lost or (flooded is not None and (flooded.checks["lost"] or flooded.checks["duplicated"])):
        raise SystemExit(1)  # correctness is not a figure: it fails the run


if __name__ == "__main__":
    main()
