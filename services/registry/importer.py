"""Import the establishment registry from Vietnamese spreadsheets (CSV, XLSX) or the registry API.

Procedure: read every row, check every cell (``services.registry.columns``), then, in ONE transaction,
compare with what is stored and write. A file with any error writes nothing, unless ``valid_only=True``:
then the valid rows are written and the errors reported. Rows are matched by tax code: new ones are
inserted, changed ones (``row_checksum`` differs) updated, equal ones left untouched. Nothing is deleted.

Decisions:

* a column the file does not have keeps the stored value of an existing establishment, and takes the
  default (``columns.defaults``) for a new one. The consistency rules are checked on the merged row;
* header problems (missing required, unknown, repeated header) reject the file even with ``valid_only``;
* every accepted import, a no-op included, is recorded: one ``RegistryImport`` row and one audit event
  (action ``registry_import``) in the same transaction as the writes. A no-op import is evidence that the
  registry was checked against that file on that day; it touches no establishment;
* error rows are numbered as in the spreadsheet (header = row 1, blank rows count); API records are
  numbered 1, 2, … in the order the API returned them.

Errors: ``RegistryImportRejected(KiemtraError)`` carries the :class:`ImportReport`.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from services.rules.calendar import today_in_vietnam
from models.establishment import ESTABLISHMENT_COLUMNS, Establishment
from models.registry import RegistryImport
from services import audit
from services.db import session_scope
from services.errors import RegistryImportRejected
from services.registry import columns as cols, xlsx
from services.registry.fingerprint import with_derived
from services.settings import Settings
from services.text_policy import spreadsheet_safe

__all__ = ["ImportError_", "ImportReport", "ImportResult", "RegistryImportRejected", "export_registry_csv",
           "import_records", "import_registry", "read_rows"]

BATCH = 5000
AUDIT_TAX_CODES = 200  # updated tax codes listed in the audit event
_NO_HEADER = "(cột "  # key prefix of a cell under a blank header or past the last header


class ImportError_(NamedTuple):  # noqa: N801 (the trailing _ keeps it apart from the builtin ImportError)
    row: int
    column: str  # the Vietnamese header
    value: str  # the cell as the user typed it
    reason: str  # Vietnamese


@dataclass
class ImportReport:
    source: str
    rows: int = 0
    errors: list[ImportError_] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rejected_rows(self) -> set[int]:
        return {e.row for e in self.errors}

    def add(self, row: int, column: str, value: Any, reason: str) -> None:
        self.errors.append(ImportError_(row, column, cols.shown(value), reason))

    def sort(self) -> None:
        order = {c.header: i for i, c in enumerate(cols.columns().values())}
        self.errors.sort(key=lambda e: (e.row, order.get(e.column, len(order)), e.column))

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Dòng", "Cột", "Giá trị", "Lỗi"])
        # the values are the rejected file's own: a formula in it must not run when the report is opened in Excel
        writer.writerows([spreadsheet_safe(v) if isinstance(v, str) else v for v in error] for error in self.errors)
        return out.getvalue()

    def to_table(self) -> str:
        if not self.errors:
            return f"{self.source}: {self.rows} dòng, không có lỗi."
        width = max(len(e.column) for e in self.errors)
        lines = [f"{self.source}: {len(self.errors)} lỗi ở {len(self.rejected_rows)} trên {self.rows} dòng",
                 f"{'Dòng':>6}  {'Cột':<{width}}  Lỗi"]
        lines += [f"{e.row:>6}  {e.column:<{width}}  {e.reason}" for e in self.errors]
        return "\n".join(lines)

    __str__ = to_table


def unreadable(name: str, reason: str) -> RegistryImportRejected:
    """A file that cannot be read at all (not a spreadsheet, broken, hostile): one report line, on row 1."""
    report = ImportReport(name)
    report.add(1, "", name, reason)
    return RegistryImportRejected(report, f"Không nhập {name}: {reason[:1].lower()}{reason[1:]}.")


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    source: str
    content_sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    report: ImportReport


# --- reading -------------------------------------------------------------------------------------------------

Cells = Sequence[Any]


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {header: cell}) for each non-blank data row of a CSV or XLSX file.

    Cells under a blank header or past the last header are keyed ``"(cột AD)"`` (only when not blank).
    """
    with closing(_raw_rows(path.name, path.read_bytes())) as raw:
        header: list[str] | None = None
        for number, cells in raw:
            if header is None:
                header = _header(cells)
                continue
            row = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if not h.startswith(_NO_HEADER)}
            row.update((_column_key(i), cells[i]) for i in _stray(header, cells))
            yield number, row


