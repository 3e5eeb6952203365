"""Benchmark: placing a province's campaign on team-days with ``services.rules.schedule.place_visits``.

2,000 inspections spread over Cao Bằng's 56 communes (the 2025 list shipped with the project) with a
skewed size per commune, 20 teams of 3 inspectors, 40 working days from 2 March 2026 (the real calendar),
``per_team_day`` visits per team per day. About 10% of establishments declare 1–3 unavailable days, 2%
have a conflict of interest with one inspector, and two teams are busy elsewhere for 3 days. The last
printed line is one JSON object.

Note: with ``per_team_day = 2`` the period holds 20 × 40 × 2 = 1,600 visits, fewer than 2,000, so that
instance is infeasible (the benchmark reports the refusal); the default is 3 visits a day.

    python benchmarks/scheduling.py [--inspections 2000] [--teams 20] [--days 40] [--per-team-day 3]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.rules.calendar import working_days  # noqa: E402
from services.errors import StageBlocked  # noqa: E402
from services.registry.geo import load_units  # noqa: E402
from services.rules.schedule import TeamSpec, Visit, place_visits  # noqa: E402

START = date(2026, 3, 2)


Instance = tuple[list[Visit], list[TeamSpec], list[date], dict[int, frozenset[int]]]


def instance(inspections: int, teams: int, n_days: int, seed: int = 7) -> Instance:
    rng = random.Random(seed)
    days = list(working_days(START, date(2026, 12, 31)))[:n_days]
    communes = [c.code for c in load_units().communes("04")]
    weights = [rng.paretovariate(1.2) for _ in communes]  # a few busy towns, many small communes
    visits = []
    for i in range(inspections):
        unavailable = frozenset(rng.sample(days, rng.randint(1, 3))) if rng.random() < 0.10 else frozenset()
        visits.append(Visit(10_000 + i, rng.choices(communes, weights)[0], rank=i + 1, unavailable=unavailable))
    specs = [TeamSpec(t, frozenset({3 * t, 3 * t + 1, 3 * t + 2}),
                      busy=frozenset(days[5 + t:8 + t]) if t < 2 else frozenset()) for t in range(teams)]
    conflicts = {v.establishment_id: frozenset({rng.randrange(3 * teams)}) for v in visits if rng.random() < 0.02}
    return visits, specs, days, conflicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inspections", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--per-team-day", type=int, default=3)
    args = parser.parse_args()
    visits, teams, days, conflicts = instance(args.inspections, args.teams, args.days)
    lower = -(-len(visits) // args.per_team_day)
    start = time.perf_counter()
    try:
        placements = place_visits(visits, teams=teams, days=days, per_team_day=args.per_team_day, conflicts=conflicts)
    except StageBlocked as refused:
        elapsed = time.perf_counter() - start
        print(f"refused: {refused.message}")
        print(json.dumps({"schedule_s": round(elapsed, 3), "refused": refused.message, "per_team_day": args.per_team_day,
                          "team_days_lower_bound": lower}, ensure_ascii=False))
        return
    elapsed = time.perf_counter() - start
    commune = {v.establishment_id: v.commune_code for v in visits}
    team_days: dict[tuple[int, date], set[str]] = {}
    for p in placements:
        team_days.setdefault((p.team_index, p.day), set()).add(commune[p.establishment_id])
    used = len(team_days)
    print(f"{len(visits)} inspections, {len(teams)} teams, {len(days)} days, {args.per_team_day} a team-day: "
          f"{used} team-days (lower bound {lower}), last day {max(p.day for p in placements)}")
    print(json.dumps({"schedule_s": round(elapsed, 3), "inspections": len(visits), "teams": len(teams), "days": len(days),
                      "per_team_day": args.per_team_day, "team_days_used": used, "team_days_lower_bound": lower,
                      "communes_per_team_day": round(sum(map(len, team_days.values())) / used, 4),
                      "ratio_vs_lower_bound": round(used / lower, 4)}))


if __name__ == "__main__":
    main()
