"""A registry row with a commune of any of the 34 provinces imports; an unknown or draft-only commune code does not."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from models.establishment import Establishment
from services.db import session_scope
from services.demo.registry import generate_registry
from services.registry.geo import load_units
from services.registry.export import export_registry_csv
from services.registry.importer import RegistryImportRejected, import_registry
from services.settings import Settings

TODAY = date(2026, 3, 1)
# None of these had a commune list before the units came from vietnam-provinces (Cao Bằng, Lạng Sơn, Quảng Ninh,
# Bắc Ninh and Quảng Ngãi had).
PROVINCES = ["01", "08", "46", "48", "66", "79", "92", "96"]


def _stored_places(settings: Settings) -> dict[str, tuple[str, str]]:
    table = Establishment.__table__  # type: ignore[attr-defined]
    with session_scope(settings) as session:
        rows = session.execute(sa.select(table.c.tax_code, table.c.province_code, table.c.commune_code))
        return {t: (p, c) for t, p, c in rows}


def test_rows_with_communes_of_provinces_outside_the_old_five_import(settings: Settings, tmp_path: Path) -> None:
    rows = list(generate_registry(400, province_codes=PROVINCES, seed=21, as_of=TODAY))
    path = tmp_path / "so_dang_ky.csv"
    export_registry_csv(rows, path)

    result = import_registry(settings, path, actor="chuyenvien", today=TODAY)

    assert (result.inserted, result.rejected) == (400, 0)
    stored = _stored_places(settings)
    assert stored == {r["tax_code"]: (r["province_code"], r["commune_code"]) for r in rows}
    assert {p for p, _ in stored.values()} == set(PROVINCES)
    units = load_units()
    assert all(units.commune(c).province_code == p for p, c in stored.values())


def test_an_unknown_or_draft_only_commune_code_is_refused_by_row(settings: Settings, tmp_path: Path) -> None:
    rows = list(generate_registry(3, province_codes=["79"], seed=5, as_of=TODAY))
    rows += list(generate_registry(1, province_codes=["20"], seed=6, as_of=TODAY))
    path = tmp_path / "so_dang_ky.csv"
    export_registry_csv(rows, path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    table[0]["Mã xã"] = "99999"
    table[1]["Mã xã"] = "06004"  # xã Quốc Khánh, Lạng Sơn
    table[3]["Mã xã"] = "06016"  # xã Quốc Khánh's code in the draft list only
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)

    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, path, actor="chuyenvien", today=TODAY)

    assert [(e.row, e.column, e.reason) for e in exc.value.report.errors] == [
        (2, "Mã xã", "Mã xã 99999 không có trong danh mục xã, phường của thành phố Hồ Chí Minh"),
        (3, "Mã xã", "Mã xã 06004 (xã Quốc Khánh) thuộc tỉnh Lạng Sơn, không thuộc thành phố Hồ Chí Minh"),
        (5, "Mã xã", "Mã xã 06016 không có trong danh mục xã, phường của tỉnh Lạng Sơn"),
    ]
    assert _stored_places(settings) == {}
