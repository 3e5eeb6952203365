"""The Vietnamese working-day calendar: one service for every deadline of the engine.

The public sector's calendar (công chức, viên chức) is the one used: inspection teams work on it. A day is
a working day unless it is a Saturday or Sunday or a listed day off; a listed worked weekend day (làm bù)
is a working day. Everything comes from one file, ``services/rules/data/calendar_vn.json``, read lazily
and cached (nothing happens at import):

* ``days_off``: every weekday off, each ``{date, name_vi, source}`` with its legal basis:
  - the holidays themselves: Bộ luật Lao động 45/2019/QH14 Art.112 cl.1 (1/1; 5 days of Tết; 10/3 lunar;
    30/4; 1/5; 2/9 and one adjacent day), the Prime Minister fixing the Tết days and the day next to 2/9
    (Art.112 cl.3);
  - the compensatory day (nghỉ bù) of a holiday falling on a weekly rest day: Art.111 cl.3;
  - the Tết dates, the day adjacent to 2/9 and the day swaps of each year: the Government Office's /
    Ministry's announcement of that year (Công văn 245/VPCP-KGVX for 2022, 8056/VPCP-KGVX for 2023,
    2450/VPCP-KGVX for the 2024 swap, TB 6150/TB-BLĐTBXH for Tết 2025, 12729/VPCP-KGVX for 1/1/2026…).
  A holiday that itself falls on a Saturday or Sunday is not listed (only its nghỉ bù): a listed weekend
  day off is refused.
* ``working_weekend_days``: the Saturdays worked (làm bù) in exchange for a swapped-out weekday, each with
  the same announcement as source; a listed weekday is refused, and so is a day listed both ways.
* ``years_checked``: the years covered and what was checked for each. A year not listed is refused with
  :class:`CalendarYearNotCovered` rather than silently treated as "every weekday works".

Why no ``holidays`` library at run time: it lists days that no legal text confirmed here makes days off
(holidays==0.109 has 24/11 "Ngày Văn hóa Việt Nam" from 2026: a Politburo policy, not yet an amendment of
Art.112) and misses announced swaps (2/1/2026 ↔ 10/1/2026). A legal deadline must not move on an
unconfirmed day. The library remains a test-only cross-check (tests/unit/test_calendar.py lists, with
reasons, every day on which it and the data disagree).

Years covered: 2022 (inspection files from 17/01/2022 must still be computed) to 2028. Tết 2027 and
2028 and the day adjacent to 2/9 in those years are not announced yet: they are entered as the Labour
Code and the practice of 2014–2026 give them, marked "chưa có thông báo", to be corrected when the Prime
Minister decides. 2028 is covered because the limitation period (thời hiệu, 1 year, Luật XLVPHC Art.6)
of a violation found in 2027 ends in 2028 and the sweeper counts working days back from it for its
warning; its fixed days (1/1, 30/4, 1/5, 2/9, their nghỉ bù) are certain, only Tết and the day adjacent to
2/9 are estimates. Years from 2029 are refused until the data is added: nothing in the tests or the demo
(campaigns in 2026) reaches them, and an estimate three years ahead is worse than a clear error.
"""
from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from services.errors import CalendarYearNotCovered, RulesError

__all__ = ["CALENDAR_DATA", "CalendarData", "CalendarEntry", "CalendarYearNotCovered", "add_working_days",
           "day_off_reason", "days_off", "is_working_day", "load_calendar_data", "swapped_working_days",
           "today_in_vietnam", "working_days"]

CALENDAR_DATA = Path(__file__).resolve().parent / "data" / "calendar_vn.json"

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

_ENTRY_KEYS = frozenset({"date", "name_vi", "source"})
_WEEKDAY_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
# The public sector's two-day weekend: Quyết định 188/1999/QĐ-TTg (40-hour working week).
_WEEKEND_SOURCE = "ngày nghỉ hằng tuần (Quyết định 188/1999/QĐ-TTg, tuần làm việc 40 giờ)"


@dataclass(frozen=True)
class CalendarEntry:
    """One day of ``calendar_vn.json``: a weekday off or a worked weekend day, with its legal source."""
    day: date
    name_vi: str
    source: str


@dataclass(frozen=True)
class CalendarData:
    """The content of ``calendar_vn.json`` once checked."""
    days_off: Mapping[date, CalendarEntry]
    working_weekend_days: Mapping[date, CalendarEntry]
    years_checked: Mapping[int, str]


