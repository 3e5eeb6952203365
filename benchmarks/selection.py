"""Benchmark: risk-based selection at national scale on the embedded default (SQLite).

1,000,000 establishments in five provinces (the same five as before every commune list came from vietnam-provinces). Selects
the top 2,000 for one province (Cao Bằng) and nationally through the real stage function (eligibility,
control sample, factor explanations, storage, registry fingerprint, audit), and measures in the same
run a raw SQL ``ORDER BY <score> LIMIT 2000`` over the same data (the same score expression, as SQL
text on a bare sqlite3 connection). Also imports a 100,000-row CSV through the registry importer.

The engine's own history is exercised: ``--visits`` inspections of an earlier campaign (default 20,000, on random
establishments, dated over the three years before the start; a fifth of them sanctioned with a decided fine) are
read by the eligibility (NOT EXISTS) and past-violations (count) subqueries through the index on
``inspection.establishment_id``. The raw SQL baseline uses the same score expression, history included;
``raw_sql_registry_only_s`` is the score without the history subquery, for comparison. The plan SQLite chose for
the history subqueries is printed. The last line is one JSON object.

    python benchmarks/selection.py [--rows 1000000] [--quota 2000] [--visits 20000]
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.dialects import sqlite as sqlite_dialect  # noqa: E402

from models import Establishment, Finding, Inspection, Person, Submission, Team, Violation  # noqa: E402
from services.demo import seed as demo_seed  # noqa: E402
from services.stages.planning import ensure_campaign  # noqa: E402
from services.db import migrate, session_scope, upsert_insert  # noqa: E402
from services.registry.fingerprint import with_derived  # noqa: E402
from services.demo.registry import generate_registry  # noqa: E402
from services.rules.risk import policy_for  # noqa: E402
from services.rules.risk import SANCTIONED_STATUSES, VISITED_STATUSES  # noqa: E402
from services.rules.risk_sql import eligible, score_expression  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.stages import selection  # noqa: E402

PROVINCES = ["04", "20", "24", "22", "51"]  # Cao Bằng, Lạng Sơn, Bắc Ninh, Quảng Ninh, Quảng Ngãi
START = date(2026, 3, 2)


def seed(settings: Settings, rows: int) -> float:
    start = time.perf_counter()
    table = Establishment.__table__  # type: ignore[attr-defined]
    with session_scope(settings) as session:
        demo_seed.seed_people(session, settings, demo_seed.seed_agencies(session), teams=1, seed=1)
        insert = upsert_insert(session, table).on_conflict_do_nothing(index_elements=["tax_code"])
        batch = []
        for row in generate_registry(rows, province_codes=PROVINCES, seed=11, as_of=START):
            batch.append(with_derived(row))
            if len(batch) == 20_000:
                session.execute(insert, batch)
                batch = []
        if batch:
            session.execute(insert, batch)
    return time.perf_counter() - start


def campaign(settings: Settings, code: str, province: str | None, quota: int, start: date = START) -> int:
    with session_scope(settings) as session:
        agencies = demo_seed.seed_agencies(session)
        c, _ = ensure_campaign(session, code=code, title=code, lead=agencies["SNV"], members=["SYT"],
                                    province_code=province or "04", period_start=start,
                                    period_end=start + timedelta(days=120), quota=quota, teams=1, actor="bench")
        c.province_code = province
        session.add(c)
        session.flush()
        assert c.id is not None
        return c.id


def seed_history(settings: Settings, rows: int, visits: int) -> float:
    """``visits`` inspections of one earlier campaign on distinct random establishments, dated over the 3 years
    before the start: a fifth sanctioned (a decided fine), a tenth only scheduled, the rest visited."""
    if visits <= 0:
        return 0.0
    started = time.perf_counter()
    campaign_id = campaign(settings, "BENCH-HISTORY", None, visits, start=date(2023, 3, 1))
    rng = random.Random(23)
    insp, sub, fin, vio = (m.__table__ for m in (Inspection, Submission, Finding, Violation))  # type: ignore[attr-defined]
    with session_scope(settings) as session:
        conn = session.connection()
        team_id = conn.execute(sa.insert(Team.__table__).values(  # type: ignore[attr-defined]
            campaign_id=campaign_id, number=1, name="Đoàn lịch sử")).inserted_primary_key[0]
        person_id = session.exec(sa.select(Person.id).limit(1)).scalar_one()  # type: ignore[call-overload]
        ids = rng.sample(range(1, rows + 1), visits)
        statuses = [s for s in VISITED_STATUSES if s not in SANCTIONED_STATUSES]
        batch = []
        for n, establishment_id in enumerate(ids):
            kind = n % 10
            status = ("sanctioned" if kind < 2 else "scheduled" if kind == 2 else statuses[n % len(statuses)])
            batch.append({"campaign_id": campaign_id, "establishment_id": establishment_id, "team_id": team_id,
                          "scheduled_on": START - timedelta(days=rng.randint(1, 3 * 365)), "status": status})
        conn.execute(sa.insert(insp), batch)
        sanctioned = [r.id for r in conn.execute(sa.select(insp.c.id).where(insp.c.status == "sanctioned"))]
        conn.execute(sa.insert(sub), [{"client_submission_id": f"bench-{i}", "inspection_id": i, "version": 1,
                                       "submitted_by_id": person_id, "content_sha256": "0" * 64, "payload": [],
                                       "edit_reason": "", "complete": True} for i in sanctioned])
        subs = dict(conn.execute(sa.select(sub.c.inspection_id, sub.c.id).where(sub.c.inspection_id.in_(
            sa.select(insp.c.id).where(insp.c.status == "sanctioned")))).all())
        conn.execute(sa.insert(fin), [{"inspection_id": i, "submission_id": subs[i], "item_code": "HL-01",
                                       "result": "fail", "note": "", "evidence": []} for i in sanctioned])
        findings = dict(conn.execute(sa.select(fin.c.inspection_id, fin.c.id)).all())
        conn.execute(sa.insert(vio), [{"inspection_id": i, "finding_id": findings[i], "provision_code": "bench",
                                       "proposed_amount": 10_000_000, "range_min": 5_000_000, "range_max": 15_000_000,
                                       "reasoning": [], "final_amount": 10_000_000} for i in sanctioned])
    return time.perf_counter() - started


def history_plan(settings: Settings) -> list[str]:
    """SQLite's plan for the national eligibility and score: the history subqueries must search the index."""
    table = Establishment.__table__  # type: ignore[attr-defined]
    policy = policy_for(START)
    query = (sa.select(table.c.id).where(eligible(table, policy, START, 0))
             .order_by(score_expression(table, policy, START, 0).desc()).limit(10))
    sql = str(query.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))
    conn = sqlite3.connect(settings.data_dir / "kiemtra.db")
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    conn.close()
    return plan