def _raw_rows(name: str, data: bytes) -> Iterator[tuple[int, Cells]]:
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


def _non_blank(rows: Iterator[tuple[int, Cells]]) -> Iterator[tuple[int, Cells]]:
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


def _xlsx_rows(name: str, data: bytes) -> Iterator[tuple[int, Cells]]:
    try:
        yield from xlsx.rows(data)
    except xlsx.XlsxRefused as exc:
        raise unreadable(name, exc.reason) from None


def _header(cells: Cells) -> list[str]:
    return [_column_key(i) if cols.is_blank(c) else cols.clean_text(str(c)) for i, c in enumerate(cells)]


def _column_key(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{_NO_HEADER}{get_column_letter(index + 1)})"


def _stray(header: list[str], cells: Cells) -> list[int]:
    """Indexes of non-blank cells with no header."""
    out = [i for i in range(len(header), len(cells)) if not cols.is_blank(cells[i])]
    return [i for i, h in enumerate(header) if h.startswith(_NO_HEADER) and i < len(cells) and not cols.is_blank(cells[i])] + out


# --- checking ------------------------------------------------------------------------------------------------

@dataclass
class _Checked:
    records: list[tuple[int, dict[str, Any]]]  # (row, stored values of the columns the source has)
    present: frozenset[str]
    report: ImportReport
    fatal: bool = False  # no row can be read (header problems, empty file)


def check_rows(source: str, raw: Iterator[tuple[int, Cells]], *, today: date) -> _Checked:
    """Check a file's rows: headers first (any problem stops there), then every cell, then duplicates."""
    report = ImportReport(source)
    first = next(raw, None)
    if first is None:
        report.add(1, "", "", "Tệp trống: không có dòng tiêu đề")
        return _Checked([], frozenset(), report, fatal=True)
    header_row, header = first[0], _header(first[1])
    mapping, problems = cols.match_headers([h for h in header if not h.startswith(_NO_HEADER)])
    for p in problems:
        report.add(header_row, p.header, p.header, p.reason)
    if problems:
        return _Checked([], frozenset(mapping.values()), report, fatal=True)
    where = [(i, mapping[h]) for i, h in enumerate(header) if h in mapping]
    width = len(header)
    unnamed = any(h.startswith(_NO_HEADER) for h in header)

    def by_column() -> Iterator[tuple[int, dict[str, Any], list[tuple[str, Any]]]]:
        for number, cells in raw:
            if len(cells) == width:
                values = {col: cells[i] for i, col in where}
            else:
                values = {col: cells[i] if i < len(cells) else None for i, col in where}
            stray = [(_column_key(i), cells[i]) for i in _stray(header, cells)] if unnamed or len(cells) > width else []
            yield number, values, stray
    checked = _check(report, by_column(), frozenset(mapping.values()), today)
    if checked.report.rows == 0:
        report.add(header_row + 1, "", "", "Tệp không có dòng dữ liệu nào")
        checked.fatal = True
    return checked


def _check(report: ImportReport, rows: Iterable[tuple[int, dict[str, Any], list[tuple[str, Any]]]],
           present: frozenset[str], today: date) -> _Checked:
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
    return _Checked([r for r in records if r[0] not in duplicated], present, report)


# --- writing -------------------------------------------------------------------------------------------------

def import_registry(settings: Settings, path: Path, *, actor: str, valid_only: bool = False,
                    today: date | None = None) -> ImportResult:
    """Import a CSV or XLSX registry file (see the module docstring for what is written)."""
    data = path.read_bytes()
    with closing(_raw_rows(path.name, data)) as raw:
        checked = check_rows(path.name, raw, today=today or today_in_vietnam())
    return _write(settings, checked, content_sha256=hashlib.sha256(data).hexdigest(), actor=actor, valid_only=valid_only)


