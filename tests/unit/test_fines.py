"""Fines of NĐ 12/2022/NĐ-CP: expected numbers are worked out by hand from the gazette text
(``legal/nd12_2022_art20-29.txt``, ``nd12_2022_art3-6.txt``), each with the sentence it comes from."""
from __future__ import annotations

import re
import unicodedata

import pytest

from services.rules import FineBasis, UnitKind, load_fine_table, parse_fine_rows, propose_fine, provision_vi
from services.errors import FineTableError, UnknownProvision
from services.rules.fines import fine_table_for
from services.settings import get_settings

ND = "12/2022/ND-CP "


@pytest.fixture(scope="module")
def table():
    return fine_table_for("12/2022/ND-CP")


def test_the_default_table_holds_every_decree_and_finds_nd12_codes(table):
    # existing callers look NĐ 12 codes up in load_fine_table(); it now also holds NĐ 283/2026's 104 rows
    everything = load_fine_table()
    assert len(everything) == len(table) + 104
    assert everything.get(ND + "Art.22 cl.2") == table.get(ND + "Art.22 cl.2")


def rule(table, code: str):
    return table.get(ND + code)


# --------------------------------------------------------------------------- the table itself


def test_every_row_loads_with_min_not_above_max(table):
    assert len(table) == 100
    for r in table:
        assert 0 < r.min_vnd <= r.max_vnd, r.code
        if r.org_min_vnd is not None:
            assert r.org_min_vnd <= r.org_max_vnd, r.code


def test_organisations_pay_double_except_the_clauses_art6_lists(table):
    # Art.6 cl.1: "Mức phạt tiền quy định ... là mức phạt đối với cá nhân, trừ trường hợp quy định tại ...
    # khoản 2 Điều 25; khoản 1 Điều 26; khoản 1, 5, 6, 7 Điều 27 ... Mức phạt tiền đối với tổ chức bằng
    # 02 lần mức phạt tiền đối với cá nhân."
    written_for_organisations = {(25, 2), (26, 1), (27, 1), (27, 5), (27, 6), (27, 7)}
    check_organisation_amounts(table, written_for_organisations)


def check_organisation_amounts(table, written_for_organisations: set[tuple[int, int]]) -> None:
    """The (article, clause) pairs a decree writes for organisations are never doubled; every other row's
    organisation amounts are exactly double the individual ones."""
    for r in table:
        if (r.article, r.clause) in written_for_organisations:
            assert r.basis is FineBasis.ORGANISATION, r.code
            assert (r.org_min_vnd, r.org_max_vnd) == (r.min_vnd, r.max_vnd), r.code
        else:
            assert r.basis is FineBasis.INDIVIDUAL, r.code
            if r.org_min_vnd is not None:
                assert (r.org_min_vnd, r.org_max_vnd) == (2 * r.min_vnd, 2 * r.max_vnd), r.code


def test_clauses_that_reach_only_individuals_have_no_organisation_amount(table):
    # Art.20 cl.1 and Art.22 cl.1: "đối với người lao động"; Art.26 cl.2, 3, 6: "đối với kiểm định viên";
    # Art.26 cl.4: "đối với cá nhân hoạt động kiểm định".
    individual_only = {r.code for r in table if not r.allows_organisation}
    assert individual_only == {ND + c for c in (
        "Art.20 cl.1", "Art.22 cl.1(a)", "Art.22 cl.1(b)", "Art.26 cl.2(a)", "Art.26 cl.2(b)",
        "Art.26 cl.3", "Art.26 cl.4", "Art.26 cl.6")}


