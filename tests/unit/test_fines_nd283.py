"""Fines of NĐ 283/2026/NĐ-CP: every row against the extract's text (``legal/nd283_2026_extract.txt``), the
organisation rule of its Art.7 cl.1, and citations and reasoning in the decree's own name. Expected numbers
are worked out by hand from the text, each with the sentence it comes from."""
from __future__ import annotations

import re
import unicodedata

import pytest

from services.rules import UnitKind, load_fine_table, propose_fine, provision_vi
from services.rules.fines import fine_table_for
from services.settings import get_settings
from tests.unit.test_fines import check_organisation_amounts

ND = "283/2026/ND-CP "
POINT_SPLIT = r" — |(?<=như sau:) "


@pytest.fixture(scope="module")
def table():
    return fine_table_for("283/2026/ND-CP")


def rule(table, code: str):
    return table.get(ND + code)


def _lines() -> list[str]:
    text = (get_settings().legal_dir / "nd283_2026_extract.txt").read_text(encoding="utf-8")
    # "##" lines are the compiler's notes and "[...]" marks an omission: neither is the decree's text
    return [line.strip() for line in unicodedata.normalize("NFC", text).splitlines()
            if not line.startswith("##") and line.strip() != "[...]"]


def _text() -> str:
    return re.sub(r"\s+", " ", " ".join(_lines()))


def _provisions() -> dict[tuple[int, int | None, str | None], str]:
    """(article, clause, point) → its text; a clause's text is its lead (what precedes its points)."""
    found: dict[tuple[int, int | None, str | None], str] = {}
    article = clause = None
    for line in _lines():
        if heading := re.match(r"^Điều (\d+)\.", line):
            article, clause = int(heading.group(1)), None
            found[article, None, None] = line
        elif re.match(r"^(Chương|Mục) ", line):
            article = None
        elif article is None:
            continue
        elif numbered := re.match(r"^(\d+)\. (.*)$", line):
            clause = int(numbered.group(1))
            found[article, clause, None] = numbered.group(2)
        elif (lettered := re.match(r"^([a-zđ])\) (.*)$", line)) and clause is not None:
            found[article, clause, lettered.group(1)] = lettered.group(2)
        else:
            found[article, clause, None] += " " + line
    return found


def _dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _strip(text: str) -> str:
    return text.rstrip(";.: ")


# --------------------------------------------------------------------------- the table itself


def test_every_row_loads(table):
    assert len(table) == 104
    assert {r.decree for r in table} == {"283/2026/ND-CP"}
    for r in table:
        assert 0 < r.min_vnd <= r.max_vnd, r.code


def test_every_row_reads_as_the_extract_says(table):
    text = _text()
    for r in table:
        # every sentence of the description is the text's own words (as test_fines.py does for NĐ 12) …
        for piece in [r.clause_lead_vi, *re.split(POINT_SPLIT, r.description_vi)]:
            assert _strip(piece) in text, (r.code, piece[:80])
        # … and its amounts are the ones written in the point (or, for a point without its own, the clause)
        amounts = (f"{_dots(r.min_vnd)} đồng đối với" if r.min_vnd == r.max_vnd
                   else f"từ {_dots(r.min_vnd)} đồng đến {_dots(r.max_vnd)} đồng")
        point = re.split(POINT_SPLIT, r.description_vi)[-1].lower()
        written = point if re.search(r"\d đồng", point) else r.clause_lead_vi.lower()
        assert amounts in written, r.code


def test_every_row_is_the_whole_text_of_its_own_point(table):
    # stricter than the words being somewhere in the text: the description ends with the whole text of the
    # row's own point (or clause), and a point's lead is its own clause's lead
    provisions = _provisions()
    for r in table:
        own = provisions[r.article, r.clause, r.point]
        assert _strip(re.split(POINT_SPLIT, r.description_vi)[-1]) == _strip(own), r.code
        if r.point:
            assert _strip(r.clause_lead_vi) == _strip(provisions[r.article, r.clause, None]), r.code


def test_organisations_pay_double_except_the_clauses_art7_lists(table):
    # Art.7 cl.1: "Mức phạt tiền quy định ... là mức phạt đối với cá nhân; trừ trường hợp quy định tại: ...
    # khoản 2, 4 Điều 36; khoản 1 Điều 37; khoản 1, 5, 6, 7, 8 Điều 38; ... là mức phạt đối với tổ chức. Mức
    # phạt tiền đối với tổ chức bằng 02 lần mức phạt tiền đối với cá nhân."
    assert "khoản 2, 4 Điều 36; khoản 1 Điều 37; khoản 1, 5, 6, 7, 8 Điều 38;" in _text()
    written_for_organisations = {(36, 2), (36, 4), (37, 1), (38, 1), (38, 5), (38, 6), (38, 7), (38, 8)}
    check_organisation_amounts(table, written_for_organisations)


