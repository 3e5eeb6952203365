"""Placing visits on team-days (services/rules/schedule.py); working days (services/calendar.py)."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from services.calendar import add_working_days, is_working_day, working_days
from services.errors import StageBlocked
from services.rules.schedule import Placement, Visit, place_visits

# 23 visits over 5 communes of uneven size; ranks interleave across communes
COMMUNES = {"01273": 7, "01279": 1, "01288": 5, "01290": 6, "01300": 4}


def create_visits() -> list[Visit]:
    visits, n = [], 0
    for commune, how_many in COMMUNES.items():
        for _ in range(how_many):
            n += 1
            visits.append(Visit(establishment_id=100 + n, commune_code=commune, rank=(n * 7) % 23 + 1))
    return visits


DAYS = list(working_days(date(2026, 3, 5), date(2026, 4, 30)))


def place(visits: list[Visit], teams: int = 3, per_team_day: int = 2) -> list[Placement]:
    return place_visits(visits, teams=teams, days=DAYS, per_team_day=per_team_day)


@pytest.mark.parametrize(("teams", "per_team_day"), [(1, 1), (2, 2), (3, 2), (4, 3)])
def test_every_visit_is_placed_once_within_capacity_in_one_commune_per_team_day(teams: int,
                                                                                 per_team_day: int) -> None:
    visits = create_visits()
    placements = place(visits, teams, per_team_day)

    assert sorted(p.establishment_id for p in placements) == sorted(v.establishment_id for v in visits)
    commune = {v.establishment_id: v.commune_code for v in visits}
    team_days: dict[tuple[int, date], list[int]] = defaultdict(list)
    for p in placements:
        assert 0 <= p.team_index < teams
        assert p.day in DAYS
        team_days[(p.team_index, p.day)].append(p.establishment_id)
    for members in team_days.values():
        assert len(members) <= per_team_day
        assert len({commune[e] for e in members}) == 1


def test_days_come_only_from_the_given_list_earliest_first() -> None:
    days = [date(2026, 3, 5), date(2026, 3, 9), date(2026, 3, 11), date(2026, 3, 16), date(2026, 3, 20)]
    placements = place_visits(create_visits(), teams=4, days=days, per_team_day=2)
    # communes of 7, 1, 5, 6, 4 visits at 2 a day: 4 + 1 + 3 + 3 + 2 = 13 team-days; 4 teams → 4 days
    assert len(placements) == 23
    assert {p.day for p in placements} == set(days[:4])


def test_too_few_days_is_refused_with_a_clear_vietnamese_message() -> None:
    visits = create_visits()  # 13 team-days at 2 a day (see the commune sizes)
    with pytest.raises(StageBlocked) as refused:
        place_visits(visits, teams=4, days=DAYS[:3], per_team_day=2)
    assert refused.value.message == (
        "Không đủ ngày làm việc: cần 4 ngày cho 23 cuộc kiểm tra với 4 đoàn, nhưng thời gian đợt kiểm tra "
        "(sau thời hạn thông báo) chỉ còn 3 ngày làm việc.")
    assert refused.value.ids == {"needed_days": 4, "available_days": 3}
    assert len(place_visits(visits, teams=4, days=DAYS[:4], per_team_day=2)) == 23  # one more day is enough


def test_no_visit_needs_no_day() -> None:
    assert place_visits([], teams=2, days=[], per_team_day=2) == []


# --------------------------------------------------------------------------- calendar


def test_tet_2026_is_not_worked() -> None:
    # Tết Bính Ngọ: Mon 16 – Fri 20 February 2026 are public holidays (holidays library), 21–22 a weekend.
    for day in range(16, 21):
        assert not is_working_day(date(2026, 2, day)), day
    # Fri 13 Feb + 1 working day → Mon 23 Feb
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # Thu 12 Feb + 3 → Fri 13 (1), Mon 23 (2), Tue 24 (3)
    assert add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    # starting on a holiday, n = 0 gives the first working day from there
    assert add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 23)
    assert list(working_days(date(2026, 2, 13), date(2026, 2, 24))) == [date(2026, 2, 13), date(2026, 2, 23),
                                                                      date(2026, 2, 24)]


def test_gio_to_hung_vuong_2026_is_observed_on_monday() -> None:
    # Giỗ Tổ Hùng Vương (10/3 âm lịch) falls on Sunday 26 April 2026; the holiday moves to Monday 27 April.
    assert not is_working_day(date(2026, 4, 27))
    # Fri 24 Apr + 1 → Sat 25, Sun 26, Mon 27 (observed holiday) skipped → Tue 28 Apr
    assert add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)
    # Fri 24 Apr + 3 → Tue 28 (1), Wed 29 (2); Thu 30/4 and Fri 1/5 holidays, weekend; Mon 4 May (3)
    assert add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)


def test_an_ordinary_week() -> None:
    # Mon 2 Mar 2026 + 3 working days (the notice period) → Thu 5 Mar; + 5 → Mon 9 Mar
    assert add_working_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    week = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
    assert Counter(is_working_day(day) for day in week) == {True: 5, False: 2}
