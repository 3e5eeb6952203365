"""Placing approved inspections on team-days: a pure function (a later issue deepens it).

Inspections are grouped by commune so that a team's day stays in one commune where possible, then
cut into team-days of at most ``per_team_day`` visits, and team-days are dealt to teams round-robin
over the working days of the period, starting after the notice period.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.errors import StageBlocked


@dataclass(frozen=True)
class Visit:
    establishment_id: int
    commune_code: str
    rank: int


@dataclass(frozen=True)
class Placement:
    establishment_id: int
    team_index: int
    day: date


def place_visits(visits: Sequence[Visit], *, teams: int, days: Sequence[date], per_team_day: int) -> list[Placement]:
    if teams < 1 or per_team_day < 1:
        raise ValueError("teams and per_team_day must be at least 1")
    ordered = sorted(visits, key=lambda v: (v.commune_code, v.rank))
    chunks: list[list[Visit]] = []
    for visit in ordered:
        last = chunks[-1] if chunks else None
        if last is not None and len(last) < per_team_day and last[0].commune_code == visit.commune_code:
            last.append(visit)
        else:
            chunks.append([visit])
    needed_days = -(-len(chunks) // teams)
    if needed_days > len(days):
        raise StageBlocked(
            f"Không đủ ngày làm việc: cần {needed_days} ngày cho {len(visits)} cuộc kiểm tra với {teams} đoàn, "
            f"nhưng thời gian đợt kiểm tra (sau thời hạn thông báo) chỉ còn {len(days)} ngày làm việc.",
            needed_days=needed_days, available_days=len(days))
    return [Placement(v.establishment_id, i % teams, days[i // teams]) for i, chunk in enumerate(chunks) for v in chunk]
