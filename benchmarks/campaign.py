"""Benchmark: a province-scale campaign end to end on the embedded default (SQLite + local Prefect server).

60,000-establishment registry, 400 inspections, 8 teams. The same stages run twice in this process:
through Prefect (the ``run-campaign`` flow and its subflows, against a managed local ``prefect server``)
and as plain function calls, each on its own fresh database. Field users (inspectors, officials) are
simulated through the real intake HTTP API in both. The last line is one JSON object.

    python benchmarks/campaign.py [--establishments 60000] [--inspections 400] [--teams 8]

With ``--workers N`` it measures instead how fast N Prefect process workers issue a campaign's records and decisions
against one worker, on PostgreSQL (``.ci/postgres run python benchmarks/campaign.py --workers 2``; see
benchmarks/campaign_workers.py).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.demo import seed as demo_seed, users as demo_users  # noqa: E402
from services.stages.planning import ensure_campaign  # noqa: E402
from services.db import migrate, session_scope  # noqa: E402
from services.entry.http.server import start_in_thread  # noqa: E402
from services.settings import Settings, get_settings  # noqa: E402
from services.stages import publishing, records, sanctions, schedule_docs, scheduling, selection, status  # noqa: E402
from models import InspectionStatus  # noqa: E402

CODE = "BENCH-2026-01"


def _setup(data_dir: Path, args: argparse.Namespace, database_url: str | None = None
           ) -> tuple[Settings, dict[str, str], float]:
    settings = Settings(environment="development", data_dir=data_dir, prefect_port=args.prefect_port,
                        database_url=database_url)
    migrate(settings)
    start = time.perf_counter()
    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        tokens = demo_seed.seed_people(session, settings, agencies, teams=args.teams, seed=2026)
        demo_seed.seed_registry(session, n=args.establishments, province_code=demo_seed.PROVINCE, seed=2026, as_of=date(2026, 3, 2))
        ensure_campaign(session, code=CODE, title="Benchmark", lead=agencies["SNV"], members=["SYT", "LDLD"],
                             province_code=demo_seed.PROVINCE, period_start=date(2026, 3, 2), period_end=date(2026, 5, 29),
                             quota=args.inspections, teams=args.teams, actor="bench")
    return settings, tokens, time.perf_counter() - start


def _field(settings: Settings, tokens: dict[str, str], step: str) -> float:
    start = time.perf_counter()
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            if step == "lead":
                demo_users.simulate_lead_review(http, tokens["SNV-LEAD"], CODE)
            elif step == "inspectors":
                demo_users.simulate_inspectors(settings, http, tokens, CODE)
                demo_users.simulate_findings_review(http, tokens["SNV-LEAD"], CODE)
            else:
                demo_users.simulate_officials(http, tokens, {"SNV-GD": "Giám đốc Sở Nội vụ",
                                                       "UBND-CT": "Chủ tịch Ủy ban nhân dân tỉnh"}, CODE)
    finally:
        server.stop()
    return time.perf_counter() - start


def _campaign(settings: Settings, tokens: dict[str, str], run_stages: Callable[[], None]) -> dict[str, float]:
    t: dict[str, float] = {"stages": 0.0, "field": 0.0}
    for field_step in ("lead", "inspectors", "officials", None):
        start = time.perf_counter()
        run_stages()
        t["stages"] += time.perf_counter() - start
        if field_step:
            t["field"] += _field(settings, tokens, field_step)
    return t


def plain_stages(settings: Settings) -> Callable[[], None]:
    """The same stages as run-campaign, as plain calls (no Prefect at all)."""
    def run() -> None:
        state = status.campaign_status(settings, CODE)
        if state["status"] == "draft":
            selection.select_establishments(settings, CODE)
        if status.campaign_status(settings, CODE)["status"] == "approved":
            scheduling.schedule_inspections(settings, CODE)
            schedule_docs.issue_schedule_documents(settings, CODE)
        records.issue_records(settings, CODE, records.pending_inspection_ids(settings, CODE, InspectionStatus.FINDINGS_APPROVED))
        with session_scope(settings) as session:
            from services.stages.common import get_campaign
            campaign_id = get_campaign(session, CODE).id
        sanctions.decide_sanctions(settings, CODE, sanctions.ready_inspection_ids(settings, campaign_id))
        sanctioned = records.pending_inspection_ids(settings, CODE, InspectionStatus.SANCTIONED)
        if sanctioned and publishing.publish_outcomes(settings, CODE, sanctioned).details["campaign_closed"]:
            from services.reports.campaign_report import issue_campaign_report
            from services.rules.calendar import today_in_vietnam

            issue_campaign_report(settings, CODE, issued_on=today_in_vietnam(), actor="system")  # as the flow does
        publishing.close_campaign_if_done(settings, CODE)
    return run


def prefect_stages() -> Callable[[], None]:
    from services.entry.cli.in_process import in_process_run
    from flows.run_campaign import run_campaign

    def run() -> None:
        with in_process_run():
            run_campaign(CODE)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=60_000)
    parser.add_argument("--inspections", type=int, default=400)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--prefect-port", type=int, default=4399)
    parser.add_argument("--workers", type=int, default=0,
                        help="PostgreSQL + prefect server: documents/s with 1 and with this many process workers")
    parser.add_argument("--database-url", default="", help="with --workers: a PostgreSQL admin URL "
                                                           "(default KIEMTRA_TEST_DATABASE_URL, as .ci/postgres run sets)")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    logging.getLogger("prefect").setLevel(logging.WARNING)
    if args.workers:
        from benchmarks import campaign_workers

        print(json.dumps(campaign_workers.main(args, CODE)))
        return
    from services.runtime.server import ensure_server, stop_server

    with tempfile.TemporaryDirectory(prefix="kiemtra-bench-") as tmp:
        root = Path(tmp)
        plain_settings, plain_tokens, plain_seed_s = _setup(root / "plain", args)
        plain = _campaign(plain_settings, plain_tokens, plain_stages(plain_settings))
        plain_state = status.campaign_status(plain_settings, CODE)
        print(f"plain:   seed {plain_seed_s:.1f}s, stages {plain['stages']:.1f}s, field {plain['field']:.1f}s, "
              f"{plain_state['status']}, documents {plain_state['documents']}", flush=True)

        prefect_settings, prefect_tokens, seed_s = _setup(root / "prefect", args)
        # flows build their settings from the environment, as a worker's would
        os.environ["KIEMTRA_DATA_DIR"] = str(prefect_settings.data_dir)
        get_settings.cache_clear()
        start = time.perf_counter()
        ensure_server(prefect_settings)
        server_start_s = time.perf_counter() - start
        try:
            orchestrated = _campaign(prefect_settings, prefect_tokens, prefect_stages())
        finally:
            stop_server(prefect_settings)
        state = status.campaign_status(prefect_settings, CODE)
        print(f"prefect: seed {seed_s:.1f}s, server start {server_start_s:.1f}s, stages {orchestrated['stages']:.1f}s, "
              f"field {orchestrated['field']:.1f}s, {state['status']}, documents {state['documents']}", flush=True)
        assert state["documents"] == plain_state["documents"], "both paths must produce the same documents"
        total_s = seed_s + orchestrated["stages"] + orchestrated["field"]
        figures: dict[str, Any] = {
            "establishments": args.establishments, "inspections": state["selected"], "teams": args.teams,
            "documents": sum(state["documents"].values()), "violations": state["violations"],
            "campaign_status": state["status"],
            "total_s": round(total_s, 2), "seed_registry_s": round(seed_s, 2),
            "prefect_server_start_s": round(server_start_s, 2),
            "stages_prefect_s": round(orchestrated["stages"], 2), "stages_plain_s": round(plain["stages"], 2),
            "field_http_s": round(orchestrated["field"], 2),
            "orchestration_overhead_s": round(orchestrated["stages"] - plain["stages"], 2),
            "overhead_ratio": round(orchestrated["stages"] / plain["stages"], 3),
        }
        # the document checker (tests/document_checker.py) over every document the campaign issued
        from tests.document_checker import check_store

        store = prefect_settings.documents_path
        documents = [(path, path.stem.rsplit("-", 1)[0]) for path in sorted(store.rglob("*.pdf"))
                     if "selection" not in path.parts]
        start = time.perf_counter()
        found = check_store(documents)
        figures |= {"documents_checked": len(documents), "documents_with_problems": len(found),
                    "check_s": round(time.perf_counter() - start, 2)}
        for path, problems in list(found.items())[:10]:
            print(f"{path.relative_to(store)}: {problems[0]}")
        print(json.dumps(figures))
        if found:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
