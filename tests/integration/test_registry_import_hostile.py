"""Broken and hostile XLSX registry files: each refused with one Vietnamese sentence, nothing stored, no traceback.

The files are built here: not a zip, a truncated download, entity expansion (billion laughs, also in UTF-16), a zip
bomb, a workbook without a sheet, an encrypted (Compound File) workbook, a CSV saved under .xlsx. Formula cells are
reported as formulas, with their row and column, not as empty cells (issue 13, point 7).
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from models import AuditEvent
from models.establishment import Establishment
from models.registry import RegistryImport
from services.db import session_scope
from services.registry.importer import import_registry
from services.errors import RegistryImportRejected
from services.settings import Settings, get_settings
from tests.factories import count

TODAY = date(2026, 3, 1)
HEADERS = ["Mã số thuế", "Tên cơ sở", "Địa chỉ", "Mã tỉnh", "Mã xã", "Ngành kinh tế (VSIC)", "Số lao động"]
ROW = ["0462290173", "Công ty TNHH Cơ khí Minh Phát", "Số 1, phường Thục Phán, tỉnh Cao Bằng", "04", "01273", "25", 45]
ROOT = Path(__file__).resolve().parents[2]


def good_xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows or (ROW,):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replaced(data: bytes, **parts: bytes) -> bytes:
    """The zip with some parts' bytes replaced (names with '/' written as '__', '[Content_Types]' as 'content_types')."""
    names = {k.replace("__", "/").replace("content_types", "[Content_Types]") + ".xml": v for k, v in parts.items()}
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, names.get(info.filename, src.read(info.filename)))
    return out.getvalue()


LOLS = "".join(f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10))
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol0 "lol">' + LOLS + ']>'
                  '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                  '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def bomb() -> bytes:
    """A valid workbook plus a 64 MB part of spaces (about 64 KB compressed)."""
    out = io.BytesIO(good_xlsx())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/customXml/item1.xml", b"<a>" + b" " * (64 * 1024 * 1024) + b"</a>")
    return out.getvalue()


def hostile() -> dict[str, tuple[bytes, str]]:
    good = good_xlsx()
    csv_text = (",".join(HEADERS) + "\n" + ",".join(str(c) for c in ROW) + "\n").encode()
    # openpyxl writes `<sheet … />` with the standard library's XML writer and `<sheet …/>` with lxml (which pyHanko
    # brings): take the sheet list out whichever wrote it
    no_sheet = re.sub(rb"<sheets>.*?</sheets>", b"<sheets />", zipfile.ZipFile(io.BytesIO(good)).read("xl/workbook.xml"))
    assert b"<sheets />" in no_sheet
    return {
        "not a zip": (bytes(range(256)) * 40, "không phải là tệp Excel .xlsx"),
        "truncated": (good[: len(good) // 2], "bị hỏng hoặc không trọn vẹn"),
        "truncated inside a part": (good[:-200] + bytes(200), "bị hỏng hoặc không trọn vẹn"),
        "billion laughs": (replaced(good, xl__worksheets__sheet1=BILLION_LAUGHS.encode()), "khai báo DOCTYPE/ENTITY"),
        "billion laughs in UTF-16": (replaced(good, xl__worksheets__sheet1=BILLION_LAUGHS.replace(
            '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")),
            "khai báo DOCTYPE/ENTITY"),
        "external entity": (replaced(good, content_types=b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM '
                                                          b'"file:///etc/passwd">]><Types>&x;</Types>'),
                            "khai báo DOCTYPE/ENTITY"),
        "zip bomb": (bomb(), "nén bất thường"),
        "no sheet": (replaced(good, xl__workbook=no_sheet), "không có trang tính"),
        "encrypted": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"EncryptionInfo" + bytes(1024),
                      "đặt mật khẩu (mã hoá)"),
        "CSV renamed .xlsx": (csv_text, "nội dung là văn bản CSV"),
        "empty file": (b"", "trống (0 byte)"),
    }


CASES = hostile()


def stored(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings) as session:
        return count(session, Establishment), count(session, RegistryImport), count(session, AuditEvent)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_broken_or_hostile_xlsx_is_refused_in_vietnamese(settings: Settings, tmp_path: Path, case: str) -> None:
    data, reason = CASES[case]
    path = tmp_path / "so-dang-ky.xlsx"
    path.write_bytes(data)

    with pytest.raises(RegistryImportRejected) as refused:
        import_registry(settings, path, actor="chuyenvien", today=TODAY)

    [error] = refused.value.report.errors
    assert (error.row, error.column, error.value) == (1, "", "so-dang-ky.xlsx")
    assert reason in error.reason and reason in refused.value.message
    assert refused.value.message.startswith("Không nhập so-dang-ky.xlsx: ")
    assert stored(settings) == (0, 0, 0)


@pytest.mark.parametrize("case", ["not a zip", "billion laughs", "encrypted", "CSV renamed .xlsx"])
def test_the_command_line_says_why_and_exits_non_zero(settings: Settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    from services.entry.cli.app import app

    data, reason = CASES[case]
    path = tmp_path / "so-dang-ky.xlsx"
    path.write_bytes(data)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    get_settings.cache_clear()

    result = CliRunner().invoke(app, ["registry", "import", str(path)])

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert reason in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert stored(settings) == (0, 0, 0)


def test_the_installed_command_prints_no_traceback(settings: Settings, tmp_path: Path) -> None:
    """The real process, as a clerk runs it: one refusal, exit 1, nothing on stderr."""
    path = tmp_path / "so-dang-ky.xlsx"
    path.write_bytes(CASES["billion laughs"][0])
    env = {**os.environ, "KIEMTRA_DATA_DIR": str(settings.data_dir), "KIEMTRA_ENVIRONMENT": "test", "COLUMNS": "200"}
    done = subprocess.run([str(Path(sys.executable).parent / "kiemtra"), "registry", "import", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and done.stderr == ""
    assert "khai báo DOCTYPE/ENTITY" in " ".join(done.stdout.split())


def test_formula_cells_are_reported_as_formulas_with_row_and_column(settings: Settings, tmp_path: Path) -> None:
    """openpyxl writes no cached value: read for values, these cells looked empty (or took the default)."""
    other = ["0474178708", "Hợp tác xã B", "Số 2, phường Thục Phán", "04", "01279", "01", "=10*5"]
    named = ["0479519359", "=B2", "Số 3, phường Thục Phán", "04", "01279", "46", 8]
    path = tmp_path / "so-dang-ky.xlsx"
    path.write_bytes(good_xlsx(ROW, other, named))

    with pytest.raises(RegistryImportRejected) as refused:
        import_registry(settings, path, actor="chuyenvien", today=TODAY)

    reason = "Ô chứa công thức, không phải giá trị: hãy dán giá trị (Paste Values) thay cho công thức"
    assert [(e.row, e.column, e.value, e.reason) for e in refused.value.report.errors] == [
        (3, "Số lao động", "=10*5", reason), (4, "Tên cơ sở", "=B2", reason)]
    assert stored(settings) == (0, 0, 0)
    result = import_registry(settings, path, actor="chuyenvien", valid_only=True, today=TODAY)
    assert (result.inserted, result.rejected) == (1, 2)
