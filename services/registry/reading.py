"""Reading a registry file: CSV (UTF-8; "," or ";" or tab) or XLSX, row by row, blank rows skipped.

Rows keep their spreadsheet numbers (header = row 1, blank rows count). A cell under a blank header or past the
last header is keyed ``"(cột AD)"`` so that the check can report it. A file that cannot be read at all is refused
with a one-line report (:func:`services.registry.report.unreadable`)."""
from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from services.errors import RegistryImportRejected
from services.registry import columns as cols, xlsx
from services.registry.report import ImportReport, unreadable

__all__ = ["Cells", "NO_HEADER", "column_key", "header_keys", "raw_rows", "read_rows", "stray_cells"]

NO_HEADER = "(cột "  # key prefix of a cell under a blank header or past the last header

Cells = Sequence[Any]
Rows = Generator[tuple[int, Cells], None, None]


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {header: cell}) for each non-blank data row of a CSV or XLSX file.

    Cells under a blank header or past the last header are keyed ``"(cột AD)"`` (only when not blank).
    """
    with closing(raw_rows(path.name, path.read_bytes())) as raw:
        header: list[str] | None = None
        for number, cells in raw:
            if header is None:
                header = header_keys(cells)
                continue
            row = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if not h.startswith(NO_HEADER)}
            row.update((column_key(i), cells[i]) for i in stray_cells(header, cells))
            yield number, row


def raw_rows(name: str, data: bytes) -> Rows:
    """(row number, cells) of the non-blank rows, header included."""
    suffix = Path(name).suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        rows: Iterator[tuple[int, Cells]] = _xlsx_rows(name, data)
    elif suffix in (".csv", ".txt"):
        text = _decode(name, data)
        rows = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)), start=1)
    else:
        report = ImportReport(name)
        report.add(1, "", name, "Chỉ nhận tệp .csv (UTF-8) hoặc .xlsx")
        raise RegistryImportRejected(report)
    return _non_blank(rows)


def _non_blank(rows: Iterator[tuple[int, Cells]]) -> Rows:
    try:
        for number, cells in rows:
            if not all(c is None or (c.__class__ is str and not c.strip()) for c in cells):
                yield number, cells
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # an XLSX workbook


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report = ImportReport(name)
        report.add(data.count(b"\n", 0, exc.start) + 1, "", "", 'Tệp không phải văn bản UTF-8: lưu lại dạng "CSV UTF-8"')
        raise RegistryImportRejected(report) from None


def _delimiter(text: str) -> str:
    """"," or ";" (Vietnamese Excel) or tab, whichever makes more of the first line known headers."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    known = cols.header_index()

    def score(delim: str) -> tuple[int, int]:
        cells = next(csv.reader([first], delimiter=delim), [])
        return sum(cols.normalise_header(c) in known for c in cells), len(cells)
    return max((",", ";", "\t"), key=score)


def _xlsx_rows(name: str, data: bytes) -> Rows:
    try:
        yield from xlsx.rows(data)
    except xlsx.XlsxRefused as exc:
        raise unreadable(name, exc.reason) from None


def header_keys(cells: Cells) -> list[str]:
    """The header row's cells as keys: cleaned text, or ``"(cột B)"`` for a blank one."""
    return [column_key(i) if cols.is_blank(c) else cols.clean_text(str(c)) for i, c in enumerate(cells)]


def column_key(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{NO_HEADER}{get_column_letter(index + 1)})"


def stray_cells(header: list[str], cells: Cells) -> list[int]:
    """Indexes of non-blank cells with no header."""
    out = [i for i in range(len(header), len(cells)) if not cols.is_blank(cells[i])]
    return [i for i, h in enumerate(header) if h.startswith(NO_HEADER) and i < len(cells) and not cols.is_blank(cells[i])] + out

