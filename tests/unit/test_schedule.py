"""Placing visits on team-days (services/rules/schedule.py)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from services.rules.calendar import working_days
from services.errors import NotFound, StageBlocked
from services.rules.schedule import Placement, TeamSpec, Visit, place_visits, reschedule

# 23 visits over 5 communes of uneven size; ranks interleave across communes
COMMUNES = {"01273": 7, "01279": 1, "01288": 5, "01290": 6, "01300": 4}
DAYS = list(working_days(date(2026, 3, 5), date(2026, 4, 30)))


def create_visits(**unavailable: frozenset[date]) -> list[Visit]:
    visits, n = [], 0
    for commune, how_many in COMMUNES.items():
        for _ in range(how_many):
            n += 1
            visits.append(Visit(100 + n, commune, rank=(n * 7) % 23 + 1,
                                unavailable=unavailable.get(f"e{100 + n}", frozenset())))
    return visits


def create_teams(n: int, **busy: frozenset[date]) -> list[TeamSpec]:
    return [TeamSpec(i, frozenset({10 * i + 1, 10 * i + 2}), busy.get(f"t{i}", frozenset())) for i in range(n)]


def team_days(placements: list[Placement]) -> dict[tuple[int, date], list[int]]:
    out: dict[tuple[int, date], list[int]] = defaultdict(list)
    for p in placements:
        out[(p.team_index, p.day)].append(p.establishment_id)
    return out


@pytest.mark.parametrize(("teams", "per_team_day"), [(1, 1), (2, 2), (3, 2), (4, 3)])
def test_every_visit_once_within_capacity_on_the_fewest_team_days(teams: int, per_team_day: int) -> None:
    visits = create_visits()
    placements = place_visits(visits, teams=create_teams(teams), days=DAYS, per_team_day=per_team_day)

    assert sorted(p.establishment_id for p in placements) == sorted(v.establishment_id for v in visits)
    assert all(p.day in DAYS and 0 <= p.team_index < teams for p in placements)
    used = team_days(placements)
    assert all(len(members) <= per_team_day for members in used.values())
    assert len(used) == -(-23 // per_team_day)  # no capacity wasted: 23, 12, 12, 8 team-days


def test_a_team_day_mixes_communes_only_for_the_lonely_leftovers() -> None:
    # at 2 a day the communes of 7, 1, 5 visits each leave one visit over: two of them share a team-day,
    # the third is alone on the last one; every other team-day stays in one commune
    commune = {v.establishment_id: v.commune_code for v in create_visits()}
    placements = place_visits(create_visits(), teams=create_teams(3), days=DAYS, per_team_day=2)
    mixed = [m for m in team_days(placements).values() if len({commune[e] for e in m}) > 1]
    assert len(mixed) == 1 and {commune[e] for e in mixed[0]} <= {"01273", "01279", "01288"}


def test_higher_risk_visits_come_first() -> None:
    # one commune, no constraint: days follow rank exactly
    visits = [Visit(500 + i, "01273", rank=20 - i) for i in range(20)]
    placements = place_visits(visits, teams=create_teams(2), days=DAYS, per_team_day=2)
    rank = {v.establishment_id: v.rank for v in visits}
    by_day = sorted(placements, key=lambda p: (p.day, rank[p.establishment_id]))
    assert [rank[p.establishment_id] for p in by_day] == sorted(rank.values())
    assert {p.day for p in placements} == set(DAYS[:5])


def test_unavailable_days_busy_teams_and_conflicts_are_respected() -> None:
    first = DAYS[0]
    visits = create_visits(e101=frozenset(DAYS[:3]))
    teams = create_teams(2, t0=frozenset(DAYS[:2]))
    conflicts = {102: frozenset({1}), 103: frozenset({12})}  # 102: not team 0 (person 1); 103: not team 1
    placements = place_visits(visits, teams=teams, days=DAYS, per_team_day=2, conflicts=conflicts)
    at = {p.establishment_id: p for p in placements}
    assert at[101].day not in DAYS[:3]
    assert all(p.day not in DAYS[:2] for p in placements if p.team_index == 0)
    assert at[102].team_index == 1 and at[103].team_index == 0
    assert any(p.day == first for p in placements)  # team 1 still works the first day


def test_the_result_does_not_depend_on_input_order() -> None:
    visits = create_visits()
    teams = create_teams(3)
    assert place_visits(visits, teams=teams, days=DAYS, per_team_day=2) == \
        place_visits(visits[::-1], teams=teams[::-1], days=DAYS[::-1], per_team_day=2)


def test_no_visit_needs_no_day() -> None:
    assert place_visits([], teams=[], days=[], per_team_day=2) == []


# ------------------------------------------------------------------------------------- refusals

def test_too_few_days_is_refused_with_the_numbers() -> None:
    # 23 visits at 2 a day need 12 team-days; 4 teams × 3 days, team 0 busy one day → 11
    with pytest.raises(StageBlocked) as refused:
        place_visits(create_visits(), teams=create_teams(4, t0=frozenset({DAYS[1]})), days=DAYS[:3], per_team_day=2)
    assert refused.value.message == (
        "Không đủ ngày làm việc cho đợt kiểm tra: cần 12 lượt đoàn-ngày cho 23 cuộc kiểm tra (tối đa 2 cuộc mỗi đoàn "
        "mỗi ngày), còn 11 lượt đoàn-ngày (3 ngày làm việc, 4 đoàn, trừ ngày đoàn bận).")
    assert refused.value.ids == {"needed_team_days": 12, "available_team_days": 11}
    assert len(place_visits(create_visits(), teams=create_teams(4), days=DAYS[:3], per_team_day=2)) == 23


def test_an_establishment_every_team_conflicts_with_is_named() -> None:
    conflicts = {105: frozenset({1, 11, 99})}  # persons 1 (team 0) and 11 (team 1)
    with pytest.raises(StageBlocked) as refused:
        place_visits(create_visits(), teams=create_teams(2), days=DAYS, per_team_day=2, conflicts=conflicts)
    assert refused.value.message == ("Không thể xếp lịch cơ sở 105: đoàn nào cũng có thành viên có xung đột lợi ích với "
                                     "cơ sở (người 1, 11, 99) trong 2 đoàn.")
    assert refused.value.ids == {"establishment_id": 105, "person_ids": [1, 11, 99]}


def test_an_establishment_with_no_possible_day_is_named() -> None:
    visits = create_visits(e104=frozenset(DAYS[:2]))
    with pytest.raises(StageBlocked) as refused:
        place_visits(visits, teams=create_teams(2, t1=frozenset(DAYS[2:3])), days=DAYS[:3], per_team_day=5,
                     conflicts={104: frozenset({1})})
    assert refused.value.ids == {"establishment_id": 104}
    assert refused.value.message.startswith("Không thể xếp lịch cơ sở 104: trong 3 ngày làm việc của đợt, không ngày nào")


def test_too_many_visits_for_the_only_days_they_can_take_are_named_together() -> None:
    # 101–103 can only be visited on the first day, one team, 2 a day: three visits for two places
    only_first = frozenset(DAYS[1:4])
    visits = [Visit(100 + i, "01273", rank=i, unavailable=only_first) for i in (1, 2, 3)] + [Visit(104, "01273", 4)]
    with pytest.raises(StageBlocked) as refused:
        place_visits(visits, teams=create_teams(1), days=DAYS[:4], per_team_day=2)
    assert refused.value.message == (
        "Không thể xếp lịch cơ sở 103: 3 cơ sở (101, 102, 103) chỉ có thể được kiểm tra trong 1 lượt đoàn-ngày "
        "(2 chỗ), do ngày cơ sở không tiếp được, ngày đoàn bận và xung đột lợi ích; cần 3 chỗ.")
    assert refused.value.ids == {"establishment_id": 103, "establishment_ids": [101, 102, 103], "team_days": 1}


# ------------------------------------------------------------------------------------ reschedule

def test_reschedule_moves_only_the_establishment_when_a_team_day_has_room() -> None:
    visits, teams = create_visits(), create_teams(3)
    before = place_visits(visits, teams=teams, days=DAYS, per_team_day=2)
    target = before[0]
    after = reschedule(before, establishment_id=target.establishment_id, visits=visits, teams=teams, days=DAYS,
                       per_team_day=2, not_on=frozenset(DAYS[1:3]))
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert [b for b, _ in changed] == [target]
    moved = changed[0][1]
    assert moved.day not in {target.day, *DAYS[1:3]}
    assert all(len(m) <= 2 for m in team_days(after).values())


def test_reschedule_moves_a_second_visit_only_when_it_must() -> None:
    # one team, two days, 2 a day, all four places taken; 101 cannot come on day 0 and 104 not on day 1
    days = DAYS[:2]
    visits = [Visit(101, "01273", 1, frozenset({days[0]})), Visit(102, "01273", 2), Visit(103, "01273", 3),
              Visit(104, "01273", 4, frozenset({days[1]}))]
    before = [Placement(101, 0, days[1]), Placement(102, 0, days[1]), Placement(103, 0, days[0]), Placement(104, 0, days[0])]
    after = reschedule(before, establishment_id=102, visits=visits, teams=create_teams(1), days=days, per_team_day=2)
    # 102 goes to day 0; 103 (free to move) comes to day 1; 101 and 104 stay
    assert after == [Placement(101, 0, days[1]), Placement(102, 0, days[0]), Placement(103, 0, days[1]),
                     Placement(104, 0, days[0])]
    with pytest.raises(StageBlocked) as refused:  # 101 can take no other day
        reschedule(before, establishment_id=101, visits=visits, teams=create_teams(1), days=days, per_team_day=2)
    assert refused.value.ids["establishment_id"] == 101
    assert "sang ngày khác (trừ ngày" in refused.value.message


def test_reschedule_of_an_unscheduled_establishment_is_not_found() -> None:
    with pytest.raises(NotFound):
        reschedule([], establishment_id=7, visits=[], teams=create_teams(1), days=DAYS, per_team_day=2)
