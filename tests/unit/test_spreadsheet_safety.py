"""Every spreadsheet the engine writes hands Excel text, never a formula (issue 13, point 4).

A cell starting with = + - @ tab or CR is what a spreadsheet runs: in an XLSX it is a string cell with Excel's quote
prefix (it stays text even when a person edits it), in a CSV it gets a leading apostrophe; a number, negative or not,
stays a number."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

from services.documents.xlsx import LIST_HEADER_ROW, REMOVED_HEADER_ROW, REPORT_HEADER_ROW, write_report_xlsx, \
    write_selection_xlsx
from services.registry import columns as cols
from services.registry.export import export_registry_csv
from services.registry.report import ImportReport
from services.publishing.register import KEYS, open_data
from services.text_policy import FORMULA_STARTS
from services.reports.periodic_xlsx import CAMPAIGN_HEADER_ROW, SHEET_CAMPAIGNS, write_periodic_xlsx
from tests.unit.test_kpi import create_campaign_report_context, create_periodic_context
from tests.unit.test_selection_documents import LABELS, create_context as create_selection_context

HOSTILE = ['=HYPERLINK("http://x.invalid","Bấm vào đây")', "+1", "@SUM(A1)", "-2", "\tx", "\rcmd"]


def assert_text(cell: Cell, expected: str) -> None:
    assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value, cell.data_type)
    assert cell.value.replace("\n", "\r") == expected  # (the XML of the sheet turns a CR into a line feed)


def test_the_selection_list(tmp_path: Path) -> None:
    context = create_selection_context(n=12)
    for row, name in zip(context["rows"], HOSTILE, strict=False):
        row["name"] = name
    context["removed"][0]["reason_vi"] = "=1+1"
    book = load_workbook(write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=LABELS))
    sheet = book["Danh sách"]
    for r, name in enumerate(HOSTILE, start=LIST_HEADER_ROW + 1):
        assert_text(sheet.cell(r, 2), name)
        score = sheet.cell(r, 7 + len(LABELS))
        assert score.data_type == "n" and isinstance(score.value, float)
    assert_text(book["Đã loại"].cell(REMOVED_HEADER_ROW + 1, 4), "=1+1")
    ordinary = sheet.cell(LIST_HEADER_ROW + len(HOSTILE) + 1, 2)
    assert ordinary.data_type == "s" and not ordinary.quotePrefix  # the others are left as they are


def test_the_campaign_report(tmp_path: Path) -> None:
    context = create_campaign_report_context()
    rows = context["violations"]["by_establishment"]
    rows[0]["name"], rows[1]["name"] = "=cmd|' /C calc'!A0", "@SUM(1+1)"
    rows[2]["final"] = -2  # a number, negative: a number in the sheet
    book = load_workbook(write_report_xlsx(context, tmp_path / "bc.xlsx"))
    sheet = book["Cơ sở vi phạm"]
    assert_text(sheet.cell(REPORT_HEADER_ROW + 1, 2), "=cmd|' /C calc'!A0")
    assert_text(sheet.cell(REPORT_HEADER_ROW + 2, 2), "@SUM(1+1)")
    assert_text(sheet.cell(REPORT_HEADER_ROW + 3, 7), "-")  # "comply_vi": a dash, kept as text
    negative = sheet.cell(REPORT_HEADER_ROW + 3, 5)
    assert (negative.value, negative.data_type) == (-2, "n")


def test_the_periodic_report(tmp_path: Path) -> None:
    context = create_periodic_context()
    for row in context["campaigns"]["rows"]:  # as services.reports.periodic_report adds them
        row |= {"period_start": date(2025, 3, 2), "period_end": date(2025, 5, 29), "establishments": 9}
    context["campaigns"]["rows"][0]["title"] = "+84 912 345 678"
    context["campaigns"]["rows"][1]["violations"] = -3
    sheet = load_workbook(write_periodic_xlsx(context, tmp_path / "dk.xlsx"))[SHEET_CAMPAIGNS]
    assert_text(sheet.cell(CAMPAIGN_HEADER_ROW + 1, 3), "+84 912 345 678")
    negative = sheet.cell(CAMPAIGN_HEADER_ROW + 2, 7)
    assert (negative.value, negative.data_type) == (-3, "n")


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_the_registry_import_error_report() -> None:
    report = ImportReport(source="so-dang-ky.csv")
    for row, value in enumerate(HOSTILE, start=2):
        report.add(row, "Tên cơ sở", value, "Bắt đầu bằng ký tự công thức")
    (_, *lines) = read_csv(report.to_csv())
    values = [value for _, _, value, _ in lines]
    assert values[:4] == ["'" + v for v in HOSTILE[:4]]  # (the report shows a cell stripped: "\tx" is shown "x")
    assert not [v for v in values if v[:1] in FORMULA_STARTS]
    assert [row for row, _, _, _ in lines] == ["2", "3", "4", "5", "6", "7"]


def test_the_registry_export(tmp_path: Path) -> None:
    spec = list(cols.columns().values())
    row: dict[str, Any] = {c.name: None for c in spec} | {"tax_code": "0401234567", "name": "=1+1",
                                                          "address": "-phố Hợp Giang", "workforce": -2}
    assert export_registry_csv([row], tmp_path / "out.csv") == 1
    header, line = read_csv((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))
    cells = dict(zip(header, line, strict=True))
    assert cells["Tên cơ sở"] == "'=1+1" and cells["Địa chỉ"] == "'-phố Hợp Giang"
    assert cells["Số lao động"] == "-2" and cells["Mã số thuế"] == "0401234567"  # numbers and codes as they are


@pytest.mark.parametrize("value", HOSTILE)
def test_the_public_register_csv(value: str) -> None:
    row = {k: "" for k in KEYS} | {KEYS[0]: value}
    (_, line) = read_csv(open_data([row])["register.csv"])
    assert line[0] == "'" + value
