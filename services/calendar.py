"""The Vietnamese working-day calendar: one service for every deadline of the engine.

A day is a working day unless it is a Saturday or Sunday or a public holiday, with the Government's
announced day swaps applied both ways (a swapped-out weekday is a day off, the swapped-in Saturday is a
working day). Three sources, read lazily and cached per year (nothing happens at import):

1. ``holidays.country_holidays("VN")`` (holidays==0.109): the Labour Code holidays, Tết and Giỗ Tổ Hùng
   Vương by the lunar calendar, observed (nghỉ bù) days, and the swapped-out weekdays the library knows;
2. ``VietnamStaticHolidays.special_public_holidays``: the same swaps, read here for their *worked* side
   (the library only lists the day off). A year maps to one tuple ``(off_m, off_d, worked_m, worked_d)``
   or to several; a 5th element is the worked day's year when it differs (e.g. 2018: 31/12/2018 off,
   5/1/2019 worked);
3. ``services/rules/data/calendar_vn.json``: swaps and compensatory days the library does not carry,
   each with its source.

The public sector's calendar (công chức, viên chức) is the one used: inspection teams work on it.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.vietnam import VietnamStaticHolidays

from services.rules.fines import RulesError

__all__ = ["CALENDAR_DATA", "CalendarData", "add_working_days", "days_off", "is_working_day", "load_calendar_data",
           "swapped_working_days", "working_days"]

CALENDAR_DATA = Path(__file__).resolve().parent / "rules" / "data" / "calendar_vn.json"


@dataclass(frozen=True)
class CalendarData:
    """The swaps of ``calendar_vn.json``: days off and worked days the library does not know."""
    extra_days_off: frozenset[date]
    extra_working_days: frozenset[date]


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today_in_vietnam() -> date:
    """Today's date in Việt Nam (the servers may run in UTC): the day every deadline and document is counted in."""
    return datetime.now(VIETNAM).date()


def _dates(raw: object, key: str, path: Path) -> frozenset[date]:
    if not isinstance(raw, list):
        raise RulesError(f"Tệp lịch {path.name}: '{key}' phải là một danh sách.", path=str(path))
    out = set()
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("note"):
            raise RulesError(f"Tệp lịch {path.name}: mỗi mục của '{key}' cần 'date' và 'note' (nguồn).",
                             path=str(path), entry=entry)
        try:
            out.add(date.fromisoformat(entry["date"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RulesError(f"Tệp lịch {path.name}: ngày không hợp lệ trong '{key}': {entry.get('date')!r}.",
                             path=str(path), entry=entry) from exc
    return frozenset(out)


@cache
def load_calendar_data(path: Path = CALENDAR_DATA) -> CalendarData:
    """Read and check ``calendar_vn.json`` (cached; raises RulesError on unusable data)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RulesError(f"Không đọc được tệp lịch {path.name}: {exc}", path=str(path)) from exc
    data = CalendarData(_dates(raw.get("extra_days_off", []), "extra_days_off", path),
                        _dates(raw.get("extra_working_days", []), "extra_working_days", path))
    both = data.extra_days_off & data.extra_working_days
    if both:
        raise RulesError(f"Tệp lịch {path.name}: ngày vừa nghỉ vừa làm việc: {sorted(map(str, both))}.", path=str(path))
    return data


def _library_swaps(key_year: int) -> list[tuple[date, date]]:
    """(day off, worked day) pairs the library lists under ``key_year``."""
    raw = VietnamStaticHolidays.special_public_holidays.get(key_year, ())
    entries = [raw] if raw and isinstance(raw[0], int) else list(raw)
    swaps = []
    for entry in entries:
        off_month, off_day, worked_month, worked_day, *rest = entry
        worked_year = rest[0] if rest else key_year
        swaps.append((date(key_year, off_month, off_day), date(worked_year, worked_month, worked_day)))
    return swaps


@lru_cache(maxsize=64)
def swapped_working_days(year: int) -> frozenset[date]:
    """Weekend days of ``year`` that are worked because of an announced swap (library + data file)."""
    worked = {w for key in (year - 1, year, year + 1) for _, w in _library_swaps(key) if w.year == year}
    worked |= {d for d in load_calendar_data().extra_working_days if d.year == year}
    return frozenset(worked)


@lru_cache(maxsize=64)
def days_off(year: int) -> frozenset[date]:
    """Public holidays, observed days and swapped-out days of ``year`` (weekends not included)."""
    off = set(holidays.country_holidays("VN", years=[year]).keys())
    off |= {o for key in (year - 1, year, year + 1) for o, _ in _library_swaps(key) if o.year == year}
    off |= {d for d in load_calendar_data().extra_days_off if d.year == year}
    return frozenset(off - swapped_working_days(year))


def is_working_day(day: date) -> bool:
    if day in swapped_working_days(day.year):
        return True
    return day.weekday() < 5 and day not in days_off(day.year)


def working_days(start: date, end: date) -> Iterator[date]:
    """The working days from ``start`` to ``end``, both included, in order."""
    day = start
    while day <= end:
        if is_working_day(day):
            yield day
        day += timedelta(days=1)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (n ≥ 0; n = 0 gives the first working day from start).

    A deadline of n working days from a holiday counts from the next working day: the holiday itself is
    not a working day and is never counted.
    """
    if n < 0:
        raise ValueError("n must be at least 0")
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
