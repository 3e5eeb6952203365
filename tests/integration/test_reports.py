"""The campaign's báo cáo kết quả kiểm tra and the periodic report, over a real migrated database.

A campaign in which two establishments are visited: the first fails LD-13 (điểm a khoản 8 Điều 22, whose remedial
measure is to pay the allowance in kind) and YT-01 (12 workers without periodic health examinations, khoản 2
Điều 22), the second YT-05 (khoản 3 Điều 27). The first is decided with the proposed amounts and its remedial
measure and compliance come due (the fine is paid); the second waits for its decision. Statistics for 2025 and
2026 give the three targets:

* fatal-accident rate: 2025: 12 / 400,000 = 3.00 per 100k; 2026: 11 / 420,000 = 2.619… → −12.7% → Đạt;
* disease examinations: 1,000 → 1,040 = +4.0% → Không đạt;
* environment monitoring: 80 → 90 = +12.5% → Đạt.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import (AuditEvent, Campaign, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType, Establishment, Inspection,
                    Violation)
from services.stages import deadline_changes, deadlines
from services.db import session_scope
from services.documents.format import group_digits
from services.errors import Conflict, Refused
from services.documents.issuing import format_number
from services.reports import periodic_report
from services.documents.xlsx import PAIRS_HEADER_ROW, REPORT_HEADER_ROW, REPORT_SHEETS, SHEET_INFO
from services.reports.campaign_report import issue_campaign_report, xlsx_path
from services.reports.periodic_xlsx import CAMPAIGN_HEADER_ROW, KPI_HEADER_ROW, SHEET_CAMPAIGNS, SHEET_KPI
from services.reports.statistics import record_statistic
from services.settings import Settings
from tests.cases import INSPECTOR, approve_and_draw_up, decide, visit
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pdf_support import raw_text_of, text_of

VISIT = date(2026, 4, 22)  # a Wednesday
FIGURES = {2025: (400_000, 12, 1_000, 80), 2026: (420_000, 11, 1_040, 90)}
INDICATORS = ("workers_covered", "fatal_accidents", "disease_examined", "establishments_monitored")


def submit(settings: Settings, inspection_id: int, fails: dict[str, int | None], client_id: str) -> None:
    """Visited on VISIT; ``fails``: item code → workers affected (None for an item that counts none)."""
    visit(settings, inspection_id, on=VISIT, client_id=client_id,
          fails={code: {"note": "Không đạt.", **({"workers_affected": n} if n else {})} for code, n in fails.items()})
    approve_and_draw_up(settings, inspection_id, VISIT)


@pytest.fixture
def campaign(settings: Settings, worlds: Worlds) -> dict[str, int]:
    """Two visits with violations, one decided and complied with (built once per session, copied)."""
    return worlds.copy(settings, reported_campaign)


def reported_campaign(settings: Settings) -> dict[str, int]:
    create_scheduled_campaign(settings, code="BC-01")
    first, second = team_inspections(settings)[INSPECTOR][:2]
    submit(settings, first, {"LD-13": 5, "YT-01": 12}, "bc01-0001")
    submit(settings, second, {"YT-05": None}, "bc01-0002")
    # the record of Wed 22/04 gives the right to explain until Mon 04/05 (Thu 23 (1), Fri 24 (2), Giỗ Tổ observed on
    # Mon 27, Tue 28 (3), Wed 29 (4), 30/4 and 1/5, Mon 04/05 (5)): decided on Tue 05/05
    decide(settings, first, date(2026, 5, 5))
    deadlines.sweep(settings, date(2026, 5, 6))
    with session_scope(settings) as session:
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY)).one()
        deadline_changes.mark_met(session, comply.id, date(2026, 5, 12), actor="SNV-LEAD", reason="Biên lai nộp phạt số 0012")
    return {"first": first, "second": second}


def assert_readable(pdf: Path) -> str:
    raw = raw_text_of(pdf)
    assert raw == unicodedata.normalize("NFC", raw), "extracted text is not NFC"
    assert "■" not in raw and "\ufffd" not in raw
    return text_of(pdf)


def test_the_campaign_report_shows_violations_fines_and_remedies_with_charts(settings: Settings,
                                                                            campaign: dict[str, int]) -> None:
    doc = issue_campaign_report(settings, "BC-01", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    assert (doc.doc_type, doc.number, doc.issued_on) == (DocumentType.REPORT, format_number(1, "BC-ĐKT"), date(2026, 6, 10))
    again = issue_campaign_report(settings, "BC-01", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    assert (again.id, again.sha256) == (doc.id, doc.sha256)  # issued once
    text = assert_readable(settings.documents_path / doc.path)

    with session_scope(settings) as session:
        violations = session.exec(select(Violation).order_by(Violation.id)).all()
        remedial = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.REMEDIAL)).all()
    assert len(violations) == 3
    decided = [v for v in violations if v.final_amount is not None]
    assert len(decided) == 2  # the first establishment's two acts
    assert "Phát hiện 3 hành vi vi phạm tại 2 cơ sở" in text
    assert "số cơ sở đã kiểm tra: 2" in text
    for label in ("điểm a khoản 8 Điều 22", "khoản 2 Điều 22", "khoản 3 Điều 27"):  # table rows and chart labels
        assert text.count(label) >= 2, label
    assert text.count("SỞ NỘI VỤ") >= 3 and text.count("SỞ Y TẾ") >= 3  # header/agencies, table, chart
    assert "Biểu đồ 1. Số hành vi vi phạm theo quy định" in text and "Biểu đồ 2. Số hành vi vi phạm theo cơ quan" in text
    proposed = sum(v.proposed_amount for v in violations)
    final = sum(v.final_amount or 0 for v in decided)
    assert f"Tổng số tiền phạt đề xuất: {group_digits(proposed)} đồng" in text
    assert ("Đã có quyết định xử phạt đối với 2 hành vi (1 quyết định), tổng số tiền phạt quyết định: "
            f"{group_digits(final)} đồng") in text
    assert "còn 1 hành vi chưa có quyết định xử phạt" in text
    assert len(remedial) == 1  # LD-13's measure (the other acts have none in the fine table)
    assert (f"Biện pháp khắc phục hậu quả: {len(remedial)} biện pháp phải thực hiện, đã thực hiện 0, chưa thực hiện "
            f"{len(remedial)}") in text
    assert "Chấp hành quyết định xử phạt: 1 quyết định phải chấp hành, đã chấp hành 1, chưa chấp hành 0" in text
    assert "Buộc trả khoản bồi dưỡng bằng hiện vật quy thành tiền" in text and "Art." not in text
    assert "IV. KIẾN NGHỊ" in text


def test_the_report_reads_as_a_report_of_the_campaign_in_every_section(settings: Settings,
                                                                      campaign: dict[str, int]) -> None:
    doc = issue_campaign_report(settings, "BC-01", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    text = assert_readable(settings.documents_path / doc.path)
    with session_scope(settings) as session:
        inspection = session.get(Inspection, campaign["first"])
        title = session.exec(select(Campaign).where(Campaign.code == "BC-01")).one().title
        first = session.get(Establishment, inspection.establishment_id).name
    # the subject line is the campaign's title; its code is nowhere in the text a reader reads
    assert f"BÁO CÁO Kết quả {title[:1].lower()}{title[1:]}" in text or f"BÁO CÁO Kết quả kiểm tra: {title}" in text
    assert "BC-01" not in text
    # DOMAIN.md 2.8: overview of objects and process; assessment, nature and degree, causes, responsibilities,
    # measures applied; recommendations
    sections = ["I. KHÁI QUÁT ĐỐI TƯỢNG VÀ QUÁ TRÌNH KIỂM TRA", "1. Đối tượng kiểm tra.", "2. Quá trình kiểm tra.",
                "II. KẾT QUẢ KIỂM TRA VÀ ĐÁNH GIÁ", "1. Đánh giá chung.", "2. Tính chất, mức độ vi phạm.",
                "c) Các hành vi vi phạm nhiều nhất:", "d) Tái phạm:", "đ) Các cơ sở vi phạm:", "3. Nguyên nhân.",
                "4. Trách nhiệm.", "III. BIỆN PHÁP ĐÃ ÁP DỤNG", "1. Xử phạt vi phạm hành chính.",
                "2. Chấp hành quyết định và khắc phục hậu quả", "IV. KIẾN NGHỊ"]
    at = [text.index(s) for s in sections]
    assert at == sorted(at), "the sections in the order of DOMAIN.md 2.8"
    assert "Trong 2 cơ sở đã kiểm tra, 2 cơ sở có vi phạm (100%), 0 cơ sở không phát hiện vi phạm" in text
    assert "lập 2 biên bản kiểm tra và 2 biên bản vi phạm hành chính" in text
    assert "làm việc trực tiếp tại cơ sở ngày 22/04/2026" in text  # the days of the visits
    # the causes and the recommendations name what the data shows: the provisions most violated
    causes = text[text.index("3. Nguyên nhân."):text.index("4. Trách nhiệm.")]
    assert "vi phạm tập trung ở các quy định:" in causes and "khoản 3 Điều 27 (1 hành vi)" in causes
    recommendations = text[text.index("IV. KIẾN NGHỊ"):]
    assert "điểm a khoản 8 Điều 22" in recommendations and "1 hành vi còn lại" in recommendations
    assert "d) Tái phạm: không có hành vi vi phạm nào là tái phạm." in text
    # by establishment: the decided one has complied (its fine paid), the other waits for its decision
    assert "Đã chấp hành" in text and "Chưa có quyết định" in text and first in text
    assert "VSIC" not in text and "……" not in text


def test_every_decision_is_counted_among_those_to_comply_with_even_before_the_sweep(settings: Settings) -> None:
    """Issue 12 point 8: a report issued before the deadlines existed said "1 quyết định" then "0 quyết định phải
    chấp hành". The report creates the deadlines the stored state calls for first."""
    create_scheduled_campaign(settings, code="BC-03")
    first, second = team_inspections(settings)[INSPECTOR][:2]
    submit(settings, first, {"LD-13": 5, "YT-01": 12}, "bc03-0001")
    submit(settings, second, {"YT-05": None}, "bc03-0002")
    decide(settings, first, date(2026, 5, 5))
    with session_scope(settings) as session:  # no sweep has run: no compliance deadline yet
        assert session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY)).all() == []
    doc = issue_campaign_report(settings, "BC-03", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    text = assert_readable(settings.documents_path / doc.path)
    with session_scope(settings) as session:
        decisions = {d.subject_key for d in session.exec(select(Document).where(
            Document.doc_type == DocumentType.SANCTION_DECISION))}
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY)).all()
    assert len(decisions) == len(comply) == 1 and comply[0].status == DeadlineStatus.OPEN
    overdue = 1 if comply[0].due_on < date(2026, 6, 10) else 0
    assert f"Đã có quyết định xử phạt đối với 2 hành vi ({len(decisions)} quyết định)" in text
    assert (f"Chấp hành quyết định xử phạt: {len(decisions)} quyết định phải chấp hành, đã chấp hành 0, chưa chấp hành "
            f"1 (trong đó quá hạn {overdue})") in text
    assert "0 quyết định phải chấp hành" not in text


