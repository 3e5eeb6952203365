"""The periodic report as a spreadsheet: the same figures as the PDF (template ``bao_cao_dinh_ky``).

Two sheets: ``Chỉ tiêu`` (one row per target: previous and current value, change in %, target, assessment, note;
header at :data:`KPI_HEADER_ROW`) and ``Đợt kiểm tra`` (one row per campaign of the period and a total row;
header at :data:`CAMPAIGN_HEADER_ROW`). Values are numbers (a rate rounded to 2 places, a change to 1 place, as
printed); no data is an empty cell. Written the way services/documents/xlsx.py writes the selection list (its
cell and sheet helpers, fixed dates and zip times): the same context gives the same bytes.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from services.documents.format import nfc, short_date
from services.documents.storage import write_atomic
from services.documents.xlsx import _finish, _first_sheet, _header, _put, _reproducible, _save, _title

SHEET_KPI = "Chỉ tiêu"
SHEET_CAMPAIGNS = "Đợt kiểm tra"
KPI_HEADERS = ("TT", "Chỉ tiêu", "Năm trước", "Năm báo cáo", "Thay đổi (%)", "Chỉ tiêu (%)", "Đánh giá", "Ghi chú")
CAMPAIGN_HEADERS = ("TT", "Mã đợt", "Tên đợt kiểm tra", "Từ ngày", "Đến ngày", "Số cơ sở đã kiểm tra", "Số hành vi vi phạm",
                    "Số cơ sở vi phạm", "Số quyết định xử phạt", "Tiền phạt quyết định (đồng)")
KPI_HEADER_ROW = 4  # title, period line, blank
CAMPAIGN_HEADER_ROW = 3  # title, blank
_KPI_WIDTHS = (6, 60, 14, 14, 14, 14, 18, 40)
_CAMPAIGN_WIDTHS = (6, 16, 44, 12, 12, 14, 14, 14, 14, 20)


def write_periodic_xlsx(context: Mapping[str, Any], path: Path | str) -> Path:
    workbook = Workbook()
    sheet = _first_sheet(workbook, SHEET_KPI)
    period, kpi = context["period"], context["kpi"]
    _title(sheet, len(KPI_HEADERS), text=nfc(f"CHỈ TIÊU AN TOÀN, VỆ SINH LAO ĐỘNG - BÁO CÁO {period['label_vi'].upper()}"))
    _put(sheet.cell(2, 1), f"Năm {kpi['year']} so với năm {kpi['previous_year']}; {context['province_vi']}; "
                           f"chỉ tiêu phiên bản {kpi['version']}")
    headers = list(KPI_HEADERS)
    headers[2], headers[3] = f"Năm {kpi['previous_year']}", f"Năm {kpi['year']}"
    _header(sheet, KPI_HEADER_ROW, headers, _KPI_WIDTHS, height=30)
    for i, row in enumerate(kpi["rows"], start=1):
        r = KPI_HEADER_ROW + i
        places = "0.00" if row["key"] == "fatal_accident_rate" else "#,##0"
        values = [i, row["label_vi"], row["previous_value"], row["current_value"], row["change_value"],
                  float(row["target_percent"]), row["status_vi"], row["note_vi"]]
        for c, value in enumerate(values, start=1):
            _put(sheet.cell(r, c), value)
        sheet.cell(r, 3).number_format = sheet.cell(r, 4).number_format = places
        sheet.cell(r, 5).number_format = sheet.cell(r, 6).number_format = "+0.0;-0.0;0.0"
    _finish(sheet, KPI_HEADER_ROW, len(KPI_HEADERS), len(kpi["rows"]), freeze_column=3)
    _campaign_sheet(workbook.create_sheet(SHEET_CAMPAIGNS), context)
    props = workbook.properties
    props.creator = props.lastModifiedBy = "kiemtra"
    props.title = nfc(f"Báo cáo định kỳ {period['label_vi']}")
    props.created = props.modified = datetime.combine(context["issued_on"], time())
    path = Path(path)
    write_atomic(path, _reproducible(_save(workbook)))
    return path


def _campaign_sheet(sheet: Any, context: Mapping[str, Any]) -> None:
    campaigns = context["campaigns"]
    _title(sheet, len(CAMPAIGN_HEADERS), text=nfc(f"CÁC ĐỢT KIỂM TRA {context['period']['label_vi'].upper()} "
                                                   f"({short_date(context['period']['start'])} - "
                                                   f"{short_date(context['period']['end'])})"))
    _header(sheet, CAMPAIGN_HEADER_ROW, CAMPAIGN_HEADERS, _CAMPAIGN_WIDTHS, height=45)
    keys = ("inspected", "violations", "establishments", "decisions", "fines_final")
    rows = campaigns["rows"]
    for i, row in enumerate(rows, start=1):
        values = [i, row["code"], row["title"], short_date(row["period_start"]), short_date(row["period_end"]),
                  *(row[k] for k in keys)]
        for c, value in enumerate(values, start=1):
            _put(sheet.cell(CAMPAIGN_HEADER_ROW + i, c), value, "#,##0" if c == 10 else None)
    total = CAMPAIGN_HEADER_ROW + len(rows) + 1
    _put(sheet.cell(total, 3), "Tổng cộng")
    for c, key in enumerate(keys, start=6):
        _put(sheet.cell(total, c), campaigns[key], "#,##0" if c == 10 else None)
    for c in range(1, len(CAMPAIGN_HEADERS) + 1):
        sheet.cell(total, c).font = Font(bold=True)
    _finish(sheet, CAMPAIGN_HEADER_ROW, len(CAMPAIGN_HEADERS), len(rows) + 1, freeze_column=3)


__all__ = ["CAMPAIGN_HEADERS", "CAMPAIGN_HEADER_ROW", "KPI_HEADERS", "KPI_HEADER_ROW", "SHEET_CAMPAIGNS", "SHEET_KPI",
           "write_periodic_xlsx"]
