"""The selection list as a spreadsheet: one column per risk factor, so the lead can sort and defend it.

:func:`write_selection_xlsx` takes the context of the ``danh_sach_co_so`` PDF (see that template), whose rows
additionally carry ``factors`` (factor key -> points), and the policy's Vietnamese labels (factor key ->
label, in the policy's order; :func:`services.documents.selection_list.policy_labels`). Two sheets:

- ``Danh sách``: a title, the selection basis (one line each), a blank row, the header row at
  :data:`LIST_HEADER_ROW` (:data:`LEADING_HEADERS`, one column per label, :data:`TRAILING_HEADERS`), then
  one row per establishment in the given order; a factor worth 0 is a blank cell;
- ``Đã loại``: the establishments the lead removed, with the reason (header row :data:`REMOVED_HEADER_ROW`);
- ``Căn cứ lập danh sách``: what lets anyone redo the selection (risk policy version, eligibility rule, seed,
  registry rows and fingerprint), one (item, value) row each: kept out of the list's own lines, as in the PDF.

:func:`write_report_xlsx` writes the figures of the báo cáo kết quả kiểm tra (``bao_cao_ket_qua_kiem_tra``
context): a ``Thông tin`` sheet (the report's number, date, campaign) and one sheet per table of the report
(:data:`REPORT_SHEETS`), each cell holding the value the PDF prints in the same row and column.

The same context gives the same bytes: the workbook's created/modified dates are the list's date
(``issued_on``) and every zip entry carries a fixed timestamp. Text is NFC and is never a formula: it is stored as a
string cell, and one starting with ``=`` ``+`` ``-`` ``@`` tab or CR (:data:`services.text_policy.FORMULA_STARTS`) also
carries Excel's quote prefix, the hidden apostrophe that keeps it text when a person edits the cell (issue 13).
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from services.documents.storage import write_atomic
from services.documents.format import group_digits, long_date, nfc, short_date
from services.text_policy import FORMULA_STARTS

SHEET_LIST = "Danh sách"
SHEET_REMOVED = "Đã loại"
SHEET_BASIS = "Căn cứ lập danh sách"
TITLE = "DANH SÁCH CƠ SỞ DỰ KIẾN KIỂM TRA"
LEADING_HEADERS = ("TT", "Tên cơ sở", "Mã số thuế", "Địa chỉ (xã)", "Ngành", "Số lao động")
TRAILING_HEADERS = ("Điểm rủi ro", "Loại")
REMOVED_HEADERS = ("TT", "Tên cơ sở", "Mã số thuế", "Lý do loại", "Người đề nghị")
BASIS_LINES = 6  # rows 2..7 of the list sheet (see _basis_lines)
LIST_HEADER_ROW = 1 + BASIS_LINES + 2  # title, basis lines, a blank row
REMOVED_HEADER_ROW = 3  # title, blank row

_LEADING_WIDTHS = (6, 44, 17, 22, 28, 11)
_TRAILING_WIDTHS = (11, 24)
_FACTOR_WIDTH = 14
_REMOVED_WIDTHS = (6, 44, 17, 60, 18)
_POINTS = "0.00"
_WHOLE = "#,##0"
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry


def write_selection_xlsx(context: Mapping[str, Any], path: Path | str, *, labels: Mapping[str, str]) -> Path:
    """Write the selection list workbook (:func:`selection_xlsx_bytes`) to ``path`` (atomically: temp file, then
    ``os.replace``)."""
    path = Path(path)
    write_atomic(path, selection_xlsx_bytes(context, labels=labels))
    return path


def selection_xlsx_bytes(context: Mapping[str, Any], *, labels: Mapping[str, str]) -> bytes:
    """The selection list workbook in memory (the same bytes for the same context).

    ``context`` is the ``danh_sach_co_so`` context with ``factors`` on every row; ``labels`` maps every
    factor key of the policy to its Vietnamese label and fixes the factor columns and their order. A row
    whose factors hold a key that ``labels`` lacks raises ``ValueError`` before anything is written, as
    does a missing context key (``KeyError``).
    """
    labels = {key: nfc(label) for key, label in labels.items()}
    rows = list(context["rows"])
    for row in rows:
        unknown = sorted(set(row["factors"]) - set(labels))
        if unknown:
            raise ValueError(f"cơ sở {row['tax_code']}: yếu tố rủi ro không có trong chính sách {unknown}")
    workbook = Workbook()
    sheet = _first_sheet(workbook, SHEET_LIST)
    _list_sheet(sheet, context, rows, labels)
    _removed_sheet(workbook.create_sheet(SHEET_REMOVED), context)
    _pairs_sheet(workbook.create_sheet(SHEET_BASIS), "CĂN CỨ LẬP DANH SÁCH", _basis_pairs(context))
    when = datetime.combine(_as_date(context["issued_on"]), time())
    props = workbook.properties
    props.creator = props.lastModifiedBy = "kiemtra"
    props.title = nfc(f"{TITLE} - {context['campaign']['code']}")
    props.created = props.modified = when
    return _reproducible(_save(workbook))


# --- sheets --------------------------------------------------------------------------------------------

def _list_sheet(sheet: Worksheet, context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]],
                labels: Mapping[str, str]) -> None:
    headers = [*LEADING_HEADERS, *labels.values(), *TRAILING_HEADERS]
    widths = [*_LEADING_WIDTHS, *[_FACTOR_WIDTH] * len(labels), *_TRAILING_WIDTHS]
    _title(sheet, len(headers))
    for offset, line in enumerate(_basis_lines(context, len(rows)), start=2):
        _put(sheet.cell(offset, 1), line)
    _header(sheet, LIST_HEADER_ROW, headers, widths, height=90)
    first_factor = len(LEADING_HEADERS) + 1
    for r, row in enumerate(rows, start=LIST_HEADER_ROW + 1):
        values = [row["rank"], row["name"], row["tax_code"], row["commune_vi"], row["sector_vi"], row["workforce"]]
        for c, value in enumerate(values, start=1):
            _put(sheet.cell(r, c), value)
        for c, key in enumerate(labels, start=first_factor):
            points = row["factors"].get(key)
            _put(sheet.cell(r, c), float(points) if points else None, _POINTS)
        c = first_factor + len(labels)
        _put(sheet.cell(r, c), float(row["score"]), _POINTS)
        _put(sheet.cell(r, c + 1), row["kind_vi"])
        sheet.cell(r, 6).number_format = _WHOLE
        sheet.cell(r, 3).number_format = "@"
    _finish(sheet, LIST_HEADER_ROW, len(headers), len(rows), freeze_column=3)


def _removed_sheet(sheet: Worksheet, context: Mapping[str, Any]) -> None:
    removed = list(context["removed"])
    _title(sheet, len(REMOVED_HEADERS), text=f"CƠ SỞ ĐÃ LOẠI KHỎI DANH SÁCH - {context['campaign']['code']}")
    _header(sheet, REMOVED_HEADER_ROW, REMOVED_HEADERS, _REMOVED_WIDTHS, height=30)
    for r, item in enumerate(removed, start=REMOVED_HEADER_ROW + 1):
        values = [r - REMOVED_HEADER_ROW, item["name"], item["tax_code"], item["reason_vi"], item["changed_by"] or ""]
        for c, value in enumerate(values, start=1):
            _put(sheet.cell(r, c), value)
        sheet.cell(r, 3).number_format = "@"
    _finish(sheet, REMOVED_HEADER_ROW, len(REMOVED_HEADERS), len(removed), freeze_column=1)


def _basis_lines(context: Mapping[str, Any], total: int) -> list[str]:
    """The selection basis, one line each (BASIS_LINES of them), worded as in the PDF."""
    issuer, campaign, basis, counts = context["issuer"], context["campaign"], context["basis"], context["counts"]
    lines = [
        f"({context['attached_vi']})",
        f"{issuer['parent_name']} - {issuer['name']}; lập tại {issuer['place']}, {long_date(_as_date(context['issued_on']))}",
        f"Đợt kiểm tra {campaign['kind_vi']}: {campaign['title']}, từ ngày {short_date(_as_date(campaign['period_start']))} "
        f"đến ngày {short_date(_as_date(campaign['period_end']))}",
        f"Điều kiện lựa chọn: {basis['eligibility_rule_vi']}",
        f"Dữ liệu cơ sở lao động dùng để lựa chọn: {group_digits(int(basis['registry_rows']))} bản ghi",
        f"Tổng số cơ sở dự kiến kiểm tra: {total}, gồm: {counts['risk']} theo mức độ rủi ro; {counts['control']} mẫu "
        f"đối chứng ngẫu nhiên; {counts['trigger']} đột xuất có căn cứ; {counts['lead_added']} bổ sung theo đề nghị "
        f"của trưởng đoàn. Đã loại khỏi danh sách: {counts['removed']}",
    ]
    return lines


def _basis_pairs(context: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The data that lets anyone redo the selection: the PDF's annex page, as (item, value) rows."""
    basis, campaign = context["basis"], context["campaign"]
    return [("Mã đợt kiểm tra", campaign["code"]),
            ("Bộ tiêu chí đánh giá rủi ro (phiên bản)", basis["policy_version"]),
            ("Điều kiện lựa chọn", basis["eligibility_rule_vi"]),
            ("Số bản ghi của dữ liệu cơ sở lao động", int(basis["registry_rows"])),
            ("Mã kiểm chứng của dữ liệu (SHA-256)", basis["registry_fingerprint"] or ""),
            ("Giá trị khởi tạo ngẫu nhiên (seed)", "" if basis["seed"] is None else str(basis["seed"]))]