def test_a_campaign_not_yet_visited_is_reported_without_a_blank(settings: Settings) -> None:
    create_scheduled_campaign(settings, code="BC-04")
    doc = issue_campaign_report(settings, "BC-04", issued_on=date(2026, 3, 20), actor="SNV-LEAD")
    text = assert_readable(settings.documents_path / doc.path)
    for expected in ("số cơ sở đã kiểm tra: 0", "Chưa kiểm tra cơ sở nào.", "Đoàn kiểm tra chưa làm việc tại cơ sở nào.",
                     "Phát hiện 0 hành vi vi phạm tại 0 cơ sở", "đoàn kiểm tra không phát hiện hành vi vi phạm",
                     "0 quyết định phải chấp hành", "IV. KIẾN NGHỊ"):
        assert expected in text, expected
    assert "……" not in text and "BC-04" not in text
    book = load_workbook(xlsx_path(settings, doc))
    assert all(book[name].max_row == REPORT_HEADER_ROW for name in ("Theo quy định", "Cơ sở vi phạm"))


def shown(value: object) -> str:
    """A cell as the PDF prints it: a whole number with the Vietnamese thousands separator, none as '-'."""
    if value is None:
        return "-"
    return group_digits(value) if isinstance(value, int) else str(value)


def test_the_xlsx_beside_the_report_has_the_numbers_of_the_pdf(settings: Settings, campaign: dict[str, int]) -> None:
    doc = issue_campaign_report(settings, "BC-01", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    pdf = settings.documents_path / doc.path
    xlsx = xlsx_path(settings, doc)
    assert xlsx.parent == pdf.parent and xlsx.stem == pdf.stem and xlsx.suffix == ".xlsx"
    text = assert_readable(pdf)
    book = load_workbook(xlsx)
    assert book.sheetnames == [SHEET_INFO, *(name for name, _, _, _ in REPORT_SHEETS)]
    tables: dict[str, list[list[object]]] = {}
    for name, _, _, columns in REPORT_SHEETS:
        sheet = book[name]
        assert [c.value for c in sheet[REPORT_HEADER_ROW]] == [h for h, _, _ in columns]
        rows = [list(r) for r in sheet.iter_rows(min_row=REPORT_HEADER_ROW + 1, values_only=True)]
        tables[name] = rows
        for row in rows:  # each row of each table of the report, cell after cell, as the PDF prints it
            assert " ".join(shown(v) for v in row) in text, (name, row)
    assert len(tables["Theo quy định"]) == 3 and len(tables["Cơ sở vi phạm"]) == 2 and tables["Biện pháp khắc phục"]
    with session_scope(settings) as session:
        violations = session.exec(select(Violation)).all()
        met = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY,
                                                  Deadline.status == DeadlineStatus.MET)).all()
    final = sum(v.final_amount or 0 for v in violations)
    # the tables add up to the totals, and the totals to the register of violations
    assert sum(r[3] for r in tables["Theo quy định"]) == len(violations) == sum(r[2] for r in tables["Cơ sở vi phạm"])
    assert sum(r[6] for r in tables["Theo quy định"]) == final == sum(r[4] or 0 for r in tables["Cơ sở vi phạm"])
    info = dict(book[SHEET_INFO].iter_rows(min_row=PAIRS_HEADER_ROW + 1, values_only=True))
    assert info["Số báo cáo"] == doc.number and info["Tổng số tiền phạt quyết định (đồng)"] == final
    assert info["Số quyết định xử phạt"] == info["Quyết định phải chấp hành"] == 1
    assert info["Quyết định đã chấp hành"] == len(met) == 1
    comply = tables["Chấp hành, khắc phục"][0]
    assert comply[2:] == [info["Quyết định phải chấp hành"], info["Quyết định đã chấp hành"],
                          info["Quyết định chưa chấp hành"], info["Quyết định quá hạn chấp hành"]]
    for label, phrase in (("Số cơ sở đã kiểm tra", "số cơ sở đã kiểm tra: {}"),
                          ("Số hành vi vi phạm", "Phát hiện {} hành vi vi phạm"),
                          ("Tổng số tiền phạt đề xuất (đồng)", "Tổng số tiền phạt đề xuất: {} đồng"),
                          ("Tổng số tiền phạt quyết định (đồng)", "tổng số tiền phạt quyết định: {} đồng"),
                          ("Quyết định phải chấp hành", "{} quyết định phải chấp hành"),
                          ("Biện pháp khắc phục phải thực hiện", "{} biện pháp phải thực hiện"),
                          ("Số hành vi chưa có quyết định xử phạt", "còn {} hành vi chưa có quyết định")):
        assert phrase.format(shown(info[label])) in text, label
    before = xlsx.read_bytes()
    issue_campaign_report(settings, "BC-01", issued_on=date(2026, 6, 10), actor="SNV-LEAD")
    assert xlsx.read_bytes() == before  # the stored report keeps the figures written with it


