"""Which decree judges an act, and the same act across NĐ 12/2022 and NĐ 283/2026. Expected values are written
by hand from NĐ 283/2026 Art.66–67 and NĐ 118/2021 Art.7 cl.2, with the reasoning beside each."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.rules.decrees import (act_key, applicable_decree, counterpart, decree_in_force, decree_of, load_decrees,
                                    parse_catalog)
from services.errors import DecreeError, NoDecreeInForce, UnknownDecree
from services.rules.fines import load_fine_table
from services.errors import RulesError
from services.settings import RULES_DIR

ND12, ND283 = "12/2022/ND-CP", "283/2026/ND-CP"


def test_the_catalog():
    nd12, nd283 = load_decrees()
    # NĐ 283 Art.66 cl.1: "có hiệu lực thi hành từ ngày 10 tháng 9 năm 2026"; cl.4: NĐ 12 "hết hiệu lực thi hành
    # kể từ ngày Nghị định này có hiệu lực thi hành" → NĐ 12's last day is 09/09/2026.
    assert (nd12.key, nd12.in_force_from, nd12.in_force_to) == (ND12, date(2022, 1, 17), date(2026, 9, 9))
    assert (nd283.key, nd283.in_force_from, nd283.in_force_to) == (ND283, date(2026, 9, 10), None)
    assert nd12.confirmed and not nd283.confirmed  # NĐ 283: automatic extraction, not matched to the gazette
    assert nd283.citation_vi.startswith("Nghị định số 283/2026/NĐ-CP ngày 15 tháng 7 năm 2026 của Chính phủ")
    assert nd283.organisation_rule_vi == "khoản 1 Điều 7 Nghị định số 283/2026/NĐ-CP"
    assert nd283.individual_households_rule_vi == "khoản 3 Điều 7 Nghị định số 283/2026/NĐ-CP"
    assert nd12.individual_households_rule_vi == ""  # NĐ 12 Art.3–6 say nothing on hộ kinh doanh


def test_decree_in_force_on_the_boundary():
    assert decree_in_force(date(2026, 9, 9)).key == ND12
    assert decree_in_force(date(2026, 9, 10)).key == ND283


@pytest.mark.parametrize(("committed_on", "ongoing", "discovered_on", "expected"), [
    # ended 09/09/2026, discovered 15/09/2026: it "xảy ra và kết thúc trước thời điểm Nghị định này có hiệu lực"
    # (Art.67 cl.1) → the decree in force when committed: NĐ 12.
    (date(2026, 9, 9), False, date(2026, 9, 15), ND12),
    # began in 2025 and still going on when discovered 10/09/2026: "vẫn đang diễn ra khi Nghị định này đã có
    # hiệu lực" (Art.67 cl.2) → NĐ 283.
    (date(2025, 3, 1), True, date(2026, 9, 10), ND283),
    # ended on 10/09/2026: not "before" NĐ 283 took effect; NĐ 118 Art.7 cl.2 → in force when it ended: NĐ 283.
    (date(2026, 9, 10), False, date(2026, 9, 20), ND283),
    # still going on when discovered 09/09/2026: NĐ 118 Art.7 cl.2 → in force when discovered: NĐ 12.
    (date(2026, 1, 5), True, date(2026, 9, 9), ND12),
    # an ongoing act that began before NĐ 12 existed is judged when discovered, under NĐ 12.
    (date(2021, 6, 1), True, date(2023, 5, 10), ND12),
])
def test_applicable_decree(committed_on, ongoing, discovered_on, expected):
    decree = applicable_decree(committed_on=committed_on, ongoing=ongoing, discovered_on=discovered_on)
    assert decree.key == expected


def test_an_act_ended_before_any_held_decree_is_a_clear_error():
    # ended 31/12/2021: NĐ 28/2020 was in force, and the engine does not hold it
    with pytest.raises(NoDecreeInForce, match="31/12/2021") as caught:
        applicable_decree(committed_on=date(2021, 12, 31), ongoing=False, discovered_on=date(2022, 3, 1))
    assert isinstance(caught.value, RulesError)
    assert caught.value.on == date(2021, 12, 31)


def test_committed_after_discovery_is_an_error():
    with pytest.raises(ValueError, match="sau ngày phát hiện"):
        applicable_decree(committed_on=date(2026, 9, 12), ongoing=False, discovered_on=date(2026, 9, 11))


def test_decree_of_a_code():
    assert decree_of(ND283 + " Art.32 cl.2(b)").number_vi == "Nghị định số 283/2026/NĐ-CP"
    assert decree_of(ND12 + " Art.21 cl.5").key == ND12
    with pytest.raises(UnknownDecree):
        decree_of("28/2020/ND-CP Art.23 cl.1")


# --------------------------------------------------------------------------- the same act


@pytest.mark.parametrize(("code", "expected"), [
    ("Art.21 cl.2(b)", ND283 + " Art.32 cl.2(b)"),  # direct: không bố trí người làm công tác ATVSLĐ
    ("Art.24 cl.1", ND283 + " Art.35 cl.1"),  # direct, reworded (Sở Nội vụ; 30 ngày kể từ ngày đưa vào sử dụng)
    ("Art.27 cl.7(a)", ND283 + " Art.38 cl.8"),  # moved: the point became its own clause
    ("Art.21 cl.5", ND12 + " Art.21 cl.5"),  # none: NĐ 283 has no "đánh giá, phân loại lao động" offence
    ("Art.25 cl.4", ND12 + " Art.25 cl.4"),  # partial only: not the same act
])
def test_act_key_of_nd12_codes(code, expected):
    assert act_key(ND12 + " " + code) == expected


def test_act_key_and_counterpart_of_nd283_codes():
    assert act_key(ND283 + " Art.33 cl.2") == ND283 + " Art.33 cl.2"
    assert counterpart(ND283 + " Art.33 cl.2") == ND12 + " Art.22 cl.2"
    assert counterpart(ND12 + " Art.22 cl.2") == ND283 + " Art.33 cl.2"
    assert counterpart(ND12 + " Art.21 cl.5") is None
    assert counterpart(ND283 + " Art.32 cl.3(h)") is None  # a new point of NĐ 283


def test_every_counterpart_is_a_row_of_its_table():
    table = load_fine_table()
    for row in load_fine_table():
        if row.decree == ND12:
            assert act_key(row.code) in table, row.code


# --------------------------------------------------------------------------- a broken catalog


def _catalog() -> dict:
    return json.loads((RULES_DIR / "decrees.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "key"), [
    (lambda c: c["decrees"][1].update(in_force_from="10/09/2026"), "decrees[1].in_force_from"),
    (lambda c: c["decrees"][0].update(in_force_to="2026-09-10"), "decrees[0].in_force_to"),
    (lambda c: c["decrees"][1].update(key="283/2026/NĐ-CP"), "decrees[1].key"),
    (lambda c: c["decrees"][0].update(confirmed="yes"), "decrees[0].confirmed"),
    (lambda c: c["decrees"][0].pop("citation_vi"), "decrees[0].citation_vi"),
    (lambda c: c.update(limitation_years=0), "limitation_years"),
])
def test_a_broken_catalog_names_file_and_key(change, key):
    catalog = _catalog()
    change(catalog)
    with pytest.raises(DecreeError) as caught:
        parse_catalog(catalog, Path("decrees.json"))
    assert caught.value.ids["key"] == key
    assert "decrees.json" in str(caught.value) and key in str(caught.value)
