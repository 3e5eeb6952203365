"""Excel exports of one campaign's lists for the console's documents library (issue 15): findings, schedule,
deadlines, decisions — one sheet each, a title row, a header row, one row per item, read from the stored state.

Each export is one plain table, written the way :mod:`services.documents.xlsx` writes cells: text NFC and never a
formula (a string cell; one starting with a formula character also carries Excel's quote prefix), numbers and dates
as numbers and dates. Nothing here writes to the database.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from models import (Campaign, Deadline, Document, DocumentType, Establishment, Finding, Inspection, Person, Team,
                    Violation)
from services.documents.format import nfc
from services.text_policy import FORMULA_STARTS

RESULT_VI = {"pass": "Đạt", "fail": "Không đạt", "not_applicable": "Không áp dụng"}
STATUS_VI = {"scheduled": "Đã lên lịch", "findings_submitted": "Đã gửi kết quả, chờ duyệt",
             "findings_returned": "Bị trả lại", "findings_approved": "Kết quả đã được duyệt",
             "records_issued": "Đã lập biên bản", "sanctioned": "Đã quyết định xử phạt", "closed": "Đã kết thúc"}
DEADLINE_VI = {"violation_record": "Lập biên bản vi phạm hành chính", "sanction_decision": "Ra quyết định xử phạt",
               "limitation": "Thời hiệu xử phạt", "comply": "Chấp hành quyết định xử phạt",
               "remedial": "Biện pháp khắc phục hậu quả", "explain_hearing": "Yêu cầu giải trình trực tiếp",
               "explain_written": "Gửi văn bản giải trình", "send_decision": "Gửi quyết định cho người vi phạm",
               "national_report": "Cập nhật Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính"}
DEADLINE_STATUS_VI = {"open": "Đang theo dõi", "met": "Đã hoàn thành", "cancelled": "Đã hủy"}
DATE = "DD/MM/YYYY"
MONEY = "#,##0"


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    cell = sheet.cell(row, column)
    if isinstance(value, str):
        cell.value = nfc(value)
        cell.data_type = "s"
        if value[:1] in FORMULA_STARTS:
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, date):
            cell.number_format = DATE
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 1000:
            cell.number_format = MONEY


def table_xlsx(title: str, headers: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet: the title (row 1), the headers (row 3, frozen, filtered), the rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = title[:31]
    _put(sheet, 1, 1, title)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    for c, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        _put(sheet, 3, c, text)
        sheet.cell(3, c).font = Font(bold=True)
        sheet.cell(3, c).alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(c)].width = width
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, "" if value is None else value)
    sheet.freeze_panes = "A4"
    if rows:
        sheet.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{3 + len(rows)}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _visits(session: Session, campaign: Campaign) -> list[tuple[Inspection, Establishment, Team]]:
    rows = session.exec(select(Inspection, Establishment, Team)
                        .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                        .join(Team, col(Team.id) == Inspection.team_id)
                        .where(Inspection.campaign_id == campaign.id)
                        .order_by(col(Inspection.scheduled_on), col(Team.number), col(Inspection.id))).all()
    return [(i, e, t) for i, e, t in rows]


def schedule_xlsx(session: Session, campaign: Campaign) -> bytes:
    rows = [(i.scheduled_on, t.name, e.name, e.tax_code, e.address, STATUS_VI.get(str(i.status), str(i.status)), i.id)
            for i, e, t in _visits(session, campaign)]
    return table_xlsx(f"Lịch kiểm tra {campaign.code}",
                      ("Ngày kiểm tra", "Đoàn", "Cơ sở", "Mã số thuế", "Địa chỉ", "Trạng thái", "Số cuộc kiểm tra"),
                      (14, 18, 40, 15, 44, 26, 12), rows)


def findings_xlsx(session: Session, campaign: Campaign) -> bytes:
    visits = {i.id: (i, e, t) for i, e, t in _visits(session, campaign)}
    findings = session.exec(select(Finding).where(col(Finding.inspection_id).in_(list(visits)))
                            .order_by(col(Finding.inspection_id), col(Finding.item_code))).all() if visits else []
    rows = []
    for f in findings:
        i, e, t = visits[f.inspection_id]
        rows.append((i.scheduled_on, e.name, e.tax_code, t.name, f.item_code, RESULT_VI.get(str(f.result), str(f.result)),
                     f.workers_affected, f.devices_affected, f.note))
    return table_xlsx(f"Kết quả kiểm tra {campaign.code}",
                      ("Ngày kiểm tra", "Cơ sở", "Mã số thuế", "Đoàn", "Mục kiểm tra", "Kết quả", "Số người lao động",
                       "Số máy, thiết bị", "Ghi chú"), (14, 40, 15, 18, 12, 14, 12, 12, 50), rows)


def deadlines_xlsx(session: Session, campaign: Campaign) -> bytes:
    rows = session.exec(select(Deadline, Establishment)
                        .join(Inspection, col(Inspection.id) == Deadline.inspection_id)
                        .join(Establishment, col(Establishment.id) == Inspection.establishment_id)
                        .where(Deadline.campaign_id == campaign.id)
                        .order_by(col(Deadline.due_on), col(Deadline.id))).all()
    out = [(DEADLINE_VI.get(str(d.kind), str(d.kind)), e.name, e.tax_code, d.starts_on, d.due_on,
            DEADLINE_STATUS_VI.get(str(d.status), str(d.status)), d.met_on, d.basis_vi, d.inspection_id)
           for d, e in rows]
    return table_xlsx(f"Thời hạn {campaign.code}",
                      ("Việc", "Cơ sở", "Mã số thuế", "Tính từ ngày", "Hạn cuối", "Tình trạng", "Ngày hoàn thành",
                       "Căn cứ", "Số cuộc kiểm tra"), (30, 40, 15, 14, 14, 16, 16, 60, 12), out)


def decisions_xlsx(session: Session, campaign: Campaign) -> bytes:
    visits = {i.id: (i, e) for i, e, _ in _visits(session, campaign)}
    violations = session.exec(select(Violation).where(col(Violation.inspection_id).in_(list(visits)))
                              .order_by(col(Violation.inspection_id), col(Violation.id))).all() if visits else []
    numbers = {d.inspection_id: d.number for d in session.exec(
        select(Document).where(Document.campaign_id == campaign.id, Document.doc_type == DocumentType.SANCTION_DECISION)
        .order_by(col(Document.revision))).all()}
    people = {p.id: p.full_name for p in session.exec(select(Person)).all()}
    rows = []
    for v in violations:
        i, e = visits[v.inspection_id]
        rows.append((e.name, e.tax_code, v.provision_code, v.range_min, v.range_max, v.proposed_amount,
                     v.decided_proposal, v.final_amount, v.amount_reason, people.get(v.decided_by_id, ""), v.decided_on,
                     numbers.get(i.id, "")))
    return table_xlsx(f"Quyết định xử phạt {campaign.code}",
                      ("Cơ sở", "Mã số thuế", "Điều khoản", "Mức tối thiểu (đồng)", "Mức tối đa (đồng)",
                       "Đề xuất trong tờ trình (đồng)", "Đề xuất theo tình tiết (đồng)", "Mức phạt quyết định (đồng)",
                       "Lý do", "Người quyết định", "Ngày quyết định", "Số quyết định"),
                      (40, 15, 26, 16, 16, 18, 18, 18, 40, 26, 14, 18), rows)


EXPORTS: dict[str, tuple[str, Callable[[Session, Campaign], bytes]]] = {
    "ket-qua-kiem-tra": ("Kết quả kiểm tra (các mục của bảng kiểm)", findings_xlsx),
    "lich-kiem-tra": ("Lịch kiểm tra", schedule_xlsx),
    "thoi-han": ("Thời hạn xử lý", deadlines_xlsx),
    "quyet-dinh-xu-phat": ("Mức phạt và quyết định xử phạt", decisions_xlsx),
}
