"""The Vietnamese working-day calendar: weekends and public holidays (lunar ones included).

Public holidays come from the maintained ``holidays`` library (Tết, Giỗ Tổ Hùng Vương, observed days);
the government's announced day swaps are data that a later issue adds. One service for every deadline.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=[year]).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        if is_working_day(day):
            yield day
        day += timedelta(days=1)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (n ≥ 0; n = 0 gives the first working day from start)."""
    day = start
    if n == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    count = 0
    while count < n:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return day