def test_clauses_that_reach_only_individuals_have_no_organisation_amount(table):
    # Art.31 cl.1 and Art.33 cl.1: "đối với người lao động"; Art.37 cl.2, 3, 6: "đối với kiểm định viên";
    # Art.37 cl.4: "đối với cá nhân hoạt động kiểm định".
    individual_only = {r.code for r in table if not r.allows_organisation}
    assert individual_only == {ND + c for c in (
        "Art.31 cl.1", "Art.33 cl.1(a)", "Art.33 cl.1(b)", "Art.37 cl.2(a)", "Art.37 cl.2(b)",
        "Art.37 cl.3", "Art.37 cl.4", "Art.37 cl.6")}


def test_units_are_read_from_the_table(table):
    # Art.33 cl.2 "khi vi phạm với mỗi người lao động nhưng tối đa không quá 75.000.000 đồng"
    assert rule(table, "Art.33 cl.2").unit is UnitKind.PER_WORKER
    assert rule(table, "Art.33 cl.2").per_worker_cap_vnd == 75_000_000
    assert rule(table, "Art.36 cl.1(c)").unit is UnitKind.WORKER_BAND
    # Art.35 cl.4: a) 01–03, b) 04–10, c) 11–20, d) từ 21 máy, thiết bị, vật tư trở lên
    assert [(b.lower, b.upper) for b in rule(table, "Art.35 cl.4(b)").bands] == [(1, 3), (4, 10), (11, 20), (21, None)]
    # Art.32 cl.4: 01–10, 11–50, 51–100, 101–300, từ 301 người lao động trở lên
    assert [(b.lower, b.upper) for b in rule(table, "Art.32 cl.4(a)").bands] == [
        (1, 10), (11, 50), (51, 100), (101, 300), (301, None)]


def test_both_decrees_in_one_default_table(table):
    everything = load_fine_table()
    assert everything.get(ND + "Art.33 cl.2") == rule(table, "Art.33 cl.2")
    assert everything.get("12/2022/ND-CP Art.22 cl.2").decree == "12/2022/ND-CP"


# --------------------------------------------------------------------------- citation and reasoning


def test_citation_in_the_rows_own_decree(table):
    assert provision_vi(rule(table, "Art.32 cl.2(b)")) == "điểm b khoản 2 Điều 32 Nghị định số 283/2026/NĐ-CP"
    assert provision_vi(rule(table, "Art.33 cl.2")) == "khoản 2 Điều 33 Nghị định số 283/2026/NĐ-CP"


def test_per_worker_row_for_an_organisation(table):
    # Art.33 cl.2: "Phạt tiền từ 1.000.000 đồng đến 3.000.000 đồng khi vi phạm với mỗi người lao động nhưng tối
    # đa không quá 75.000.000 đồng ... không tổ chức khám sức khỏe định kỳ" — 10 workers: 10–30 million;
    # an organisation pays double (Art.7 cl.1): 20–60 million, midpoint 40 million.
    proposal = propose_fine(rule(table, "Art.33 cl.2"), organisation=True, workers=10)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (20_000_000, 60_000_000, 40_000_000)
    assert proposal.provision_vi == "khoản 2 Điều 33 Nghị định số 283/2026/NĐ-CP"
    assert any("02 lần" in line and "khoản 1 Điều 7 Nghị định số 283/2026/NĐ-CP" in line
               for line in proposal.reasoning_vi)
    assert not any("12/2022" in line for line in proposal.reasoning_vi)


def test_banded_row_cites_the_band_of_its_count(table):
    # Art.36 cl.1: "c) Từ 20.000.000 đồng đến 30.000.000 đồng đối với vi phạm từ 51 người đến 100 người" —
    # 60 untrained workers, an organisation: 40–60 million, midpoint 50 million.
    proposal = propose_fine(rule(table, "Art.36 cl.1(a)"), organisation=True, workers=60)
    assert proposal.code == ND + "Art.36 cl.1(c)"
    assert proposal.provision_vi == "điểm c khoản 1 Điều 36 Nghị định số 283/2026/NĐ-CP"
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (40_000_000, 60_000_000, 50_000_000)
    assert any("khoản 1 Điều 36 Nghị định số 283/2026/NĐ-CP" in line for line in proposal.reasoning_vi)
    assert not any("12/2022" in line for line in proposal.reasoning_vi)


def test_clause_written_for_organisations_cites_art7_and_is_not_doubled(table):
    # Art.38 cl.7: "Phạt tiền từ 100.000.000 đồng đến 130.000.000 đồng đối với doanh nghiệp, tổ chức cung cấp
    # dịch vụ quan trắc môi trường lao động" — listed in Art.7 cl.1: 100–130 million, midpoint 115 million
    # (NĐ 12 Art.27 cl.7 was 120–150 million).
    proposal = propose_fine(rule(table, "Art.38 cl.7(a)"), organisation=True)
    assert (proposal.range_min, proposal.range_max, proposal.amount) == (100_000_000, 130_000_000, 115_000_000)
    assert any("không nhân đôi" in line and "khoản 1 Điều 7 Nghị định số 283/2026/NĐ-CP" in line
               for line in proposal.reasoning_vi)