def import_records(settings: Settings, source: str, records: Iterable[Mapping[str, Any]], *, content_sha256: str,
                   actor: str, valid_only: bool = False, today: date | None = None) -> ImportResult:
    """Import records keyed by Establishment column (the API path); record k is reported as row k."""
    present = frozenset(ESTABLISHMENT_COLUMNS)
    rows = ((k, {c: r.get(c) for c in ESTABLISHMENT_COLUMNS}, []) for k, r in enumerate(records, start=1))
    checked = _check(ImportReport(source), rows, present, today or today_in_vietnam())
    return _write(settings, checked, content_sha256=content_sha256, actor=actor, valid_only=valid_only)


def _write(settings: Settings, checked: _Checked, *, content_sha256: str, actor: str, valid_only: bool) -> ImportResult:
    report = checked.report
    if not report.ok and (not valid_only or checked.fatal):
        raise RegistryImportRejected(report)
    with session_scope(settings) as session:
        plan = _plan(session, checked)
        if not report.ok and not valid_only:
            raise RegistryImportRejected(report)  # a rule broken only once merged with the stored row
        _execute(session, plan)
        rejected = len(report.rejected_rows)
        entry = RegistryImport(source=report.source[:500], content_sha256=content_sha256, rows=report.rows,
                               inserted=len(plan.inserts), updated=len(plan.updates), unchanged=plan.unchanged,
                               rejected=rejected, imported_by=actor)
        session.add(entry)
        session.flush()
        audit.record(session, actor=actor, action="registry_import", entity=entry, reason=f"Nhập sổ đăng ký từ {report.source}",
                     data={"content_sha256": content_sha256, "rows": report.rows, "inserted": len(plan.inserts),
                           "updated": len(plan.updates), "unchanged": plan.unchanged, "rejected": rejected,
                           "valid_only": valid_only,
                           "updated_tax_codes": [u["tax_code"] for u in plan.updates[:AUDIT_TAX_CODES]]})
        assert entry.id is not None
    return ImportResult(entry.id, report.source, content_sha256, report.rows, len(plan.inserts), len(plan.updates),
                        plan.unchanged, rejected, report)


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0


def _plan(session: Session, checked: _Checked) -> _Plan:
    table = Establishment.__table__  # type: ignore[attr-defined]
    absent = [c for c in ESTABLISHMENT_COLUMNS if c not in checked.present]
    stored = {r[0]: r for r in session.execute(sa.select(table.c.tax_code, table.c.id, table.c.row_checksum,
                                                         *(table.c[c] for c in absent)))}
    defaults = {c: v for c, v in cols.defaults().items() if c in absent}
    merge_rules = tuple(r for r in cols.RULES if not r.columns <= checked.present and r.columns & checked.present)
    report, plan = checked.report, _Plan()
    for number, record in checked.records:
        old = stored.get(record["tax_code"])
        if old is None:
            plan.inserts.append(with_derived({**defaults, **record}))
            continue
        row = with_derived({**dict(zip(absent, old[3:], strict=True)), **record})
        problems = cols.rule_problems(row, merge_rules) if merge_rules else []
        for column, value, reason in problems:
            report.add(number, cols.header_of(column), value, f"{reason} (theo dữ liệu đã lưu)")
        if problems:
            continue
        if row["row_checksum"] == old.row_checksum:
            plan.unchanged += 1
        else:
            row["b_id"] = old.id
            plan.updates.append(row)
    report.sort()
    return plan


def _execute(session: Session, plan: _Plan) -> None:
    table = Establishment.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    for start in range(0, len(plan.inserts), BATCH):
        conn.execute(sa.insert(table), plan.inserts[start:start + BATCH])
    update = sa.update(table).where(table.c.id == sa.bindparam("b_id"))
    for start in range(0, len(plan.updates), BATCH):
        conn.execute(update, plan.updates[start:start + BATCH])


# --- export --------------------------------------------------------------------------------------------------

def export_registry_csv(rows: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write establishments under the Vietnamese headers (UTF-8 with BOM, for Excel); re-imports as a no-op."""
    spec = list(cols.columns().values())
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in spec])
        for row in rows:
            cells = [_cell(c.kind, row[c.name]) for c in spec]  # text never runs as a formula in Excel
            writer.writerow([spreadsheet_safe(v) if c.kind == "text" else v for c, v in zip(spec, cells, strict=True)])
            count += 1
    return count


def _cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "date":
        return f"{value:%d/%m/%Y}"
    if kind == "ownership":
        return cols.ownership_label(value)
    if kind == "ratio":
        return format(Decimal(repr(float(value))), "f")
    return str(value)
