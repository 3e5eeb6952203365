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
from services.reports.kpi import KpiStatus, compute_kpis, targets_for, targets_for_year
from services.errors import KpiTargetsError
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
        "signer": {"full_name": "Nguyễn Quang Sơn", "title": "Phó Giám đốc", "for_title": "Giám đốc"},
    }


def create_campaign_report_context() -> dict[str, Any]:
    """A campaign with violations of four provisions found by two agencies, some decided, remedies due.

    The figures agree with each other as report_context makes them: 31 acts at 17 establishments (the tables
    sum to these), 15 decisions, each counted once among those to comply with (11 met, 4 open)."""
    by_establishment = [
        {"name": f"Công ty TNHH Khai khoáng Bắc Vọng số {i}", "count": count, "proposed": proposed,
         "final": final, "decision_vi": decision, "comply_vi": comply}
        for i, (count, proposed, final, decision, comply) in enumerate([
            (4, 52_000_000, 45_000_000, "12/QĐ-XPHC", "Đã chấp hành"),
            (3, 36_000_000, 30_000_000, "13/QĐ-XPHC", "Quá hạn chưa chấp hành"),
            (2, 20_000_000, None, "Chưa có quyết định", "-")], start=1)]
    context: dict[str, Any] = {
        "issuer": ISSUER, "number": "4/BC-ĐKT", "issued_on": date(2026, 6, 12),
        "campaign": {"code": "CB-2026-02", "title": "Kiểm tra liên ngành công tác ATVSLĐ năm 2026",
                     "subject_vi": "Kết quả kiểm tra liên ngành công tác ATVSLĐ năm 2026",
                     "period_start": date(2026, 3, 2), "period_end": date(2026, 5, 29),
                     "basis_vi": "Quyết định số 15/QĐ-UBND ngày 20/02/2026 của Ủy ban nhân dân tỉnh Cao Bằng về việc "
                                 "kiểm tra liên ngành và thành lập đoàn kiểm tra", "kind_vi": "theo kế hoạch",
                     "agencies_vi": "SỞ NỘI VỤ, SỞ Y TẾ, LIÊN ĐOÀN LAO ĐỘNG TỈNH"},
        "overview": {"selected": 40, "scheduled": 40, "inspected": 38, "not_inspected": 2,
                     "visits_vi": "từ ngày 09/03/2026 đến ngày 27/05/2026", "minutes": 38, "records": 17,
                     "sectors": [{"label": "Khai khoáng khác", "inspected": 14, "violators": 9, "violations": 17},
                                 {"label": "Xây dựng nhà các loại", "inspected": 12, "violators": 5, "violations": 9},
                                 {"label": "Nông nghiệp và dịch vụ có liên quan", "inspected": 12, "violators": 3,
                                  "violations": 5}],
                     "teams": [{"name": "Đoàn kiểm tra liên ngành số 1", "members": 5, "inspections": 20, "visited": 19},
                               {"name": "Đoàn kiểm tra liên ngành số 2", "members": 4, "inspections": 20, "visited": 19}]},
        "assessment": {"with_violations": 17, "without_violations": 21, "share_vi": "44,7%"},
        "violations": {"count": 31, "establishments": 17,
                       "by_provision": [
                           {"label": "khoản 2 Điều 22", "act_vi": "Không tổ chức khám sức khỏe định kỳ hoặc khám phát "
                            "hiện bệnh nghề nghiệp cho người lao động", "count": 12, "establishments": 10,
                            "proposed": 186_000_000, "final": 160_000_000},
                           {"label": "điểm b khoản 2 Điều 21", "act_vi": "Không huấn luyện an toàn, vệ sinh lao động",
                            "count": 9, "establishments": 9, "proposed": 54_000_000, "final": 48_000_000},
                           {"label": "điểm a khoản 8 Điều 22", "act_vi": "Không trang cấp đầy đủ phương tiện bảo vệ cá "
                            "nhân", "count": 6, "establishments": 6, "proposed": 60_000_000, "final": 60_000_000},
                           {"label": "khoản 3 Điều 27", "act_vi": "Không tiến hành quan trắc môi trường lao động",
                            "count": 4, "establishments": 4, "proposed": 40_000_000, "final": 0}],
                       "by_agency": [{"label": "SỞ Y TẾ", "area_vi": "vệ sinh lao động, chăm sóc sức khỏe người lao động",
                                      "count": 16, "establishments": 12},
                                     {"label": "SỞ NỘI VỤ", "area_vi": "an toàn lao động", "count": 15, "establishments": 11}],
                       "by_establishment": by_establishment, "repeat": {"count": 2, "establishments": 1}},
        "fines": {"proposed": 340_000_000, "final": 268_000_000, "decided": 27, "undecided": 4,
                  "proposed_of_decided": 300_000_000, "decisions": 15},
        "remedies": {"remedial": {"due": 6, "met": 4, "open": 2, "overdue": 1},
                     "comply": {"due": 15, "met": 11, "open": 4, "overdue": 0},
                     "rows": [{"label": "Chấp hành quyết định xử phạt (nộp phạt)", "due": 15, "met": 11, "open": 4,
                               "overdue": 0},
                              {"label": "Biện pháp khắc phục hậu quả", "due": 6, "met": 4, "open": 2, "overdue": 1}],
                     "measures": [{"measure_vi": "Buộc trả khoản bồi dưỡng bằng hiện vật quy thành tiền (khoản 11 Điều 22)",
                                   "due": 6, "met": 4, "open": 2, "overdue": 1}]},
        "causes": ["Người sử dụng lao động tại 17 cơ sở chưa quan tâm đúng mức; vi phạm tập trung ở các quy định: "
                   "khoản 2 Điều 22 (12 hành vi); điểm b khoản 2 Điều 21 (9 hành vi); điểm a khoản 8 Điều 22 (6 hành vi)."],
        "responsibilities": ["Người sử dụng lao động của 17 cơ sở có vi phạm chịu trách nhiệm về các hành vi vi phạm đã nêu."],
        "recommendations": ["Đề nghị Sở Y tế tăng cường kiểm tra việc khám phát hiện bệnh nghề nghiệp tại các cơ sở khai khoáng.",
                            "Đề nghị UBND các xã theo dõi việc khắc phục tại 2 cơ sở còn quá hạn."],
        "signer": {"full_name": "Nguyễn Quang Sơn", "title": "Phó Giám đốc", "for_title": "Giám đốc"},
    }
    context["violations"]["top"] = context["violations"]["by_provision"][:3]
    return context


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
        # the table, the chart, the most frequent acts, the causes
        assert "Biểu đồ 1. Số hành vi vi phạm theo quy định" in text and text.count("điểm a khoản 8 Điều 22") == 4
        # the subject line is the campaign's title, never its code; the sections of DOMAIN.md 2.8
        assert "BÁO CÁO Kết quả kiểm tra liên ngành công tác ATVSLĐ năm 2026" in text and "CB-2026-02" not in text
        for heading in ("I. KHÁI QUÁT ĐỐI TƯỢNG VÀ QUÁ TRÌNH KIỂM TRA", "II. KẾT QUẢ KIỂM TRA VÀ ĐÁNH GIÁ",
                        "2. Tính chất, mức độ vi phạm.", "3. Nguyên nhân.", "4. Trách nhiệm.",
                        "III. BIỆN PHÁP ĐÃ ÁP DỤNG", "IV. KIẾN NGHỊ"):
            assert heading in text, heading
        assert "d) Tái phạm: 2 hành vi tái phạm tại 1 cơ sở" in text
        assert "2 Công ty TNHH Khai khoáng Bắc Vọng số 2 3 36.000.000 30.000.000 13/QĐ-XPHC Quá hạn chưa chấp hành" in text
        assert "3 Công ty TNHH Khai khoáng Bắc Vọng số 3 2 20.000.000 - Chưa có quyết định -" in text


