"""Reading an XLSX registry file that may be broken or hostile: every refusal is one Vietnamese sentence.

An XLSX file is a zip of XML parts. Before openpyxl sees it, the zip is checked (a zip at all, not an encrypted
or legacy Excel file, not a CSV under another name, not a zip bomb) and every XML part is scanned for a
document type declaration: an XLSX part never has one, and a DTD is what entity-expansion attacks (billion
laughs, external entities) need. What openpyxl still cannot read (a truncated member, a workbook without a
sheet) is refused the same way. A formula cell comes back as a :class:`Formula`, so that the import reports it
as a formula instead of as an empty cell (openpyxl's ``data_only`` gives ``None`` when no value was cached).

Errors: :class:`XlsxRefused` (not a ``KiemtraError``: the importer turns it into its file report).
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree.ElementTree import ParseError
from services.errors import XlsxRefused

MAX_UNCOMPRESSED = 256 * 1024 * 1024  # all parts together; a 20,000-row registry is ~15 MB of XML
MAX_RATIO = 200  # uncompressed / compressed for one part over 1 MB; spreadsheet XML stays well under 100
CHUNK = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted XLSX, or a legacy .xls (Compound File Binary)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_UNREADABLE = "Tệp .xlsx bị hỏng hoặc không trọn vẹn (có thể chưa tải về xong): hãy mở bằng Excel, lưu lại rồi nhập lại"


class Formula(str):
    """A cell holding a formula (its text, e.g. ``=SUM(G2:G9)``), not a value."""


def rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, cells) of the first worksheet, formula cells as :class:`Formula`."""
    check_container(data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, zlib.error, ParseError, KeyError, EOFError, InvalidFileException, ValueError) as exc:
        raise XlsxRefused(_UNREADABLE) from exc
    try:
        if not workbook.worksheets:
            raise XlsxRefused("Tệp .xlsx không có trang tính (sheet) nào chứa dữ liệu")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the cells, not the stored (often stale) dimension
        try:
            for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
                yield number, tuple(Formula(c.value) if c.data_type == "f" else c.value for c in cells)
        except (zipfile.BadZipFile, zlib.error, ParseError, KeyError, EOFError, ValueError) as exc:
            raise XlsxRefused(_UNREADABLE) from exc
    finally:
        workbook.close()


def check_container(data: bytes) -> None:
    """Refuse what is not a plain XLSX zip before any XML is parsed."""
    if data.startswith(OLE_MAGIC):
        raise XlsxRefused("Tệp được đặt mật khẩu (mã hoá) hoặc là tệp Excel cũ (.xls): hãy bỏ mật khẩu và lưu lại "
                          "dạng .xlsx")
    if not data:
        raise XlsxRefused("Tệp trống (0 byte), không phải bảng tính Excel")
    if not data.startswith(b"PK"):
        raise XlsxRefused(_not_a_zip(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise XlsxRefused(_UNREADABLE) from exc
    with archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
            raise XlsxRefused(f"Tệp .xlsx khi giải nén vượt quá {MAX_UNCOMPRESSED // (1024 * 1024)} MB: không đọc "
                              "(có thể là tệp nén độc hại)")
        for m in members:
            if m.file_size > CHUNK and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise XlsxRefused(f"Phần '{m.filename}' của tệp .xlsx nén bất thường (tỷ lệ nén trên {MAX_RATIO} lần): "
                                  "không đọc (có thể là tệp nén độc hại)")
            if m.filename.lower().endswith((".xml", ".rels", ".vml")):
                _refuse_dtd(archive, m)


def _refuse_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """A DOCTYPE or ENTITY declaration anywhere in a part (read in chunks, NULs dropped so UTF-16 is seen too)."""
    tail = b""
    try:
        with archive.open(member) as part:
            while chunk := part.read(CHUNK):
                window = tail + chunk.replace(b"\x00", b"")
                if _DTD.search(window):
                    raise XlsxRefused(f"Phần '{member.filename}' của tệp .xlsx có khai báo DOCTYPE/ENTITY, điều mà tệp "
                                      "Excel không bao giờ có: không đọc (có thể là tệp độc hại)")
                tail = window[-32:]
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise XlsxRefused(_UNREADABLE) from exc


def _not_a_zip(data: bytes) -> str:
    head = data[:4096]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "Tệp không phải là tệp Excel .xlsx (không đọc được cấu trúc tệp): hãy lưu lại từ Excel dạng .xlsx"
    if "," in text or ";" in text or "\t" in text:
        return "Tệp có đuôi .xlsx nhưng nội dung là văn bản CSV: hãy đổi đuôi thành .csv rồi nhập lại"
    return "Tệp có đuôi .xlsx nhưng nội dung là văn bản, không phải bảng tính Excel: hãy lưu lại từ Excel dạng .xlsx"
