"""Checking a registry file's rows: the headers first (any problem refuses the file), then every cell with its
column's reader (``services.registry.columns``), the commune against the province, the rules across cells, and
repeated tax codes. Rows with an error are left out of the records and reported."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry import columns as cols, xlsx
from services.registry.reading import NO_HEADER, Cells, column_key, header_keys, stray_cells
from services.registry.report import ImportReport

__all__ = ["Checked", "RawRecord", "check", "check_rows"]

# (row number, {column: cell}, [(key, cell) of cells with no header])
RawRecord = tuple[int, dict[str, Any], list[tuple[str, Any]]]


@dataclass
class Checked:
    """The records that passed (with their row numbers), the columns the source has, and the report."""

    records: list[tuple[int, dict[str, Any]]]  # (row, stored values of the columns the source has)
    present: frozenset[str]
    report: ImportReport
    fatal: bool = False  # no row can be read (header problems, empty file)


def check_rows(source: str, raw: Iterator[tuple[int, Cells]], *, today: date) -> Checked:
    """Check a file's rows: headers first (any problem stops there), then every cell, then duplicates."""
    report = ImportReport(source)
    first = next(raw, None)
    if first is None:
        report.add(1, "", "", "Tệp trống: không có dòng tiêu đề")
        return Checked([], frozenset(), report, fatal=True)
    header_row, header = first[0], header_keys(first[1])
    mapping, problems = cols.match_headers([h for h in header if not h.startswith(NO_HEADER)])
    for p in problems:
        report.add(header_row, p.header, p.header, p.reason)
    if problems:
        return Checked([], frozenset(mapping.values()), report, fatal=True)
    where = [(i, mapping[h]) for i, h in enumerate(header) if h in mapping]
    width = len(header)
    unnamed = any(h.startswith(NO_HEADER) for h in header)

    def by_column() -> Iterator[RawRecord]:
        for number, cells in raw:
            if len(cells) == width:
                values = {col: cells[i] for i, col in where}
            else:
                values = {col: cells[i] if i < len(cells) else None for i, col in where}
            stray = [(column_key(i), cells[i]) for i in stray_cells(header, cells)] if unnamed or len(cells) > width else []
            yield number, values, stray
    checked = check(report, by_column(), frozenset(mapping.values()), today)
    if checked.report.rows == 0:
        report.add(header_row + 1, "", "", "Tệp không có dòng dữ liệu nào")
        checked.fatal = True
    return checked


def check(report: ImportReport, rows: Iterable[RawRecord],
          present: frozenset[str], today: date) -> Checked:
    readers = cols.readers(today)
    spec = cols.columns()
    required = {c.name for c in spec.values() if c.required}
    defaults = cols.defaults()
    rules = tuple(r for r in cols.RULES if r.columns <= present)
    rule_columns = frozenset().union(*(r.columns for r in rules))
    records: list[tuple[int, dict[str, Any]]] = []
    rows_by_tax: dict[str, list[int]] = defaultdict(list)
    errors = report.errors
    for number, raw, stray in rows:
        report.rows += 1
        before = len(errors)
        clean: dict[str, Any] = {}
        for col, cell in raw.items():
            if isinstance(cell, xlsx.Formula):  # its cached value may be stale or absent: never read as the value
                report.add(number, spec[col].header, cell, "Ô chứa công thức, không phải giá trị: hãy dán giá trị "
                           "(Paste Values) thay cho công thức")
                continue
            if cell is None or (cell.__class__ is str and not cell.strip()):
                if col in required:
                    report.add(number, spec[col].header, "", "Ô bắt buộc nhưng để trống")
                else:
                    clean[col] = defaults[col]
                continue
            try:
                clean[col] = readers[col](cell)
            except cols.CellError as exc:
                report.add(number, spec[col].header, cell, exc.reason)
        for key, cell in stray:
            report.add(number, key, cell, "Ô có dữ liệu nhưng cột không có tiêu đề")
        if "province_code" in clean and "commune_code" in clean:
            problem = cols.commune_problem(clean["province_code"], clean["commune_code"])
            if problem:
                report.add(number, spec["commune_code"].header, clean["commune_code"], problem)
        if rules and rule_columns <= clean.keys():
            for column, value, reason in cols.rule_problems(clean, rules):
                report.add(number, spec[column].header, value, reason)
        if "tax_code" in clean:
            rows_by_tax[clean["tax_code"]].append(number)
        if len(errors) == before:
            records.append((number, clean))
    duplicated = {n for numbers in rows_by_tax.values() if len(numbers) > 1 for n in numbers}
    for tax_code, numbers in rows_by_tax.items():
        for n in numbers if len(numbers) > 1 else ():
            others = ", ".join(str(m) for m in numbers if m != n)
            report.add(n, spec["tax_code"].header, tax_code, f"Mã số thuế {tax_code} trùng với dòng {others}")
    report.sort()
    return Checked([r for r in records if r[0] not in duplicated], present, report)