def test_the_campaign_report_words_provisions_measures_and_its_subject_for_people() -> None:
    from services.reports.report_wording import act_vi, measure_vi, provision_short, subject_vi, visits_vi

    assert provision_short("12/2022/ND-CP Art.21 cl.2(b)") == "điểm b khoản 2 Điều 21"
    assert measure_vi("Art.22 cl.11: buộc trả khoản bồi dưỡng bằng hiện vật quy thành tiền") == (
        "Buộc trả khoản bồi dưỡng bằng hiện vật quy thành tiền (khoản 11 Điều 22)")
    assert measure_vi("Art.22 cl.11: buộc trả khoản bồi dưỡng (chỉ với hành vi không thực hiện)") == (
        "Buộc trả khoản bồi dưỡng (chỉ với hành vi không thực hiện; khoản 11 Điều 22)")
    assert act_vi("Phạt tiền từ 20.000.000 đồng đến 40.000.000 đồng đối với người sử dụng lao động có hành vi không "
                  "tiến hành quan trắc môi trường lao động.") == "Không tiến hành quan trắc môi trường lao động"
    assert subject_vi("Kiểm tra liên ngành về ATVSLĐ năm 2026") == "Kết quả kiểm tra liên ngành về ATVSLĐ năm 2026"
    assert subject_vi("Cao Bằng: kiểm tra khai khoáng") == "Kết quả kiểm tra: Cao Bằng: kiểm tra khai khoáng"
    assert visits_vi([date(2026, 4, 22)]) == "ngày 22/04/2026" and visits_vi([]) == ""
    assert visits_vi([date(2026, 5, 27), date(2026, 3, 9)]) == "từ ngày 09/03/2026 đến ngày 27/05/2026"