def _gazette() -> str:
    text = (get_settings().legal_dir / "nd12_2022_art20-29.txt").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def _dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def test_every_row_reads_as_the_gazette_says(table):
    gazette = _gazette()
    for r in table:
        # every sentence of the description is the gazette's own words
        for piece in [r.clause_lead_vi, *re.split(r" — |(?<=như sau:) ", r.description_vi)]:
            assert piece.rstrip(";.: ") in gazette, (r.code, piece[:80])
        # and its amounts are the ones written in the point (or, for a point without its own, the clause)
        amounts = (f"{_dots(r.min_vnd)} đồng đối với" if r.min_vnd == r.max_vnd
                   else f"từ {_dots(r.min_vnd)} đồng đến {_dots(r.max_vnd)} đồng")
        point = re.split(r" — |(?<=như sau:) ", r.description_vi)[-1].lower()
        written = point if re.search(r"\d đồng", point) else r.clause_lead_vi.lower()
        assert amounts in written, r.code


def test_units_are_read_from_the_table(table):
    # Art.22 cl.2 "khi vi phạm với mỗi người lao động nhưng tối đa không quá 75.000.000 đồng"
    assert rule(table, "Art.22 cl.2").unit is UnitKind.PER_WORKER
    assert rule(table, "Art.22 cl.2").per_worker_cap_vnd == 75_000_000
    assert rule(table, "Art.25 cl.1(c)").unit is UnitKind.WORKER_BAND
    assert rule(table, "Art.24 cl.4(a)").unit is UnitKind.DEVICE_BAND
    # Art.24 cl.4: a) 01–03, b) 04–10, c) 11–20, d) từ 21 máy, thiết bị, vật tư trở lên
    bands = [(b.lower, b.upper) for b in rule(table, "Art.24 cl.4(c)").bands]
    assert bands == [(1, 3), (4, 10), (11, 20), (21, None)]


def test_citation_in_vietnamese(table):
    assert provision_vi(rule(table, "Art.22 cl.2")) == "khoản 2 Điều 22 Nghị định số 12/2022/NĐ-CP"
    assert provision_vi(rule(table, "Art.21 cl.3(đ)")) == "điểm đ khoản 3 Điều 21 Nghị định số 12/2022/NĐ-CP"


def test_unknown_code(table):
    with pytest.raises(UnknownProvision) as caught:
        table.get(ND + "Art.22 cl.12")
    assert caught.value.code == ND + "Art.22 cl.12"


# --------------------------------------------------------------------------- flat, per violation


def test_flat_clause_midpoint_and_doubling(table):
    # Art.27 cl.3: "Phạt tiền từ 20.000.000 đồng đến 40.000.000 đồng đối với người sử dụng lao động có hành
    # vi không tiến hành quan trắc môi trường lao động ..."
    r = rule(table, "Art.27 cl.3")
    person = propose_fine(r, organisation=False)
    assert (person.range_min, person.range_max, person.amount) == (20_000_000, 40_000_000, 30_000_000)
    company = propose_fine(r, organisation=True)  # Art.6 cl.1: double → 40–80 million
    assert (company.range_min, company.range_max, company.amount) == (40_000_000, 80_000_000, 60_000_000)
    assert any("02 lần" in line and "khoản 1 Điều 6" in line for line in company.reasoning_vi)
    assert company.provision_vi == "khoản 3 Điều 27 Nghị định số 12/2022/NĐ-CP"


@pytest.mark.parametrize(("mitigating", "aggravating", "expected"), [
    (0, 0, 60_000_000),  # midpoint of 40–80 million
    (1, 0, 50_000_000),  # midway between minimum 40 and midpoint 60
    (0, 1, 70_000_000),  # midway between midpoint 60 and maximum 80
    (2, 0, 40_000_000),  # two or more mitigating → minimum
    (0, 3, 80_000_000),  # two or more aggravating → maximum
    (1, 1, 60_000_000),  # they cancel one for one
    (3, 1, 40_000_000),  # net two mitigating
    (1, 2, 70_000_000),  # net one aggravating
])
def test_circumstances(table, mitigating, aggravating, expected):
    proposal = propose_fine(rule(table, "Art.27 cl.3"), organisation=True, mitigating=mitigating,
                            aggravating=aggravating)
    assert proposal.amount == expected
    assert proposal.reasoning_vi[-1].startswith(f"Mức phạt tiền đề xuất: {_dots(expected)} đồng")


