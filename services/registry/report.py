"""What a registry import says back: the error report (one line per rejected cell, in Vietnamese) and the result.

The report prints as a table (CLI) or CSV (``Dòng, Cột, Giá trị, Lỗi``: the rejected file's own values, made safe
to open in Excel); it travels in ``RegistryImportRejected`` when a file is refused."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from services.errors import RegistryImportRejected
from services.registry import columns as cols
from services.text_policy import spreadsheet_safe

__all__ = ["ImportError_", "ImportReport", "ImportResult", "unreadable"]


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

