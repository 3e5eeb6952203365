"""The three OSH targets year over year (services/reports/kpi.py), checked against arithmetic done by hand.

Fixture (province statistics, 2024 → 2025):

* fatal-accident rate: 2024: 12 fatal / 400,000 workers × 100,000 = 3.00 per 100k;
  2025: 11 / 420,000 × 100,000 = 2.6190476… per 100k (shown 2.62);
  change = (2.6190476 − 3) / 3 × 100 = −12.698…% → −12.7% ≤ −4% → met.
* disease examinations: 1,000 → 1,040: +40 / 1,000 = +4.0% < +5% → not met.
* environment monitoring: 80 → 90: +10 / 80 = +12.5% ≥ +5% → met.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from services.documents import render_pdf
from services.reports.kpi import KpiStatus, KpiTargetsError, compute_kpis, targets_for, targets_for_year
from services.reports.periodic_report import ANNUAL, HALF_YEAR, kpi_row, period_due_on
from tests.pdf_support import raw_text_of, text_of

FIGURES = {
    2024: {"workers_covered": 400_000, "fatal_accidents": 12, "disease_examined": 1_000, "establishments_monitored": 80},
    2025: {"workers_covered": 420_000, "fatal_accidents": 11, "disease_examined": 1_040, "establishments_monitored": 90},
}


def by_key(figures: dict[int, dict[str, int]], year: int = 2025) -> dict[str, object]:
    return {r.key: r for r in compute_kpis(figures, year, targets_for_year(year))}


def test_the_three_targets_equal_the_hand_computation() -> None:
    kpi = by_key(FIGURES)
    rate = kpi["fatal_accident_rate"]
    assert rate.previous == Fraction(3) and rate.shown(rate.previous) == Decimal("3.00")
    assert rate.current == Fraction(11 * 100_000, 420_000) and rate.shown(rate.current) == Decimal("2.62")
    assert rate.change_percent == Decimal("-12.7") and rate.target_percent == -4 and rate.status == KpiStatus.MET
    exams = kpi["disease_examined"]
    assert (exams.previous, exams.current, exams.change_percent) == (1000, 1040, Decimal("4.0"))
    assert exams.target_percent == 5 and exams.status == KpiStatus.NOT_MET and exams.status_vi == "Không đạt"
    monitored = kpi["establishments_monitored"]
    assert (monitored.change_percent, monitored.status) == (Decimal("12.5"), KpiStatus.MET)


def test_the_rounded_change_is_what_is_judged() -> None:
    # 10,000 → 10,496: +4.96% → rounds to +5.0% → met (the report never prints "+5,0%" next to "không đạt");
    # 10,000 → 10,494: +4.94% → +4.9% → not met
    met = by_key({2024: {"disease_examined": 10_000}, 2025: {"disease_examined": 10_496}})["disease_examined"]
    assert (met.change_percent, met.status) == (Decimal("5.0"), KpiStatus.MET)
    short = by_key({2024: {"disease_examined": 10_000}, 2025: {"disease_examined": 10_494}})["disease_examined"]
    assert (short.change_percent, short.status) == (Decimal("4.9"), KpiStatus.NOT_MET)
    # fatal: 25 → 24 on the same 1,000,000 workers: 2.5 → 2.4 per 100k = −4.0% exactly → met (≤ −4%)
    same = {"workers_covered": 1_000_000}
    rate = by_key({2024: {**same, "fatal_accidents": 25}, 2025: {**same, "fatal_accidents": 24}})["fatal_accident_rate"]
    assert (rate.change_percent, rate.status) == (Decimal("-4.0"), KpiStatus.MET)
    # half-up, away from zero: 2,000 → 2,001 = +0.05% exactly → +0.1%
    tiny = by_key({2024: {"disease_examined": 2_000}, 2025: {"disease_examined": 2_001}})["disease_examined"]
    assert tiny.change_percent == Decimal("0.1")


def test_a_missing_year_or_figure_is_no_data_with_the_reason() -> None:
    kpi = by_key({2025: FIGURES[2025]})
    assert {r.status for r in kpi.values()} == {KpiStatus.NO_DATA}
    assert all(r.change_percent is None and r.previous is None for r in kpi.values())
    assert "thiếu số liệu fatal_accidents năm 2024" in kpi["fatal_accident_rate"].note_vi
    partial = by_key({2024: {"fatal_accidents": 12}, 2025: FIGURES[2025]})  # no workers figure for 2024
    assert partial["fatal_accident_rate"].status == KpiStatus.NO_DATA
    assert "workers_covered năm 2024" in partial["fatal_accident_rate"].note_vi
    assert partial["disease_examined"].status == KpiStatus.NO_DATA


def test_zero_denominator_and_zero_baseline_are_no_data_not_a_division_error() -> None:
    zero_workers = {**FIGURES[2024], "workers_covered": 0}
    rate = by_key({2024: zero_workers, 2025: FIGURES[2025]})["fatal_accident_rate"]
    assert rate.status == KpiStatus.NO_DATA and "bằng 0" in rate.note_vi and rate.previous is None
    # no fatal accident in 2024 (rate 0): a fall "by 4%" from nothing is not a percentage
    no_fatal = {**FIGURES[2024], "fatal_accidents": 0}
    rate = by_key({2024: no_fatal, 2025: FIGURES[2025]})["fatal_accident_rate"]
    assert rate.previous == 0 and rate.status == KpiStatus.NO_DATA and "năm 2024 bằng 0" in rate.note_vi
    exams = by_key({2024: {"disease_examined": 0}, 2025: {"disease_examined": 50}})["disease_examined"]
    assert exams.status == KpiStatus.NO_DATA and exams.change_percent is None


def test_targets_are_effective_dated_and_cite_the_seed(tmp_path: Path) -> None:
    targets = targets_for(date(2025, 12, 31))
    assert "664/KH-UBND" in targets.source
    assert [(t.key, t.signed_percent) for t in targets.targets] == [
        ("fatal_accident_rate", -4), ("disease_examined", 5), ("establishments_monitored", 5)]
    assert targets.reporting["half_year_due"] == "06-15" and targets.reporting["annual_due"] == "12-15"
    with pytest.raises(KpiTargetsError, match="31/12/2024"):
        targets_for(date(2024, 12, 31))
    bad = json.loads((Path(__file__).parents[2] / "services/rules/data/kpi_targets_2025.json").read_text(encoding="utf-8"))
    bad["targets"][0]["direction"] = "down"
    (tmp_path / "kpi_targets_x.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(KpiTargetsError, match=r"kpi_targets_x.json: khóa 'targets\[0\].direction'"):
        targets_for(date(2026, 1, 1), tmp_path)


def test_the_reporting_calendar_gives_the_period_and_the_targets_year() -> None:
    # Cao Bằng: half-year report before 15 June, annual before 15 December; figures from 15/12 of the year before
    half = period_due_on(date(2026, 6, 15))  # the scheduled run of 15 June
    assert (half.kind, half.year, half.start, half.end, half.due) == (HALF_YEAR, 2026, date(2025, 12, 15),
                                                                      date(2026, 6, 14), date(2026, 6, 15))
    assert half.kpi_year == 2025  # no half-year statistics: the last complete year
    annual = period_due_on(date(2026, 12, 15))
    assert (annual.kind, annual.start, annual.end, annual.kpi_year) == (ANNUAL, date(2025, 12, 15), date(2026, 12, 14), 2026)


# --- the reports' contexts, for the golden documents (tests/unit/test_documents_golden.py) --------------------

ISSUER = {"parent_name": "UBND TỈNH CAO BẰNG", "name": "SỞ NỘI VỤ", "code": "SNV", "place": "Cao Bằng"}


def create_periodic_context() -> dict[str, Any]:
    """The annual report 2025 over the fixture above: 2 targets met, 1 not (figures as in the module docstring)."""
    results = compute_kpis(FIGURES, 2025, targets_for_year(2025))
    return {
        "issuer": ISSUER, "number": "……/BC-SNV", "issued_on": date(2025, 12, 10), "province_vi": "tỉnh Cao Bằng",
        "period": {"kind": "annual", "year": 2025, "label_vi": "năm 2025", "start": date(2024, 12, 15),
                   "end": date(2025, 12, 14), "due": date(2025, 12, 15)},
        "kpi": {"year": 2025, "previous_year": 2024, "version": "kpi-2025.1", "source": "KH 664/KH-UBND",
                "rows": [kpi_row(r) for r in results], "met": 2, "not_met": 1, "no_data": 0,
                "statistics_sources_vi": "Báo cáo thống kê TNLĐ năm 2024 (Sở Nội vụ); Báo cáo BNN, QTMTLĐ năm 2025 (Sở Y tế)"},
        "campaigns": {"count": 2, "inspected": 38, "violations": 61, "establishments": 24, "decided": 55, "decisions": 22,
                      "fines_final": 1_285_000_000,
                      "rows": [{"code": "CB-2025-01", "title": "Kiểm tra liên ngành ATVSLĐ ngành khai khoáng", "inspected": 20,
                                "violations": 35, "decisions": 12, "fines_final": 745_000_000},
                               {"code": "CB-2025-02", "title": "Kiểm tra đột xuất sau tai nạn lao động", "inspected": 18,
                                "violations": 26, "decisions": 10, "fines_final": 540_000_000}]},
        "signer": {"full_name": "Nguyễn Quang Sơn", "title": "Phó Giám đốc Sở"},
    }


def create_campaign_report_context() -> dict[str, Any]:
    """A campaign with violations of four provisions found by two agencies, some decided, remedies due."""
    return {
        "issuer": ISSUER, "number": "4/BC-ĐKT", "issued_on": date(2026, 6, 12),
        "campaign": {"code": "CB-2026-02", "title": "Kiểm tra liên ngành công tác ATVSLĐ năm 2026",
                     "period_start": date(2026, 3, 2), "period_end": date(2026, 5, 29),
                     "decision_ref": "Quyết định số 15/QĐ-UBND ngày 20/02/2026", "kind_vi": "theo kế hoạch",
                     "agencies_vi": "SỞ NỘI VỤ, SỞ Y TẾ, LIÊN ĐOÀN LAO ĐỘNG TỈNH"},
        "overview": {"selected": 40, "scheduled": 40, "inspected": 38, "not_inspected": 2,
                     "teams": [{"name": "Đoàn kiểm tra liên ngành số 1", "members": 5, "inspections": 20},
                               {"name": "Đoàn kiểm tra liên ngành số 2", "members": 4, "inspections": 20}]},
        "violations": {"count": 31, "establishments": 17,
                       "by_provision": [
                           {"label": "khoản 2 Điều 22", "count": 12, "proposed": 186_000_000, "final": 160_000_000},
                           {"label": "điểm b khoản 2 Điều 21", "count": 9, "proposed": 54_000_000, "final": 48_000_000},
                           {"label": "điểm a khoản 8 Điều 22", "count": 6, "proposed": 60_000_000, "final": 60_000_000},
                           {"label": "khoản 3 Điều 27", "count": 4, "proposed": 40_000_000, "final": 0}],
                       "by_agency": [{"label": "SỞ Y TẾ", "area_vi": "vệ sinh lao động, chăm sóc sức khỏe người lao động",
                                      "count": 16},
                                     {"label": "SỞ NỘI VỤ", "area_vi": "an toàn lao động", "count": 15}]},
        "fines": {"proposed": 340_000_000, "final": 268_000_000, "decided": 27, "undecided": 4,
                  "proposed_of_decided": 300_000_000, "decisions": 15},
        "remedies": {"remedial": {"due": 6, "met": 4, "open": 2, "overdue": 1},
                     "comply": {"due": 15, "met": 11, "open": 4, "overdue": 0}},
        "recommendations": ["Đề nghị Sở Y tế tăng cường kiểm tra việc khám phát hiện bệnh nghề nghiệp tại các cơ sở khai khoáng.",
                            "Đề nghị UBND các xã theo dõi việc khắc phục tại 2 cơ sở còn quá hạn."],
        "signer": {"full_name": "Nguyễn Quang Sơn", "title": "Phó Giám đốc Sở"},
    }


@pytest.mark.parametrize("template, build", [("bao_cao_dinh_ky", create_periodic_context),
                                             ("bao_cao_ket_qua_kiem_tra", create_campaign_report_context)])
def test_the_reports_render_with_their_charts_as_text(template: str, build: Any, tmp_path: Path) -> None:
    out = render_pdf(template, build(), tmp_path / f"{template}.pdf")
    text = text_of(out.path)
    assert "■" not in raw_text_of(out.path) and unicodedata.is_normalized("NFC", raw_text_of(out.path))
    if template == "bao_cao_dinh_ky":  # the KPI table, the chart's categories, bar labels and legend
        assert "3,00 2,62 -12,7% Giảm ít nhất 4% Đạt" in text and "+4,0% Tăng ít nhất 5% Không đạt" in text
        assert all(label in text for label in ("TNLĐ chết người", "Khám phát hiện BNN", "Quan trắc MTLĐ", "Mục tiêu (%)"))
    else:
        assert "Biểu đồ 1. Số hành vi vi phạm theo quy định" in text and text.count("điểm a khoản 8 Điều 22") == 2