def test_worker_clause_for_individuals_only(table):
    # Art.22 cl.1(a): "Phạt tiền từ 500.000 đồng đến 1.000.000 đồng đối với người lao động ... Không sử dụng
    # phương tiện bảo vệ cá nhân đã được trang cấp"
    r = rule(table, "Art.22 cl.1(a)")
    assert propose_fine(r, organisation=False, mitigating=1).amount == 625_000  # (500.000 + 750.000) / 2
    with pytest.raises(ValueError, match="chỉ áp dụng đối với cá nhân"):
        propose_fine(r, organisation=True)


# --------------------------------------------------------------------------- per worker, capped


def test_per_worker_below_the_cap(table):
    # Art.22 cl.2: "Phạt tiền từ 1.000.000 đồng đến 3.000.000 đồng khi vi phạm với mỗi người lao động nhưng
    # tối đa không quá 75.000.000 đồng đối với người sử dụng lao động có hành vi không tổ chức khám sức khỏe
    # định kỳ hoặc khám phát hiện bệnh nghề nghiệp cho người lao động."  10 workers → 10–30 million.
    r = rule(table, "Art.22 cl.2")
    person = propose_fine(r, organisation=False, workers=10)
    assert (person.range_min, person.range_max, person.amount) == (10_000_000, 30_000_000, 20_000_000)
    company = propose_fine(r, organisation=True, workers=10)
    assert (company.range_min, company.range_max, company.amount) == (20_000_000, 60_000_000, 40_000_000)


def test_per_worker_capped(table):
    # Art.22 cl.2, 30 workers: 30–90 million, capped at 75 million → 30–75, midpoint 52.5 million;
    # an organisation: 60–150 million, midpoint 105 million.
    r = rule(table, "Art.22 cl.2")
    person = propose_fine(r, organisation=False, workers=30)
    assert (person.range_min, person.range_max, person.amount) == (30_000_000, 75_000_000, 52_500_000)
    assert any("30 × 3.000.000 đồng = 90.000.000 đồng" in line for line in person.reasoning_vi)
    assert any("tối đa 75.000.000 đồng" in line for line in person.reasoning_vi)
    company = propose_fine(r, organisation=True, workers=30)
    assert (company.range_min, company.range_max, company.amount) == (60_000_000, 150_000_000, 105_000_000)


def test_per_worker_minimum_above_the_cap(table):
    # Art.22 cl.4(a): "Phạt tiền từ 10.000.000 đồng đến 15.000.000 đồng khi vi phạm đối với mỗi người lao
    # động nhưng tối đa không quá 75.000.000 đồng" — 8 workers: 80–120 million, both ends capped at 75.
    proposal = propose_fine(rule(table, "Art.22 cl.4(a)"), organisation=False, workers=8, mitigating=2)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (75_000_000, 75_000_000, 75_000_000)


def test_per_worker_art23(table):
    # Art.23 cl.1: "Phạt tiền từ 2.000.000 đồng đến 4.000.000 đồng khi vi phạm đối với mỗi người lao động
    # ... a) Không kịp thời sơ cứu hoặc cấp cứu cho người lao động bị tai nạn lao động" — 3 workers, org:
    # 6–12 million ×2 = 12–24 million, one aggravating → (18 + 24) / 2 = 21 million.
    proposal = propose_fine(rule(table, "Art.23 cl.1(a)"), organisation=True, workers=3, aggravating=1)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (12_000_000, 24_000_000, 21_000_000)


@pytest.mark.parametrize("workers", [None, 0])
def test_per_worker_needs_workers(table, workers):
    with pytest.raises(ValueError, match="số người lao động"):
        propose_fine(rule(table, "Art.22 cl.2"), organisation=True, workers=workers)


# --------------------------------------------------------------------------- bands