def timed_selection(settings: Settings, code: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = selection.select_establishments(settings, code)
    return time.perf_counter() - start, result.done


def raw_sql(settings: Settings, quota: int, history: bool = True) -> tuple[float, list[int]]:
    table = Establishment.__table__  # type: ignore[attr-defined]
    score = score_expression(table, policy_for(START), START, history=history)
    sql = str(sa.select(table.c.id).order_by(score.desc()).limit(quota)
              .compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))
    conn = sqlite3.connect(settings.data_dir / "kiemtra.db")
    start = time.perf_counter()
    ids = [r[0] for r in conn.execute(sql)]
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, ids


def import_csv(root: Path, rows: int) -> float | None:
    try:
        from services.registry.export import export_registry_csv
        from services.registry.importer import import_registry
    except ImportError:
        return None
    settings = Settings(environment="development", data_dir=root / "import")
    migrate(settings)
    path = root / "registry-100k.csv"
    export_registry_csv(generate_registry(rows, province_codes=PROVINCES, seed=5, as_of=START), path)
    start = time.perf_counter()
    import_registry(settings, path, actor="bench")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quota", type=int, default=2000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=20_000, help="inspections of an earlier campaign (engine history)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiemtra-bench-sel-") as tmp:
        root = Path(tmp)
        settings = Settings(environment="development", data_dir=root / "national")
        migrate(settings)
        seed_s = seed(settings, args.rows)
        print(f"seeded {args.rows} establishments in {seed_s:.1f}s", flush=True)
        history_s = seed_history(settings, args.rows, min(args.visits, args.rows))
        print(f"seeded {args.visits} engine inspections in {history_s:.1f}s", flush=True)
        plan = history_plan(settings)
        print("plan: " + " | ".join(plan), flush=True)
        raw_warm_s, _ = raw_sql(settings, args.quota)  # warms the page cache for every measurement alike
        campaign(settings, "BENCH-PROVINCE", "04", args.quota)
        campaign(settings, "BENCH-NATIONAL", None, args.quota)
        province_s, province_n = timed_selection(settings, "BENCH-PROVINCE")
        national_s, national_n = timed_selection(settings, "BENCH-NATIONAL")
        raw_s = min(raw_sql(settings, args.quota)[0] for _ in range(3))
        raw_registry_s = min(raw_sql(settings, args.quota, history=False)[0] for _ in range(3))
        print(f"province {province_s:.2f}s ({province_n}), national {national_s:.2f}s ({national_n}), raw SQL {raw_s:.2f}s",
              flush=True)
        verify_start = time.perf_counter()
        verified = selection.verify_selection(settings, "BENCH-NATIONAL")
        verify_s = time.perf_counter() - verify_start
        import_s = import_csv(root, args.import_rows)
        print(json.dumps({
            "rows": args.rows, "quota": args.quota, "visits": args.visits, "seed_s": round(seed_s, 2),
            "province_s": round(province_s, 3), "national_s": round(national_s, 3), "raw_sql_s": round(raw_s, 3),
            "raw_sql_registry_only_s": round(raw_registry_s, 3),
            "ratio_vs_raw_sql": round(national_s / raw_s, 3), "verify_national_s": round(verify_s, 3),
            "verify_identical": verified["identical"], "verify_history_unchanged": verified["history_unchanged"],
            "history_subqueries_use_index": all("USING INDEX ix_inspection_establishment_id" in p
                                                for p in plan if "engine_" in p or "recent_visit" in p),
            "import_100k_csv_s": None if import_s is None else round(import_s, 2),
        }))


if __name__ == "__main__":
    main()
