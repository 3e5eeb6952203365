"""Circumstances of an act (services/rules/circumstances.py): catalog, derived circumstances, selection, amount.

Expected values are worked out by hand from the rules, not from the code:
- Luật XLVPHC Art.7 (shipped in data, unconfirmed): a person is considered sanctioned for 06 months after complying
  with a warning, 01 year after complying with another sanction or after the enforcement limitation expired; Art.8:
  periods follow the Civil Code (start the day after, end at the END of the corresponding day — the last day is in).
- NĐ 118/2021 Art.9 as amended (DOMAIN.md §3; fines.choose_amount): midpoint; net one mitigating → middle of
  minimum..midpoint; two or more → minimum; symmetric for aggravating; they cancel one for one.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.errors import StageBlocked
from services.rules.circumstances import (Kind, PriorFinding, PriorSanction, add_months, amount_needs_reason, build_selection,
                                          check_selection, derive_many_times, derive_repeat, describe_circumstances,
                                          load_circumstances, propose_amount)
from services.errors import CircumstancesError, SelectionRejected, UnknownCircumstance
from services.settings import RULES_DIR

DATA = RULES_DIR / "circumstances_xlvphc.json"
ON = date(2026, 9, 15)


@pytest.fixture(scope="module")
def catalog():
    return load_circumstances(ON)


def prior(**kw: Any) -> PriorSanction:
    base: dict[str, Any] = dict(act_key="ATVSLD-huan-luyen", decision_ref="05/QĐ-XPHC", decided_on=date(2026, 3, 10),
                                complied_on=date(2026, 3, 25), enforcement_expired_on=None, warning_only=False,
                                source="engine")
    base.update(kw)
    return PriorSanction(**base)


# --------------------------------------------------------------------------- catalog


def test_catalog_has_every_point_of_art9_and_art10_cl1(catalog) -> None:
    # Art.9 has clauses 1–8; Art.10 cl.1 has points a–m (no j, no f in Vietnamese lettering: a b c d đ e g h i k l m),
    # point b holding two circumstances (nhiều lần; tái phạm) → 8 + 13 = 21 entries.
    assert [e.point_vi for e in catalog.mitigating()] == [f"khoản {n} Điều 9" for n in range(1, 9)]
    points = [e.point_vi.split()[1] for e in catalog.aggravating()]
    assert points == ["a", "b", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m"]
    for entry in catalog:
        assert entry.text_vi and entry.short_vi and entry.point_vi
        assert unicodedata.is_normalized("NFC", entry.text_vi)
        assert entry.confirmed is False and "gazette" in entry.source
    assert {e.code for e in catalog if e.derived} == {"tang_nang_tai_pham", "tang_nang_nhieu_lan"}
    assert catalog.get("tang_nang_tai_pham").kind is Kind.AGGRAVATING
    assert catalog.get("giam_nhe_khac_phuc").point_vi == "khoản 1 Điều 9"
    assert catalog.citation_vi("tang_nang_tai_pham") == "điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính"
    with pytest.raises(UnknownCircumstance):
        catalog.get("khong_co")


def test_window_data_and_version(catalog) -> None:
    rw = catalog.repeat_window
    assert (rw.warning_months, rw.other_sanction_months, rw.after_enforcement_expiry_months) == (6, 12, 12)
    assert "Art.7" in rw.source and catalog.many_times.limitation_months == 12
    assert catalog.part_of_act.point_vi == "khoản 2 Điều 10"
    assert catalog.effective_from == date(2022, 1, 1)
    with pytest.raises(StageBlocked):
        load_circumstances(date(2021, 12, 31))


def _write(folder: Path, raw: dict[str, Any], name: str = "circumstances_xlvphc.json") -> None:
    (folder / name).write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")


def test_validation_names_file_and_key(tmp_path: Path) -> None:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    raw["circumstances"][1]["point_vi"] = "điểm a khoản 1 Điều 10"  # a mitigating entry with an aggravating point
    _write(tmp_path, raw)
    with pytest.raises(CircumstancesError) as err:
        load_circumstances(ON, tmp_path)
    assert "circumstances_xlvphc.json" in err.value.message and "circumstances[1].point_vi" in err.value.message


def test_later_version_is_loaded_from_its_date(tmp_path: Path) -> None:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    _write(tmp_path, raw)
    newer = dict(raw, version="2027.1", effective_from="2027-01-01")
    _write(tmp_path, newer, "circumstances_xlvphc_2027.json")
    assert load_circumstances(date(2026, 12, 31), tmp_path).version == "2022.1"
    assert load_circumstances(date(2027, 1, 1), tmp_path).version == "2027.1"


# --------------------------------------------------------------------------- tái phạm


def test_repeat_within_one_year_of_compliance(catalog) -> None:
    # Decided 10/03/2026, complied 25/03/2026 → considered sanctioned until the end of 25/03/2027.
    # New act committed 15/09/2026 is inside → tái phạm.
    found = derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 15), [prior()], catalog)
    assert found is not None and found.code == "tang_nang_tai_pham"
    assert found.sentence_vi.startswith("Tái phạm: đã bị xử phạt về hành vi này theo Quyết định số 05/QĐ-XPHC ngày "
                                        "10/03/2026, chấp hành xong ngày 25/03/2026")
    assert found.sentence_vi.endswith("chưa hết thời hạn để được coi là chưa bị xử phạt (đến hết ngày 25/03/2027)")
    assert "điểm b khoản 1 Điều 10" in found.basis_vi and found.origin == "engine"


def test_repeat_window_boundary(catalog) -> None:
    # 25/03/2027 is the last day of the 1-year period (Civil Code rule) → still a repeat; 26/03/2027 → not.
    assert derive_repeat("ATVSLD-huan-luyen", date(2027, 3, 25), [prior()], catalog) is not None
    assert derive_repeat("ATVSLD-huan-luyen", date(2027, 3, 26), [prior()], catalog) is None


def test_repeat_after_a_warning_is_six_months(catalog) -> None:
    # Warning complied 25/03/2026 → window ends 25/09/2026.
    warning = prior(warning_only=True)
    assert derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 25), [warning], catalog) is not None
    assert derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 26), [warning], catalog) is None


def test_repeat_when_not_complied_and_not_expired(catalog) -> None:
    # Neither complied with nor past its enforcement limitation: still considered sanctioned, however late.
    open_prior = prior(complied_on=None)
    found = derive_repeat("ATVSLD-huan-luyen", date(2028, 1, 1), [open_prior], catalog)
    assert found is not None and "chưa chấp hành xong" in found.sentence_vi


def test_repeat_after_enforcement_expiry(catalog) -> None:
    # Enforcement limitation expired 10/03/2027 → window ends 10/03/2028.
    expired = prior(complied_on=None, enforcement_expired_on=date(2027, 3, 10))
    assert derive_repeat("ATVSLD-huan-luyen", date(2028, 3, 10), [expired], catalog) is not None
    assert derive_repeat("ATVSLD-huan-luyen", date(2028, 3, 11), [expired], catalog) is None


def test_prior_decided_after_the_act_or_other_act_is_not_a_repeat(catalog) -> None:
    # Act committed 01/03/2026, decision of 10/03/2026 came later → the person had not been sanctioned yet.
    assert derive_repeat("ATVSLD-huan-luyen", date(2026, 3, 1), [prior()], catalog) is None
    assert derive_repeat("ATVSLD-huan-luyen", date(2026, 3, 10), [prior()], catalog) is None  # same day: doubt favours
    assert derive_repeat("ATVSLD-kham-suc-khoe", date(2026, 9, 15), [prior()], catalog) is None


def test_most_recent_decision_is_named(catalog) -> None:
    older = prior(decision_ref="01/QĐ-XPHC", decided_on=date(2026, 1, 5), complied_on=date(2026, 1, 20))
    found = derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 15), [older, prior(source="import")], catalog)
    assert found is not None and "05/QĐ-XPHC" in found.sentence_vi and len(found.evidence) == 2
    assert found.origin == "import"


def test_prior_sanction_rejects_impossible_dates() -> None:
    with pytest.raises(ValueError, match="complied_on"):
        prior(complied_on=date(2026, 3, 1))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


# --------------------------------------------------------------------------- vi phạm hành chính nhiều lần


def test_many_times_counts_unsanctioned_occurrences_within_limitation(catalog) -> None:
    # Decided 20/09/2026. Earlier unsanctioned occurrence of 01/02/2026: limitation ends 01/02/2027 → counts.
    # Occurrence of 10/09/2025: limitation ended 10/09/2026 < 20/09/2026 → does not count. A sanctioned one never counts.
    findings = [("A", date(2026, 2, 1), date(2026, 9, 10), False), ("A", date(2025, 9, 10), date(2026, 9, 10), False),
                PriorFinding("A", date(2026, 3, 1), date(2026, 3, 5), True), ("B", date(2026, 4, 1), date(2026, 9, 10), False)]
    found = derive_many_times("A", date(2026, 9, 10), findings, catalog, on=date(2026, 9, 20))
    assert found is not None and found.code == "tang_nang_nhieu_lan"
    assert "01 lần trước đó (ngày 01/02/2026" in found.sentence_vi
    assert derive_many_times("A", date(2026, 9, 10), findings[1:], catalog, on=date(2026, 9, 20)) is None


# --------------------------------------------------------------------------- selection


def test_selection_errors(catalog) -> None:
    errors = check_selection(["giam_nhe_khac_phuc", "giam_nhe_khong_co", "giam_nhe_khac_phuc", "tang_nang_co_to_chuc"],
                             ["tang_nang_tai_pham", "tang_nang_nhieu_lan"], [], catalog)
    assert errors[0] == "mitigating[1]: không có tình tiết mã 'giam_nhe_khong_co'"
    assert errors[1] == "mitigating[2]: trùng với mitigating[0] (mã 'giam_nhe_khac_phuc')"
    assert errors[2].startswith("mitigating[3]: vi phạm có tổ chức (điểm a khoản 1 Điều 10")
    assert errors[2].endswith("là tình tiết tăng nặng, không phải tình tiết giảm nhẹ")
    assert errors[3].startswith("aggravating[0]: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)")
    assert errors[3].endswith("chỉ được áp dụng khi hệ thống xác định được quyết định xử phạt trước đó")
    assert errors[4].startswith("aggravating[1]: vi phạm hành chính nhiều lần")
    assert len(errors) == 5
    assert check_selection(["giam_nhe_khac"], [], [], catalog)[0].startswith("mitigating[0]: khoản 8 Điều 9")


def test_derived_are_always_counted(catalog) -> None:
    repeat = derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 15), [prior()], catalog)
    assert repeat is not None
    # The official did not pick "tái phạm": it is counted anyway. Picking it too is not a duplicate error.
    chosen = build_selection(["giam_nhe_khac_phuc"], [], [repeat], catalog)
    assert chosen.aggravating == ("tang_nang_tai_pham",) and chosen.mitigating == ("giam_nhe_khac_phuc",)
    assert build_selection([], ["tang_nang_tai_pham"], [repeat], catalog).aggravating == ("tang_nang_tai_pham",)
    with pytest.raises(SelectionRejected) as err:
        build_selection(["x"], [], [repeat], catalog)
    assert err.value.errors == ["mitigating[0]: không có tình tiết mã 'x'"]


def test_circumstance_that_is_the_act_is_set_aside(catalog) -> None:
    # Art.10 cl.2: an act defined as "tái phạm …" (e.g. NĐ 283/2026) does not get tái phạm as aggravating too.
    repeat = derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 15), [prior()], catalog)
    assert repeat is not None
    chosen = build_selection([], [], [repeat], catalog, part_of_act={"tang_nang_tai_pham"})
    assert chosen.aggravating == () and chosen.set_aside[0][0] == "tang_nang_tai_pham"
    assert "khoản 2 Điều 10" in chosen.set_aside[0][1]


# --------------------------------------------------------------------------- amount


@pytest.mark.parametrize(("mitigating", "aggravating", "expected"), [
    (0, 0, 60_000_000),  # midpoint (40 + 80) / 2
    (0, 1, 70_000_000),  # between midpoint and maximum: (60 + 80) / 2
    (2, 0, 40_000_000),  # two mitigating → minimum
    (1, 1, 60_000_000),  # they cancel → midpoint
    (1, 0, 50_000_000),  # (40 + 60) / 2
    (0, 3, 80_000_000),  # two or more aggravating → maximum
])
def test_proposal_for_40_to_80_million(mitigating: int, aggravating: int, expected: int) -> None:
    amount, _sentence = propose_amount(40_000_000, 80_000_000, mitigating=mitigating, aggravating=aggravating)
    assert amount == expected


def test_proposal_sentences(catalog) -> None:
    assert propose_amount(40_000_000, 80_000_000, mitigating=0, aggravating=0)[1] == "Không có tình tiết giảm nhẹ, tăng nặng"
    assert (propose_amount(40_000_000, 80_000_000, mitigating=0, aggravating=1, aggravating_labels=["tái phạm"])[1]
            == "Có 01 tình tiết tăng nặng (tái phạm), không có tình tiết giảm nhẹ")
    two_mitigating = propose_amount(40_000_000, 80_000_000, mitigating=2, aggravating=0)[1]
    assert two_mitigating == "Có 02 tình tiết giảm nhẹ, không có tình tiết tăng nặng"
    repeat = derive_repeat("ATVSLD-huan-luyen", date(2026, 9, 15), [prior()], catalog)
    assert repeat is not None
    amount, sentence = build_selection(["giam_nhe_trinh_do"], [], [repeat], catalog).propose(40_000_000, 80_000_000, catalog)
    assert amount == 60_000_000
    assert sentence == "Có 01 tình tiết giảm nhẹ (trình độ lạc hậu) và 01 tình tiết tăng nặng (tái phạm)"
    with pytest.raises(ValueError, match="range_max"):
        propose_amount(80_000_000, 40_000_000, mitigating=0, aggravating=0)
    with pytest.raises(ValueError, match="aggravating_labels"):
        propose_amount(40_000_000, 80_000_000, mitigating=0, aggravating=2, aggravating_labels=["tái phạm"])


def test_amount_needs_reason() -> None:
    assert amount_needs_reason(65_000_000, 70_000_000) is True
    assert amount_needs_reason(70_000_000, 70_000_000) is False


def test_describe_circumstances(catalog) -> None:
    assert (describe_circumstances(["tang_nang_tai_pham"], catalog)
            == "tình tiết tăng nặng: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)")
    assert describe_circumstances(["tang_nang_tai_pham", "giam_nhe_trinh_do"], catalog) == (
        "tình tiết giảm nhẹ: trình độ lạc hậu (khoản 7 Điều 9 Luật Xử lý vi phạm hành chính); "
        "tình tiết tăng nặng: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)")
    assert describe_circumstances([], catalog) == "không có tình tiết giảm nhẹ, tăng nặng"
