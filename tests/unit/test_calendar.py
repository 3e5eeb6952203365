"""The working-day calendar (services/rules/calendar.py): every expected date below was worked out by hand.

How to read the reasoning: "Fri 24/1 + 1 → Mon 3/2" means the 1st working day after Friday 24 January.
Sources of the days off: Labour Code 2019 Art.112 cl.1 (1/1, 5 days of Tết, 10/3 lunar, 30/4, 1/5, 2/9 and
one adjacent day) and Art.111 cl.3 (a holiday on a weekly rest day is taken on the next working day), and the
yearly announcements named in services/rules/data/calendar_vn.json. The holidays library is used here only as
a cross-check (test_the_library_disagrees_only_where_we_know_why).
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from holidays.countries.vietnam import VietnamStaticHolidays

from services.rules.calendar import (CALENDAR_DATA, add_working_days, day_off_reason, days_off, is_working_day,
                                     load_calendar_data, swapped_working_days, working_days)
from services.errors import CalendarYearNotCovered, RulesError


def weekdays_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1) if (start + timedelta(days=i)).weekday() < 5]


# ------------------------------------------------------------------------------------------- Tết

def test_tet_2025_at_ty() -> None:
    # Lunar new year Wed 29/1/2025. TB 6150/TB-BLĐTBXH: off Sat 25/1 – Sun 2/2/2025, i.e. Mon 27 – Fri 31/1.
    assert not any(is_working_day(d) for d in weekdays_between(date(2025, 1, 27), date(2025, 1, 31)))
    assert add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)  # Fri 24/1 + 1 → Mon 3/2
    assert add_working_days(date(2025, 1, 23), 2) == date(2025, 2, 3)  # Thu 23/1 + 2 → Fri 24/1 (1), Mon 3/2 (2)


def test_tet_2026_binh_ngo() -> None:
    # Lunar new year Tue 17/2/2026. Announced: off Sat 14/2 – Sun 22/2/2026, i.e. Mon 16 – Fri 20/2.
    assert not any(is_working_day(d) for d in weekdays_between(date(2026, 2, 16), date(2026, 2, 20)))
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)  # Fri 13/2 + 1 → Mon 23/2
    assert add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)  # Thu 12 → Fri 13 (1), Mon 23 (2), Tue 24 (3)
    assert list(working_days(date(2026, 2, 13), date(2026, 2, 24))) == [date(2026, 2, 13), date(2026, 2, 23),
                                                                      date(2026, 2, 24)]


def test_tet_2027_dinh_mui_as_the_labour_code_computes_it() -> None:
    # Lunar new year Sat 6/2/2027. Not yet announced (calendar_vn.json says so): the 5 days run from the eve
    # (Fri 5/2) to mùng 4 (Tue 9/2); the Saturday (mùng 1) is taken on Thu 4/2 and the Sunday (mùng 2) on
    # Wed 10/2, as in every year since 2014 → weekdays off Thu 4/2 – Wed 10/2.
    assert is_working_day(date(2027, 2, 3))
    assert not any(is_working_day(d) for d in weekdays_between(date(2027, 2, 4), date(2027, 2, 10)))
    assert add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)  # Wed 3/2 + 1 → Thu 11/2


# ------------------------------------------------------------------------------- Giỗ Tổ Hùng Vương

def test_gio_to_hung_vuong_2025_2026_2027() -> None:
    # 10/3 lunar: Mon 7/4/2025; Sun 26/4/2026 (taken Mon 27/4); Fri 16/4/2027.
    assert not is_working_day(date(2025, 4, 7))
    assert add_working_days(date(2025, 4, 4), 1) == date(2025, 4, 8)  # Fri 4/4 + 1 → Tue 8/4
    assert not is_working_day(date(2026, 4, 27))
    assert add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)  # Fri 24/4 + 1 → (Mon 27 observed) Tue 28/4
    # Fri 24/4/2026 + 3 → Tue 28 (1), Wed 29 (2); Thu 30/4 and Fri 1/5 holidays, weekend → Mon 4/5 (3)
    assert add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)
    assert not is_working_day(date(2027, 4, 16))
    assert add_working_days(date(2027, 4, 15), 1) == date(2027, 4, 19)  # Thu 15/4 + 1 → Mon 19/4


def test_lunar_dates_agree_with_the_library() -> None:
    # cross-check only: the expected values above are written by hand
    for year, expected in ((2025, date(2025, 4, 7)), (2026, date(2026, 4, 26)), (2027, date(2027, 4, 16))):
        vn = holidays.country_holidays("VN", years=[year], language="en_US")
        assert vn.get_named("Hung Kings' Commemoration Day", lookup="exact") == [expected]
    assert holidays.country_holidays("VN", years=[2027], language="en_US").get_named("Lunar New Year", lookup="exact") \
        == [date(2027, 2, 6)]


# ------------------------------------------------------------------- 30/4–1/5, 2/9 and the swaps

def test_the_2025_swap_saturday_26_april_is_worked_and_friday_2_may_is_off() -> None:
    # 30/4 Wed, 1/5 Thu holidays; Fri 2/5 off in exchange for Sat 26/4 (library, 2025: (5, 2, 4, 26)).
    assert is_working_day(date(2025, 4, 26))
    assert not is_working_day(date(2025, 5, 2))
    assert swapped_working_days(2025) == {date(2025, 4, 26)}
    assert date(2025, 5, 2) in days_off(2025) and date(2025, 4, 26) not in days_off(2025)
    assert add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)  # Fri 25/4 + 1 → the worked Saturday
    assert add_working_days(date(2025, 4, 25), 4) == date(2025, 5, 5)  # Sat 26 (1), Mon 28 (2), Tue 29 (3), Mon 5/5 (4)
    assert list(working_days(date(2025, 4, 26), date(2025, 5, 5))) == [
        date(2025, 4, 26), date(2025, 4, 28), date(2025, 4, 29), date(2025, 5, 5)]


def test_national_day_2025_2026_2027() -> None:
    # 2025: Tue 2/9 + Mon 1/9. Fri 29/8 + 1 → Wed 3/9
    assert add_working_days(date(2025, 8, 29), 1) == date(2025, 9, 3)
    # 2026: Wed 2/9 + Tue 1/9, Mon 31/8 off in exchange for Sat 22/8 (library). Fri 28/8 + 1 → Thu 3/9
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    assert is_working_day(date(2026, 8, 22))
    # 2027: Thu 2/9 + Fri 3/9. Wed 1/9 + 1 → Mon 6/9
    assert add_working_days(date(2027, 9, 1), 1) == date(2027, 9, 6)


def test_new_year_2026_swap_from_the_data_file() -> None:
    # Công văn 12729/VPCP-KGVX: Thu 1/1 holiday, Fri 2/1/2026 off, Sat 10/1/2026 worked instead.
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 5)  # Wed 31/12 + 1 → Mon 5/1
    assert add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 10)  # Fri 9/1 + 1 → the worked Saturday
    assert swapped_working_days(2026) == {date(2026, 1, 10), date(2026, 8, 22)}


def test_a_deadline_starting_on_a_holiday() -> None:
    # Thu 30/4/2026 + 1 → Fri 1/5 holiday, weekend → Mon 4/5; n = 0 from a holiday → the next working day
    assert add_working_days(date(2026, 4, 30), 1) == date(2026, 5, 4)
    assert add_working_days(date(2026, 4, 30), 2) == date(2026, 5, 5)
    assert add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 23)
    assert add_working_days(date(2025, 4, 26), 0) == date(2025, 4, 26)  # the worked Saturday is a working day
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)


def test_an_ordinary_week() -> None:
    # Mon 2/3/2026 + 3 working days (the notice period) → Thu 5/3; + 5 → Mon 9/3
    assert add_working_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    week = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
    assert Counter(is_working_day(day) for day in week) == {True: 5, False: 2}




# ------------------------------------------------------------------------- 24/11 and the data's years

def test_vietnam_culture_day_24_november_2026_is_a_working_day() -> None:
    # holidays==0.109 makes Tue 24/11/2026 a day off; no amended Art.112 confirms it → a working day.
    assert is_working_day(date(2026, 11, 24)) and day_off_reason(date(2026, 11, 24)) is None
    assert add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)  # Mon 23/11 + 1 → Tue 24/11
    assert add_working_days(date(2026, 11, 20), 7) == date(2026, 12, 1)  # Fri 20/11 + 7: Mon 23 … Fri 27, Mon 30, Tue 1/12


def test_a_deadline_running_into_2028_is_computed() -> None:
    # 2028 is covered for limitation periods: Sat 1/1/2028 → nghỉ bù Mon 3/1. Fri 31/12/2027 + 1 → Tue 4/1/2028
    assert add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 4)
    # Tết 2028 (lunar new year Wed 26/1, mùng 4 on Saturday): estimated off Mon 24 – Fri 28/1
    assert not any(is_working_day(d) for d in weekdays_between(date(2028, 1, 24), date(2028, 1, 28)))


@pytest.mark.parametrize("year", [2021, 2029])
def test_a_year_the_data_does_not_cover_is_refused(year: int) -> None:
    with pytest.raises(CalendarYearNotCovered, match=f"năm {year}") as refused:
        is_working_day(date(year, 6, 1))
    assert isinstance(refused.value, RulesError) and "calendar_vn.json" in refused.value.message


def test_day_off_reason_names_the_day_and_its_source() -> None:
    tet = day_off_reason(date(2026, 2, 17))
    assert tet is not None and "Tết Âm lịch" in tet and "Điều 112" in tet
    swapped = day_off_reason(date(2026, 1, 2))
    assert swapped is not None and "12729/VPCP-KGVX" in swapped
    observed = day_off_reason(date(2026, 4, 27))
    assert observed is not None and "Giỗ Tổ" in observed and "Điều 111 khoản 3" in observed
    saturday = day_off_reason(date(2026, 2, 14))
    assert saturday is not None and saturday.startswith("Thứ Bảy")
    assert day_off_reason(date(2026, 1, 10)) is None  # the worked Saturday
    assert day_off_reason(date(2026, 3, 2)) is None


# ------------------------------------------------------------------------------------ data file

def test_the_data_file_covers_2022_to_2027_with_a_source_for_every_entry() -> None:
    data = load_calendar_data()
    assert set(range(2022, 2028)) <= set(data.years_checked)
    assert all(e.name_vi and e.source for e in [*data.days_off.values(), *data.working_weekend_days.values()])
    assert all(d.weekday() < 5 for d in data.days_off) and all(d.weekday() >= 5 for d in data.working_weekend_days)
    assert set(data.working_weekend_days) == {date(2024, 5, 4), date(2025, 4, 26), date(2026, 1, 10), date(2026, 8, 22)}
    assert date(2026, 11, 24) not in data.days_off
    # every estimate says so: Tết 2027 is not announced
    assert all("chưa có thông báo" in data.days_off[d].source for d in weekdays_between(date(2027, 2, 4), date(2027, 2, 10)))
    # 11 holiday days a year from 2022 to 2027 (Art.112 cl.1), plus the swapped-out weekdays: each year's count
    # of weekdays off = 11 − holidays on a weekend (not listed) + their nghỉ bù + swaps
    counts = Counter(d.year for d in data.days_off)
    assert counts == {2022: 11, 2023: 11, 2024: 12, 2025: 12, 2026: 13, 2027: 11, 2028: 11}


GOOD_ENTRY = {"date": "2026-01-02", "name_vi": "Ngày nghỉ hoán đổi", "source": "Công văn 12729/VPCP-KGVX"}


@pytest.mark.parametrize(("content", "message"), [
    ({"days_off": [GOOD_ENTRY]}, "years_checked"),
    ({"years_checked": {"2026": "x"}, "days_off": [{"date": "2026-01-02", "name_vi": "x"}]}, "days_off[0]"),
    ({"years_checked": {"2026": "x"}, "days_off": [{"date": "2026-01-02", "note": "x"}]}, "days_off[0]"),
    ({"years_checked": {"2026": "x"}, "days_off": [{**GOOD_ENTRY, "source": " "}]}, "không được để trống"),
    ({"years_checked": {"2026": "x"}, "days_off": [{**GOOD_ENTRY, "date": "2026-13-02"}]}, "ngày không hợp lệ"),
    ({"years_checked": {"2026": "x"}, "days_off": [GOOD_ENTRY, GOOD_ENTRY]}, "ghi hai lần"),
    ({"years_checked": {"2026": "x"}, "days_off": [GOOD_ENTRY],
      "working_weekend_days": [GOOD_ENTRY]}, "vừa là ngày nghỉ vừa là ngày làm việc"),
    ({"years_checked": {"2026": "x"}, "working_weekend_days": [{**GOOD_ENTRY, "date": "2026-01-05"}]}, "thứ Hai"),
    ({"years_checked": {"2026": "x"}, "days_off": [{**GOOD_ENTRY, "date": "2026-01-03"}]}, "thứ Bảy"),
    ({"years_checked": {"2025": "x"}, "days_off": [GOOD_ENTRY]}, "năm 2026 không có trong 'years_checked'"),
])
def test_an_unusable_data_file_is_refused(tmp_path: Path, content: dict[str, object], message: str) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(RulesError, match=re.escape(message)) as refused:
        load_calendar_data(path)
    assert refused.value.message.startswith("Tệp lịch calendar.json")


def test_the_shipped_file_is_nfc() -> None:
    text = CALENDAR_DATA.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text)


# -------------------------------------------------------------- cross-check with the holidays library

# (day, "off" | "worked", side that has it) → why we accept the disagreement
ACCEPTED_DISAGREEMENTS: dict[tuple[date, str, str], str] = {
    (date(2026, 1, 2), "off", "data only"):
        "Công văn 12729/VPCP-KGVX swaps Fri 2/1/2026 with Sat 10/1/2026; holidays==0.109 does not carry it",
    (date(2026, 1, 10), "worked", "data only"): "the worked side of the same swap (Công văn 12729/VPCP-KGVX)",
    (date(2026, 11, 24), "off", "library only"):
        "Ngày Văn hóa Việt Nam: a Politburo policy (NQ 80-NQ/TW) to be legislated; no amended Labour Code "
        "Art.112 confirmed, so no confirmed legal source",
    (date(2027, 11, 24), "off", "library only"): "Ngày Văn hóa Việt Nam: same as 2026, no confirmed legal source",
    (date(2028, 11, 24), "off", "library only"): "Ngày Văn hóa Việt Nam: same as 2026, no confirmed legal source",
}


def _library_worked_days(year: int) -> set[date]:
    """The worked side of the swaps the library lists (it only lists the day off as a holiday)."""
    worked = set()
    for key in (year - 1, year, year + 1):
        raw = VietnamStaticHolidays.special_public_holidays.get(key, ())
        for entry in [raw] if raw and isinstance(raw[0], int) else list(raw):
            _, _, worked_month, worked_day, *rest = entry
            worked.add(date(rest[0] if rest else key, worked_month, worked_day))
    return {d for d in worked if d.year == year}


def test_the_library_disagrees_only_where_we_know_why() -> None:
    found: set[tuple[date, str, str]] = set()
    for year in sorted(load_calendar_data().years_checked):
        library_off = {d for d in holidays.country_holidays("VN", years=[year]) if d.weekday() < 5}
        for kind, ours, theirs in (("off", days_off(year), library_off),
                                   ("worked", swapped_working_days(year), _library_worked_days(year))):
            found |= {(d, kind, "data only") for d in ours - theirs}
            found |= {(d, kind, "library only") for d in theirs - ours}
    new = sorted(found - set(ACCEPTED_DISAGREEMENTS))
    gone = sorted(set(ACCEPTED_DISAGREEMENTS) - found)
    assert not new and not gone, (
        "the holidays library and calendar_vn.json disagree differently than accepted "
        f"(new: {[(d.isoformat(), k, side) for d, k, side in new]}; "
        f"no longer: {[(d.isoformat(), k, side) for d, k, side in gone]}): check each against a legal text, then "
        "fix calendar_vn.json or ACCEPTED_DISAGREEMENTS with the reason")
