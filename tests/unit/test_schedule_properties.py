"""Property tests of services/rules/schedule.py over random small instances (hypothesis).

Feasibility is judged by an independent, deliberately naive oracle: a textbook augmenting-path matching
of visits to copies of (team, day) places. Whatever the instance, a returned schedule breaks no rule, and
the function refuses exactly the instances the oracle cannot solve.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from services.rules.calendar import working_days
from services.errors import StageBlocked
from services.rules.schedule import Placement, TeamSpec, Visit, place_visits, reschedule

ALL_DAYS = list(working_days(date(2026, 3, 2), date(2026, 3, 13)))  # 10 working days
COMMUNES = ["01273", "01279", "01288", "01290"]
PEOPLE = range(8)


@dataclass(frozen=True)
class Instance:
    visits: list[Visit]
    teams: list[TeamSpec]
    days: list[date]
    per_team_day: int
    conflicts: dict[int, frozenset[int]]


@st.composite
def instances(draw: st.DrawFn, constrained: bool = True) -> Instance:
    days = ALL_DAYS[:draw(st.integers(1, 6))]
    subset = st.frozensets(st.sampled_from(days), max_size=len(days)) if constrained else st.just(frozenset[date]())
    teams = [TeamSpec(i, draw(st.frozensets(st.sampled_from(PEOPLE), min_size=1, max_size=3)), draw(subset))
             for i in draw(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True))]
    visits = [Visit(1000 + i, draw(st.sampled_from(COMMUNES)), draw(st.integers(1, 30)), draw(subset))
              for i in range(draw(st.integers(0, 14)))]
    conflicts = {}
    if constrained:
        for v in visits:
            people = draw(st.frozensets(st.sampled_from(PEOPLE), max_size=2))
            if people:
                conflicts[v.establishment_id] = people
    return Instance(visits, teams, days, draw(st.integers(1, 3)), conflicts)


def allowed(i: Instance, visit: Visit, team: TeamSpec, day: date) -> bool:
    return (day in i.days and day not in visit.unavailable and day not in team.busy
            and not team.members & i.conflicts.get(visit.establishment_id, frozenset()))


def oracle_feasible(i: Instance, barred: Mapping[int, frozenset[date]] | None = None) -> bool:
    places = [(t, d, k) for t in i.teams for d in i.days for k in range(i.per_team_day)]
    holder: dict[int, Visit] = {}

    def seat(v: Visit, seen: set[int]) -> bool:
        for n, (t, d, _) in enumerate(places):
            if n in seen or not allowed(i, v, t, d) or d in (barred or {}).get(v.establishment_id, frozenset()):
                continue
            seen.add(n)
            if n not in holder or seat(holder[n], seen):
                holder[n] = v
                return True
        return False

    return all(seat(v, set()) for v in i.visits)


def assert_keeps_every_rule(i: Instance, placements: Sequence[Placement]) -> None:
    assert sorted(p.establishment_id for p in placements) == sorted(v.establishment_id for v in i.visits)
    visit = {v.establishment_id: v for v in i.visits}
    team = {t.index: t for t in i.teams}
    for p in placements:
        assert allowed(i, visit[p.establishment_id], team[p.team_index], p.day), p
    assert max(Counter((p.team_index, p.day) for p in placements).values(), default=0) <= i.per_team_day


def place(i: Instance) -> list[Placement]:
    return place_visits(i.visits, teams=i.teams, days=i.days, per_team_day=i.per_team_day, conflicts=i.conflicts)


@settings(max_examples=300, deadline=None, database=None)
@given(instances())
def test_a_schedule_keeps_every_rule_and_only_impossible_instances_are_refused(i: Instance) -> None:
    if oracle_feasible(i):
        assert_keeps_every_rule(i, place(i))
    else:
        with pytest.raises(StageBlocked):
            place(i)


@settings(max_examples=200, deadline=None, database=None)
@given(instances(constrained=False))
def test_without_constraints_no_capacity_is_wasted(i: Instance) -> None:
    if len(i.visits) > len(i.teams) * len(i.days) * i.per_team_day:
        return
    placements = place(i)
    assert len({(p.team_index, p.day) for p in placements}) == -(-len(i.visits) // i.per_team_day)


@settings(max_examples=300, deadline=None, database=None)
@given(instances(), st.data())
def test_reschedule_keeps_every_rule_and_moves_as_little_as_possible(i: Instance, data: st.DataObject) -> None:
    if not i.visits or not oracle_feasible(i):
        return
    before = place(i)
    target = data.draw(st.sampled_from(before))
    not_on = data.draw(st.frozensets(st.sampled_from(i.days), max_size=2))
    barred = not_on | {target.day}
    kwargs = dict(visits=i.visits, teams=i.teams, days=i.days, per_team_day=i.per_team_day, conflicts=i.conflicts)
    if not oracle_feasible(i, {target.establishment_id: barred}):
        with pytest.raises(StageBlocked):
            reschedule(before, establishment_id=target.establishment_id, not_on=not_on, **kwargs)  # type: ignore[arg-type]
        return
    after = reschedule(before, establishment_id=target.establishment_id, not_on=not_on, **kwargs)  # type: ignore[arg-type]
    assert_keeps_every_rule(i, after)
    changed = {b.establishment_id for b, a in zip(before, after, strict=True) if b != a}
    moved = next(p for p in after if p.establishment_id == target.establishment_id)
    assert target.establishment_id in changed and moved.day not in barred
    load = Counter((p.team_index, p.day) for p in before)
    visit = next(v for v in i.visits if v.establishment_id == target.establishment_id)
    room_for_it = any(allowed(i, visit, t, d) and d not in barred and load[(t.index, d)] < i.per_team_day
                      for t in i.teams for d in i.days)
    if room_for_it:
        assert changed == {target.establishment_id}