PAIRS_HEADER_ROW = 3  # title, blank row


def _pairs_sheet(sheet: Worksheet, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    _title(sheet, 2, text=title)
    _header(sheet, PAIRS_HEADER_ROW, ("Nội dung", "Giá trị"), (44, 80), height=20)
    for r, (label, value) in enumerate(pairs, start=PAIRS_HEADER_ROW + 1):
        _put(sheet.cell(r, 1), label)
        _put(sheet.cell(r, 2), value, _WHOLE if isinstance(value, int) else None)
    _finish(sheet, PAIRS_HEADER_ROW, 2, len(pairs), freeze_column=1)


# --- the campaign report's figures ---------------------------------------------------------------------

# One sheet per table of the report: (sheet, title, list path in the context, columns). A column is
# (header, key, kind): "number" (a whole number, "#,##0"), "text", or "index" (the row's number, 1-based).
ReportColumn = tuple[str, str, str]
REPORT_SHEETS: tuple[tuple[str, str, str, tuple[ReportColumn, ...]], ...] = (
    ("Đoàn kiểm tra", "ĐOÀN KIỂM TRA", "overview.teams",
     (("TT", "", "index"), ("Đoàn kiểm tra", "name", "text"), ("Số thành viên", "members", "number"),
      ("Số cơ sở được giao", "inspections", "number"), ("Số cơ sở đã kiểm tra", "visited", "number"))),
    ("Theo ngành", "CƠ SỞ ĐÃ KIỂM TRA THEO NGÀNH", "overview.sectors",
     (("TT", "", "index"), ("Ngành", "label", "text"), ("Số cơ sở đã kiểm tra", "inspected", "number"),
      ("Số cơ sở vi phạm", "violators", "number"), ("Số hành vi vi phạm", "violations", "number"))),
    ("Theo quy định", "VI PHẠM THEO QUY ĐỊNH", "violations.by_provision",
     (("TT", "", "index"), ("Quy định", "label", "text"), ("Hành vi", "act_vi", "text"),
      ("Số hành vi", "count", "number"), ("Số cơ sở", "establishments", "number"),
      ("Tiền phạt đề xuất (đồng)", "proposed", "number"), ("Tiền phạt quyết định (đồng)", "final", "number"))),
    ("Theo lĩnh vực", "VI PHẠM THEO CƠ QUAN, LĨNH VỰC", "violations.by_agency",
     (("TT", "", "index"), ("Cơ quan", "label", "text"), ("Lĩnh vực", "area_vi", "text"),
      ("Số hành vi", "count", "number"), ("Số cơ sở", "establishments", "number"))),
    ("Cơ sở vi phạm", "CƠ SỞ VI PHẠM", "violations.by_establishment",
     (("TT", "", "index"), ("Cơ sở", "name", "text"), ("Số hành vi", "count", "number"),
      ("Tiền phạt đề xuất (đồng)", "proposed", "number"), ("Tiền phạt quyết định (đồng)", "final", "number"),
      ("Quyết định xử phạt", "decision_vi", "text"), ("Chấp hành", "comply_vi", "text"))),
    ("Chấp hành, khắc phục", "CHẤP HÀNH QUYẾT ĐỊNH VÀ KHẮC PHỤC HẬU QUẢ", "remedies.rows",
     (("TT", "", "index"), ("Nội dung", "label", "text"), ("Phải thực hiện", "due", "number"),
      ("Đã thực hiện", "met", "number"), ("Chưa thực hiện", "open", "number"), ("Trong đó quá hạn", "overdue", "number"))),
    ("Biện pháp khắc phục", "BIỆN PHÁP KHẮC PHỤC HẬU QUẢ", "remedies.measures",
     (("TT", "", "index"), ("Biện pháp", "measure_vi", "text"), ("Phải thực hiện", "due", "number"),
      ("Đã thực hiện", "met", "number"), ("Chưa thực hiện", "open", "number"), ("Trong đó quá hạn", "overdue", "number"))),
)
SHEET_INFO = "Thông tin"
REPORT_HEADER_ROW = 3  # title, blank row


def _at(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for key in path.split("."):
        value = value[key]
    return value


def report_summary(context: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The report's single figures (the ``Thông tin`` sheet), as the PDF's sentences give them."""
    o, v, f, r, a = (context["overview"], context["violations"], context["fines"], context["remedies"],
                     context["assessment"])
    return [
        ("Số báo cáo", context["number"]), ("Ngày báo cáo", short_date(_as_date(context["issued_on"]))),
        ("Mã đợt kiểm tra", context["campaign"]["code"]), ("Tên đợt kiểm tra", context["campaign"]["title"]),
        ("Số cơ sở trong danh sách được phê duyệt", o["selected"]), ("Số cơ sở đã lên lịch kiểm tra", o["scheduled"]),
        ("Số cơ sở đã kiểm tra", o["inspected"]), ("Số cơ sở chưa kiểm tra", o["not_inspected"]),
        ("Số cơ sở có vi phạm", a["with_violations"]), ("Số cơ sở không phát hiện vi phạm", a["without_violations"]),
        ("Số hành vi vi phạm", v["count"]), ("Số hành vi tái phạm", v["repeat"]["count"]),
        ("Tổng số tiền phạt đề xuất (đồng)", f["proposed"]), ("Số hành vi đã có quyết định xử phạt", f["decided"]),
        ("Số quyết định xử phạt", f["decisions"]), ("Tổng số tiền phạt quyết định (đồng)", f["final"]),
        ("Số hành vi chưa có quyết định xử phạt", f["undecided"]),
        ("Quyết định phải chấp hành", r["comply"]["due"]), ("Quyết định đã chấp hành", r["comply"]["met"]),
        ("Quyết định chưa chấp hành", r["comply"]["open"]), ("Quyết định quá hạn chấp hành", r["comply"]["overdue"]),
        ("Biện pháp khắc phục phải thực hiện", r["remedial"]["due"]), ("Biện pháp khắc phục đã thực hiện", r["remedial"]["met"]),
        ("Biện pháp khắc phục chưa thực hiện", r["remedial"]["open"]),
        ("Biện pháp khắc phục quá hạn", r["remedial"]["overdue"]),
    ]


def write_report_xlsx(context: Mapping[str, Any], path: Path | str) -> Path:
    """Write the campaign report's figures (the ``bao_cao_ket_qua_kiem_tra`` context, with its ``number``) to
    ``path``, atomically; the same context gives the same bytes."""
    workbook = Workbook()
    info = _first_sheet(workbook, SHEET_INFO)
    _pairs_sheet(info, nfc(f"BÁO CÁO KẾT QUẢ KIỂM TRA SỐ {context['number']}"), report_summary(context))
    for name, title, each, columns in REPORT_SHEETS:
        sheet = workbook.create_sheet(name)
        items = list(_at(context, each))
        _title(sheet, len(columns), text=title)
        widths = [6 if kind == "index" else 50 if kind == "text" else 16 for _, _, kind in columns]
        _header(sheet, REPORT_HEADER_ROW, [h for h, _, _ in columns], widths, height=45)
        for r, item in enumerate(items, start=REPORT_HEADER_ROW + 1):
            for c, (_, key, kind) in enumerate(columns, start=1):
                value = r - REPORT_HEADER_ROW if kind == "index" else item[key]
                _put(sheet.cell(r, c), value, _WHOLE if kind == "number" and value is not None else None)
        _finish(sheet, REPORT_HEADER_ROW, len(columns), len(items), freeze_column=1)
    when = datetime.combine(_as_date(context["issued_on"]), time())
    props = workbook.properties
    props.creator = props.lastModifiedBy = "kiemtra"
    props.title = nfc(f"Báo cáo kết quả kiểm tra số {context['number']} - {context['campaign']['title']}")
    props.created = props.modified = when
    path = Path(path)
    write_atomic(path, _reproducible(_save(workbook)))
    return path


def _title(sheet: Worksheet, columns: int, text: str = TITLE) -> None:
    cell = sheet.cell(1, 1)
    _put(cell, text)
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)


def _header(sheet: Worksheet, row: int, headers: Iterable[str], widths: Iterable[float], *, height: float) -> None:
    for c, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row, c)
        _put(cell, text)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.row_dimensions[row].height = height


def _finish(sheet: Worksheet, header_row: int, columns: int, count: int, *, freeze_column: int) -> None:
    """Borders and wrapping on the body, frozen header, filter, A4 landscape print with the header repeated."""
    for row in sheet.iter_rows(min_row=header_row + 1, max_row=header_row + count, max_col=columns):
        for cell in row:
            cell.border = _BOX
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    last = get_column_letter(columns)
    sheet.freeze_panes = f"{get_column_letter(freeze_column)}{header_row + 1}"
    if count:
        sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + count}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _first_sheet(workbook: Workbook, title: str) -> Worksheet:
    """A new workbook's one worksheet, renamed (``Workbook.active`` is typed as maybe a chartsheet, or None)."""
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError(f"a new workbook's active sheet is a worksheet, got {sheet!r}")
    sheet.title = title
    return sheet


def _put(cell: Cell | MergedCell, value: Any, number_format: str | None = None) -> None:
    """Text NFC and never a formula; numbers as numbers."""
    if isinstance(cell, MergedCell):
        raise TypeError(f"{cell.coordinate} is inside a merged range: only its top-left cell takes a value")
    if isinstance(value, str):
        cell.value = nfc(value)
        cell.data_type = "s"  # openpyxl would take a leading '=' for a formula
        if value[:1] in FORMULA_STARTS:
            cell.quotePrefix = True  # and Excel would, once the cell is edited
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format


def _as_date(value: Any) -> date:
    if not isinstance(value, date):
        raise ValueError(f"expected a date, got {value!r}")
    return value.date() if isinstance(value, datetime) else value


# --- bytes ---------------------------------------------------------------------------------------------

def _save(workbook: Workbook) -> bytes:
    """openpyxl's save without its ``modified = now`` (openpyxl.writer.excel.save_workbook sets it)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


def _reproducible(data: bytes) -> bytes:
    """The same archive with every entry stamped with a fixed time (zipfile stamps ``writestr`` with now)."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()




__all__ = [
    "LEADING_HEADERS", "LIST_HEADER_ROW", "PAIRS_HEADER_ROW", "REMOVED_HEADERS", "REMOVED_HEADER_ROW", "REPORT_HEADER_ROW",
    "REPORT_SHEETS", "SHEET_BASIS", "SHEET_INFO", "SHEET_LIST", "SHEET_REMOVED", "TRAILING_HEADERS", "report_summary",
    "write_report_xlsx", "write_selection_xlsx",
]