def today_in_vietnam() -> date:
    """Today's date in Việt Nam (the servers may run in UTC): the day every deadline and document is counted in."""
    return datetime.now(VIETNAM).date()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _entries(raw: object, key: str, path: Path) -> dict[date, CalendarEntry]:
    def refuse(message: str, index: int | None = None, entry: object = None) -> RulesError:
        where = f"'{key}'" if index is None else f"mục {key}[{index}] ({entry!r})"
        return RulesError(f"Tệp lịch {path.name}, {where}: {message}", path=str(path), key=key, index=index,
                          entry=entry)

    if not isinstance(raw, list):
        raise refuse("phải là một danh sách.")
    out: dict[date, CalendarEntry] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            raise refuse("mỗi mục phải có đúng các khóa 'date', 'name_vi', 'source'.", index, entry)
        if not all(isinstance(entry[k], str) and entry[k].strip() for k in _ENTRY_KEYS):
            raise refuse("'date', 'name_vi' và 'source' (căn cứ pháp lý) không được để trống.", index, entry)
        try:
            day = date.fromisoformat(entry["date"])
        except ValueError as exc:
            raise refuse(f"ngày không hợp lệ {entry['date']!r} (cần dạng YYYY-MM-DD).", index, entry) from exc
        if day in out:
            raise refuse(f"ngày {day:%d/%m/%Y} được ghi hai lần.", index, entry)
        out[day] = CalendarEntry(day, _nfc(entry["name_vi"].strip()), _nfc(entry["source"].strip()))
    return out


def _years(raw: object, path: Path) -> dict[int, str]:
    if not isinstance(raw, dict) or not raw:
        raise RulesError(f"Tệp lịch {path.name}: 'years_checked' phải liệt kê các năm đã kiểm tra.", path=str(path))
    years = {}
    for key, note in raw.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4) or not (isinstance(note, str) and note.strip()):
            raise RulesError(f"Tệp lịch {path.name}: 'years_checked' cần năm (4 chữ số) và ghi chú đã kiểm tra gì: "
                             f"{key!r}.", path=str(path), entry=key)
        years[int(key)] = _nfc(note.strip())
    return years


@cache
def load_calendar_data(path: Path = CALENDAR_DATA) -> CalendarData:
    """Read and check ``calendar_vn.json`` (cached; raises RulesError naming the file and entry on unusable data)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RulesError(f"Không đọc được tệp lịch {path.name}: {exc}", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise RulesError(f"Tệp lịch {path.name}: nội dung phải là một đối tượng JSON.", path=str(path))
    years = _years(raw.get("years_checked"), path)
    off = _entries(raw.get("days_off", []), "days_off", path)
    worked = _entries(raw.get("working_weekend_days", []), "working_weekend_days", path)
    for key, entries in (("days_off", off), ("working_weekend_days", worked)):
        for index, entry in enumerate(entries.values()):
            where = f"Tệp lịch {path.name}, mục {key}[{index}] ({entry.day:%d/%m/%Y}, {entry.name_vi})"
            weekday = _WEEKDAY_VI[entry.day.weekday()]
            if entry.day.year not in years:
                raise RulesError(f"{where}: năm {entry.day.year} không có trong 'years_checked'.", path=str(path),
                                 key=key, index=index)
            if key == "working_weekend_days" and entry.day in off:
                raise RulesError(f"{where}: ngày vừa là ngày nghỉ vừa là ngày làm việc.", path=str(path), key=key,
                                 index=index)
            if key == "days_off" and entry.day.weekday() >= 5:
                raise RulesError(f"{where}: ngày nghỉ rơi vào {weekday} (đã là ngày nghỉ hằng tuần); chỉ ghi ngày "
                                 f"nghỉ bù của nó.", path=str(path), key=key, index=index)
            if key == "working_weekend_days" and entry.day.weekday() < 5:
                raise RulesError(f"{where}: ngày làm bù phải là thứ Bảy hoặc Chủ nhật, không phải {weekday}.",
                                 path=str(path), key=key, index=index)
    return CalendarData(MappingProxyType(off), MappingProxyType(worked), MappingProxyType(years))


def _data_for(year: int) -> CalendarData:
    data = load_calendar_data()
    if year not in data.years_checked:
        covered = f"{min(data.years_checked)}–{max(data.years_checked)}"
        raise CalendarYearNotCovered(
            f"Lịch ngày làm việc chưa có dữ liệu cho năm {year} (tệp {CALENDAR_DATA.name} có các năm {covered}): "
            f"cần bổ sung ngày nghỉ lễ, tết và ngày làm bù của năm {year} kèm căn cứ pháp lý.", year=year)
    return data


@lru_cache(maxsize=64)
def swapped_working_days(year: int) -> frozenset[date]:
    """Weekend days of ``year`` that are worked because of an announced swap."""
    return frozenset(d for d in _data_for(year).working_weekend_days if d.year == year)


@lru_cache(maxsize=64)
def days_off(year: int) -> frozenset[date]:
    """Public holidays, nghỉ bù and swapped-out days of ``year`` (weekends not included)."""
    return frozenset(d for d in _data_for(year).days_off if d.year == year)


def is_working_day(day: date) -> bool:
    if day in swapped_working_days(day.year):
        return True
    return day.weekday() < 5 and day not in days_off(day.year)


def day_off_reason(day: date) -> str | None:
    """Why ``day`` is not a working day, in Vietnamese with its source (None when it is a working day)."""
    if is_working_day(day):
        return None
    entry = load_calendar_data().days_off.get(day)
    if entry is not None:
        return f"{entry.name_vi} ({entry.source})"
    weekday = _WEEKDAY_VI[day.weekday()]
    return f"{weekday[0].upper()}{weekday[1:]}: {_WEEKEND_SOURCE}"


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
