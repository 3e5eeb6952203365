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

Modules: reading the file (``services.registry.reading``), checking its rows (``.checking``), the report and result
(``.report``), the CSV export (``.export``); this one compares with what is stored and writes. Errors:
``RegistryImportRejected(KiemtraError)`` carries the :class:`ImportReport`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from services.rules.calendar import today_in_vietnam
from models.base import table_of
from models.establishment import ESTABLISHMENT_COLUMNS, Establishment
from models.registry import RegistryImport
from services import audit
from services.db import session_scope
from services.errors import RegistryImportRejected
from services.registry import columns as cols
from services.registry.checking import Checked, RawRecord, check, check_rows
from services.registry.export import export_registry_csv
from services.registry.fingerprint import with_derived
from services.registry.reading import raw_rows, read_rows
from services.registry.report import ImportError_, ImportReport, ImportResult
from services.settings import Settings

__all__ = ["ImportError_", "ImportReport", "ImportResult", "RegistryImportRejected", "export_registry_csv",
           "import_records", "import_registry", "read_rows"]

BATCH = 5000
AUDIT_TAX_CODES = 200  # updated tax codes listed in the audit event


def import_registry(settings: Settings, path: Path, *, actor: str, valid_only: bool = False,
                    today: date | None = None) -> ImportResult:
    """Import a CSV or XLSX registry file (see the module docstring for what is written)."""
    data = path.read_bytes()
    with closing(raw_rows(path.name, data)) as raw:
        checked = check_rows(path.name, raw, today=today or today_in_vietnam())
    return _write(settings, checked, content_sha256=hashlib.sha256(data).hexdigest(), actor=actor, valid_only=valid_only)


def import_records(settings: Settings, source: str, records: Iterable[Mapping[str, Any]], *, content_sha256: str,
                   actor: str, valid_only: bool = False, today: date | None = None) -> ImportResult:
    """Import records keyed by Establishment column (the API path); record k is reported as row k."""
    present = frozenset(ESTABLISHMENT_COLUMNS)
    rows: Iterable[RawRecord] = ((k, {c: r.get(c) for c in ESTABLISHMENT_COLUMNS}, []) for k, r in enumerate(records, start=1))
    checked = check(ImportReport(source), rows, present, today or today_in_vietnam())
    return _write(settings, checked, content_sha256=content_sha256, actor=actor, valid_only=valid_only)


def _write(settings: Settings, checked: Checked, *, content_sha256: str, actor: str, valid_only: bool) -> ImportResult:
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


def _plan(session: Session, checked: Checked) -> _Plan:
    table = table_of(Establishment)
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
    table = table_of(Establishment)
    conn = session.connection()
    for start in range(0, len(plan.inserts), BATCH):
        conn.execute(sa.insert(table), plan.inserts[start:start + BATCH])
    update = sa.update(table).where(table.c.id == sa.bindparam("b_id"))
    for start in range(0, len(plan.updates), BATCH):
        conn.execute(update, plan.updates[start:start + BATCH])