def record_figures(settings: Settings) -> None:
    with session_scope(settings) as session:
        for year, values in FIGURES.items():
            for indicator, value in zip(INDICATORS, values, strict=True):
                record_statistic(session, province_code="04", year=year, indicator=indicator, value=value,
                                 source=f"Báo cáo thống kê TNLĐ, BNN năm {year}", actor="SNV-LEAD")


def test_statistics_are_recorded_once_and_a_change_needs_a_reason(settings: Settings) -> None:
    record_figures(settings)
    with session_scope(settings) as session:
        same = record_statistic(session, province_code="04", year=2026, indicator="fatal_accidents", value=11,
                                source="Báo cáo thống kê TNLĐ, BNN năm 2026", actor="SYT-LEAD")
        assert same.outcome == "unchanged" and same.row.entered_by == "SNV-LEAD"
    with session_scope(settings) as session, pytest.raises(Conflict, match="phải nêu lý do"):
        record_statistic(session, province_code="04", year=2026, indicator="fatal_accidents", value=13,
                         source="Báo cáo bổ sung", actor="SNV-LEAD")
    with session_scope(settings) as session:
        changed = record_statistic(session, province_code="04", year=2026, indicator="fatal_accidents", value=13,
                                   source="Báo cáo bổ sung số 5/BC-SNV", actor="SNV-LEAD", reason="Bổ sung 2 vụ khai báo muộn")
        assert (changed.outcome, changed.row.value) == ("changed", 13)
    with session_scope(settings) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "statistic_changed")).all()
    assert [(e.reason, e.data["old"]["value"], e.data["new"]["value"]) for e in events] == [("Bổ sung 2 vụ khai báo muộn", 11, 13)]


