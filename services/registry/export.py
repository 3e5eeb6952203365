"""The registry written back as a CSV file under the Vietnamese headers and labels (UTF-8 with BOM, for Excel):
what people read and edit. Importing the file again changes nothing."""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.registry import columns as cols
from services.text_policy import spreadsheet_safe

__all__ = ["export_registry_csv"]


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