@pytest.mark.parametrize(("workers", "point", "low", "high"), [
    # Art.25 cl.1: "a) Từ 5.000.000 đồng đến 10.000.000 đồng đối với vi phạm từ 01 người đến 10 người;
    # b) Từ 10.000.000 đồng đến 20.000.000 đồng ... từ 11 người đến 50 người; ... d) Từ 30.000.000 đồng
    # đến 40.000.000 đồng ... từ 101 người đến 300 người; đ) Từ 40.000.000 đồng đến 50.000.000 đồng ... từ
    # 301 người trở lên."
    (1, "a", 5_000_000, 10_000_000),
    (10, "a", 5_000_000, 10_000_000),
    (11, "b", 10_000_000, 20_000_000),
    (300, "d", 30_000_000, 40_000_000),
    (301, "đ", 40_000_000, 50_000_000),
])
def test_band_by_workers(table, workers, point, low, high):
    # whichever band the checklist cites, the count picks the band
    proposal = propose_fine(rule(table, "Art.25 cl.1(a)"), organisation=False, workers=workers)
    assert proposal.code == ND + f"Art.25 cl.1({point})"
    assert proposal.provision_vi == f"điểm {point} khoản 1 Điều 25 Nghị định số 12/2022/NĐ-CP"
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (low, high, (low + high) // 2)


def test_band_by_workers_for_an_organisation(table):
    # Art.22 cl.8 b): "Từ 6.000.000 đồng đến 10.000.000 đồng đối với vi phạm từ 11 người đến 50 người lao
    # động" (PPE) — 40 workers, an organisation: 12–20 million, midpoint 16, one mitigating → 14 million.
    proposal = propose_fine(rule(table, "Art.22 cl.8(đ)"), organisation=True, workers=40, mitigating=1)
    assert (proposal.code, proposal.range_min, proposal.range_max, proposal.amount) == (
        ND + "Art.22 cl.8(b)", 12_000_000, 20_000_000, 14_000_000)


@pytest.mark.parametrize(("devices", "point", "low", "high"), [
    # Art.24 cl.4: "a) Từ 20.000.000 đồng đến 30.000.000 đồng đối với vi phạm từ 01 đến 03 máy, thiết bị, vật
    # tư; b) Từ 30.000.000 đồng đến 50.000.000 đồng đối với vi phạm từ 04 đến 10 ...; c) Từ 50.000.000 đồng
    # đến 75.000.000 đồng ... từ 11 đến 20 ...; d) 75.000.000 đồng đối với vi phạm từ 21 máy, thiết bị, vật
    # tư trở lên."
    (3, "a", 20_000_000, 30_000_000),
    (4, "b", 30_000_000, 50_000_000),
    (20, "c", 50_000_000, 75_000_000),
    (21, "d", 75_000_000, 75_000_000),
])
def test_band_by_devices(table, devices, point, low, high):
    proposal = propose_fine(rule(table, "Art.24 cl.4(a)"), organisation=False, devices=devices)
    assert proposal.code == ND + f"Art.24 cl.4({point})"
    assert (proposal.range_min, proposal.range_max) == (low, high)


def test_fixed_band_for_an_organisation_is_doubled(table):
    # Art.24 cl.4 d) 75.000.000 đồng (individual) → 150.000.000 đồng for an organisation, whatever the
    # circumstances.
    r = rule(table, "Art.24 cl.4(a)")
    for mitigating in (0, 1, 2):
        assert propose_fine(r, organisation=True, devices=30, mitigating=mitigating).amount == 150_000_000


def test_band_needs_its_count(table):
    with pytest.raises(ValueError, match="số máy, thiết bị"):
        propose_fine(rule(table, "Art.24 cl.4(a)"), organisation=True, workers=5)


# --------------------------------------------------------------------------- clauses written for organisations


def test_clause_written_for_organisations_is_not_doubled(table):
    # Art.26 cl.1: "Phạt tiền đối với tổ chức hoạt động kiểm định kỹ thuật an toàn lao động ... d) Từ
    # 80.000.000 đồng đến 100.000.000 đồng đối với một trong các hành vi: cung cấp kết quả kiểm định không
    # đúng sự thật ..." — listed in Art.6 cl.1, so 80–100 million for the organisation, midpoint 90.
    proposal = propose_fine(rule(table, "Art.26 cl.1(d)"), organisation=True)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (80_000_000, 100_000_000, 90_000_000)
    assert any("không nhân đôi" in line for line in proposal.reasoning_vi)
    # Art.27 cl.7: "Phạt tiền từ 120.000.000 đồng đến 150.000.000 đồng đối với doanh nghiệp, tổ chức cung cấp
    # dịch vụ quan trắc môi trường lao động" — one aggravating: (135 + 150) / 2 = 142.5 million.
    assert propose_fine(rule(table, "Art.27 cl.7(a)"), organisation=True, aggravating=1).amount == 142_500_000


def test_clause_written_for_organisations_refuses_an_individual(table):
    with pytest.raises(ValueError, match="phải là tổ chức"):
        propose_fine(rule(table, "Art.25 cl.2(c)"), organisation=False)


# --------------------------------------------------------------------------- arguments and rows


@pytest.mark.parametrize("kwargs", [
    {"mitigating": -1}, {"aggravating": -2}, {"workers": -3}, {"devices": -1}, {"workers": 2.5},
])
def test_negative_or_non_integer_counts(table, kwargs):
    with pytest.raises(ValueError):
        propose_fine(rule(table, "Art.22 cl.2"), organisation=True, **({"workers": 5} | kwargs))


def _row(**changes: str) -> dict[str, str]:
    row = {
        "code": ND + "Art.27 cl.3", "clause_lead_vi": "", "description_vi": "Phạt tiền từ 1 đồng đến 2 đồng",
        "min_vnd": "1", "max_vnd": "2", "org_min_vnd": "2", "org_max_vnd": "4", "fine_basis": "individual",
        "unit": "per violation", "applies_to": "NSDLĐ", "additional_penalty": "", "remedial_measure": "",
        "note": "",
    }
    return row | changes


def test_rounding_half_up_to_whole_dong():
    # range 1–2 đồng: midpoint 1.5 → 2; for an organisation 2–4 → 3; one mitigating (1 + 1.5) / 2 = 1.25 → 1
    r = parse_fine_rows([_row()]).get(ND + "Art.27 cl.3")
    assert propose_fine(r, organisation=False).amount == 2
    assert propose_fine(r, organisation=True).amount == 3
    assert propose_fine(r, organisation=False, mitigating=1).amount == 1


@pytest.mark.parametrize(("changes", "column"), [
    ({"code": "Art.27 cl.3"}, "code"),
    ({"min_vnd": "3"}, "max_vnd"),
    ({"max_vnd": "2.000.000"}, "max_vnd"),
    ({"org_min_vnd": "1"}, "org_min_vnd"),
    ({"org_max_vnd": ""}, "org_max_vnd"),
    ({"fine_basis": "ORG"}, "fine_basis"),
    ({"unit": "per hour"}, "unit"),
    ({"description_vi": " "}, "description_vi"),
])
def test_malformed_row_names_row_and_column(changes, column):
    with pytest.raises(FineTableError) as caught:
        parse_fine_rows([_row(code=ND + "Art.27 cl.2"), _row(**changes)], source="t.csv")
    assert (caught.value.row, caught.value.column) == (3, column)
    assert "row 3" in str(caught.value) and column in str(caught.value)


def test_bands_must_tile_from_one():
    band = "band by number of affected workers: "
    rows = [_row(code=ND + "Art.25 cl.1(a)", unit=band + "01-10"), _row(code=ND + "Art.25 cl.1(b)",
                                                                       unit=band + "12-50")]
    with pytest.raises(FineTableError) as caught:
        parse_fine_rows(rows)
    assert (caught.value.row, caught.value.column) == (3, "unit")


def test_duplicate_code():
    with pytest.raises(FineTableError, match="duplicate"):
        parse_fine_rows([_row(), _row()])