def test_bad_statistics_are_refused_field_by_field_and_nothing_is_stored(settings: Settings) -> None:
    with session_scope(settings) as session, pytest.raises(Refused) as bad:
        record_statistic(session, province_code="4", year=20255, indicator="deaths", value=-1, source=" ", actor="SNV-LEAD")
    assert bad.value.ids["errors"] == [
        "indicator: 'deaths' không phải chỉ tiêu thống kê (workers_covered, fatal_accidents, disease_examined, "
        "establishments_monitored)",
        "province_code: '4' không phải mã tỉnh (2 chữ số, ví dụ 04)", "year: năm 20255 không hợp lệ (từ 2000 đến năm nay)",
        "value: số liệu không được âm (-1)", "source: phải ghi văn bản, báo cáo nguồn của số liệu"]
    with session_scope(settings) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action.startswith("statistic"))).all() == []  # type: ignore[attr-defined]


def test_the_annual_report_gives_the_targets_and_the_campaigns_in_pdf_and_xlsx(settings: Settings,
                                                                              campaign: dict[str, int]) -> None:
    record_figures(settings)
    pdf, xlsx = periodic_report.export_periodic_report(settings, kind="annual", year=2026, issued_on=date(2026, 12, 10))
    text = assert_readable(pdf)
    assert "số liệu từ ngày 15/12/2025 đến ngày 14/12/2026" in text
    assert "Năm 2026 so với năm 2025: 2 chỉ tiêu đạt, 1 chỉ tiêu không đạt, 0 chỉ tiêu chưa đủ số liệu" in text
    assert "3,00 2,62 -12,7% Giảm ít nhất 4% Đạt" in text
    assert "1.000 1.040 +4,0% Tăng ít nhất 5% Không đạt" in text
    assert "80 90 +12,5% Tăng ít nhất 5% Đạt" in text
    for label in ("TNLĐ chết người", "Khám phát hiện BNN", "Quan trắc MTLĐ", "Thực hiện (%)", "Mục tiêu (%)"):
        assert label in text  # the chart's categories and legend
    assert "-12,7 4,0 12,5" in text  # the chart's bar labels
    with session_scope(settings) as session:
        final = sum(v.final_amount or 0 for v in session.exec(select(Violation)))
        decisions = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).all()
    assert len(decisions) == 1
    assert (f"Trong kỳ báo cáo có 1 đợt kiểm tra; đã kiểm tra 2 cơ sở, phát hiện 3 hành vi vi phạm tại 2 cơ sở; "
            f"ban hành 1 quyết định xử phạt vi phạm hành chính với tổng số tiền phạt {group_digits(final)} đồng") in text

    book = load_workbook(xlsx)
    kpi = book[SHEET_KPI]
    rows = [[c.value for c in row] for row in kpi.iter_rows(min_row=KPI_HEADER_ROW + 1, max_row=KPI_HEADER_ROW + 3)]
    assert [r[2:7] for r in rows] == [[3.0, 2.62, -12.7, -4.0, "Đạt"], [1000.0, 1040.0, 4.0, 5.0, "Không đạt"],
                                     [80.0, 90.0, 12.5, 5.0, "Đạt"]]
    assert [c.value for c in kpi[KPI_HEADER_ROW]][2:4] == ["Năm 2025", "Năm 2026"]
    sheet = book[SHEET_CAMPAIGNS]
    first = [c.value for c in sheet[CAMPAIGN_HEADER_ROW + 1]]
    total = [c.value for c in sheet[CAMPAIGN_HEADER_ROW + 2]]
    assert first[1] == "BC-01" and first[5:] == [2, 3, 2, 1, final]
    assert total[2] == "Tổng cộng" and total[5:] == [2, 3, 2, 1, final]
    first_bytes = (pdf.read_bytes(), xlsx.read_bytes())
    again = periodic_report.export_periodic_report(settings, kind="annual", year=2026, issued_on=date(2026, 12, 10))
    assert again == (pdf, xlsx) and (again[0].read_bytes(), again[1].read_bytes()) == first_bytes  # the same bytes again


def test_a_half_year_report_without_statistics_says_so(settings: Settings) -> None:
    create_scheduled_campaign(settings, code="BC-02")
    pdf, xlsx = periodic_report.export_periodic_report(settings, kind="half_year", year=2026, issued_on=date(2026, 6, 12))
    text = assert_readable(pdf)
    assert "6 tháng đầu năm 2026" in text and "số liệu từ ngày 15/12/2025 đến ngày 14/06/2026" in text
    assert "Năm 2025 so với năm 2024: 0 chỉ tiêu đạt, 0 chỉ tiêu không đạt, 3 chỉ tiêu chưa đủ số liệu" in text
    assert "chưa có số liệu thống kê được nhập" in text and text.count("Chưa đủ số liệu") == 3
    assert "Trong kỳ báo cáo có 1 đợt kiểm tra; đã kiểm tra 0 cơ sở" in text
    kpi = load_workbook(xlsx)[SHEET_KPI]
    assert [kpi.cell(KPI_HEADER_ROW + i, 5).value for i in (1, 2, 3)] == [None, None, None]
