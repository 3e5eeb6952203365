"""The inspection checklist: what each agency checks on site, and the clause that sanctions a failure.

Versions live in ``services/rules/data/checklist_*.json`` (``{"version", "effective_from", "items"}``);
:func:`load_checklist` picks the version in force on a date (the latest ``effective_from`` on or before
it). At load every item is checked against the fine table: its provision exists, and the counts it asks
the inspector for match how that clause is fined (per worker or by bands of workers → ``counts_workers``;
by bands of machines/devices → ``counts_devices``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.rules.fines import FineTable, RulesError, UnitKind, load_fine_table

AGENCY_PREFIXES = {"labour": "LD", "health": "YT"}  # Sở Nội vụ; Sở Y tế
_ITEM_CODE_RE = re.compile(r"^(LD|YT)-\d{2}$")
_RISK_FACTOR_RE = re.compile(r"^[a-z][a-z_]*$")


class ChecklistError(RulesError):
    """A checklist file is malformed (naming the item), or no version is in force on the date asked."""


class UnknownChecklistItem(RulesError, LookupError):
    def __init__(self, code: str, version: str) -> None:
        self.code, self.version = code, version
        super().__init__(f"Không có mục kiểm tra mã {code!r} trong danh mục phiên bản {version}", code=code,
                         version=version)


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    agency: str  # "labour" | "health" (models.agency.AgencyKind values)
    text_vi: str
    provision: str  # a code of the fine table
    counts_workers: bool
    counts_devices: bool
    risk_factor: str


@dataclass(frozen=True)
class Checklist:
    version: str
    effective_from: date
    items: tuple[ChecklistItem, ...]

    def items_for(self, agency_kind: str) -> tuple[ChecklistItem, ...]:
        """The items one agency checks (``agency_kind``: ``"labour"``/``"health"`` or an AgencyKind)."""
        return tuple(item for item in self.items if item.agency == str(agency_kind))

    def get(self, code: str) -> ChecklistItem:
        for item in self.items:
            if item.code == code:
                return item
        raise UnknownChecklistItem(code, self.version)


def load_checklist(on: date | None = None, *, rules_dir: Path | None = None,
                   fine_table_path: Path | None = None) -> Checklist:
    """The checklist version in force on ``on`` (default: today), validated against the fine table."""
    if rules_dir is None:
        from services.settings import RULES_DIR

        rules_dir = RULES_DIR
    on = on or date.today()
    versions = _versions(Path(rules_dir).resolve())
    in_force = [(start, path) for start, path in versions if start <= on]
    if not in_force:
        first = f"; the first starts {versions[0][0].isoformat()}" if versions else ""
        raise ChecklistError(f"no checklist version in {rules_dir} is in force on {on.isoformat()}{first}")
    table_key = None if fine_table_path is None else Path(fine_table_path).resolve()
    return _load_version(max(in_force)[1], table_key)


@lru_cache(maxsize=8)
def _versions(rules_dir: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted(rules_dir.glob("checklist_*.json")):
        found.append((_effective_from(_read(path), source=str(path)), path))
    starts = [start for start, _ in found]
    if len(set(starts)) != len(starts):
        raise ChecklistError(f"two checklist versions in {rules_dir} start on the same date")
    return sorted(found)


@lru_cache(maxsize=8)
def _load_version(path: Path, fine_table_path: Path | None) -> Checklist:
    return parse_checklist(_read(path), fine_table=load_fine_table(fine_table_path), source=str(path))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ChecklistError(f"{path}: not valid JSON ({exc})") from exc


def _effective_from(data: Any, *, source: str) -> date:
    if not isinstance(data, Mapping):
        raise ChecklistError(f"{source}: expected an object with version, effective_from, items")
    try:
        return date.fromisoformat(str(data.get("effective_from")))
    except ValueError:
        raise ChecklistError(f"{source}: effective_from must be a date YYYY-MM-DD, "
                             f"got {data.get('effective_from')!r}") from None


def parse_checklist(data: Any, *, fine_table: FineTable, source: str = "<checklist>") -> Checklist:
    """Validate a parsed checklist document against the fine table."""
    effective_from = _effective_from(data, source=source)
    version, raw_items = data.get("version"), data.get("items")
    if not isinstance(version, str) or not version:
        raise ChecklistError(f"{source}: version must be a non-empty string")
    if not isinstance(raw_items, list) or not raw_items:
        raise ChecklistError(f"{source}: items must be a non-empty list")
    items: list[ChecklistItem] = []
    for position, raw in enumerate(raw_items, start=1):
        item = _parse_item(raw, fine_table=fine_table, where=f"{source}: item {position}")
        if any(existing.code == item.code for existing in items):
            raise ChecklistError(f"{source}: item {item.code}: code used twice")
        items.append(item)
    return Checklist(version=version, effective_from=effective_from, items=tuple(items))


def _parse_item(raw: Any, *, fine_table: FineTable, where: str) -> ChecklistItem:
    if not isinstance(raw, Mapping):
        raise ChecklistError(f"{where}: expected an object")
    code = raw.get("code")
    if not isinstance(code, str) or not _ITEM_CODE_RE.match(code):
        raise ChecklistError(f"{where}: code must look like LD-01 or YT-01, got {code!r}")
    where = f"{where} ({code})"
    agency = raw.get("agency")
    if not isinstance(agency, str) or AGENCY_PREFIXES.get(agency) != code[:2]:
        raise ChecklistError(f"{where}: agency {agency!r} does not match the code prefix "
                             f"(labour → LD-, health → YT-)")
    text_vi, provision, risk_factor = raw.get("text_vi"), raw.get("provision"), raw.get("risk_factor")
    if not isinstance(text_vi, str) or not text_vi.strip():
        raise ChecklistError(f"{where}: text_vi is empty")
    if not isinstance(risk_factor, str) or not _RISK_FACTOR_RE.match(risk_factor):
        raise ChecklistError(f"{where}: risk_factor must be a short snake_case key, got {risk_factor!r}")
    flags = {name: raw.get(name) for name in ("counts_workers", "counts_devices")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ChecklistError(f"{where}: {name} must be true or false, got {value!r}")
    if not isinstance(provision, str) or provision not in fine_table:
        raise ChecklistError(f"{where}: provision {provision!r} is not in the fine table {fine_table.source}")
    unit = fine_table.get(provision).unit
    wants_workers = unit in (UnitKind.PER_WORKER, UnitKind.WORKER_BAND)
    wants_devices = unit is UnitKind.DEVICE_BAND
    if (flags["counts_workers"], flags["counts_devices"]) != (wants_workers, wants_devices):
        raise ChecklistError(f"{where}: {provision} is fined {unit.value}, so counts_workers must be "
                             f"{str(wants_workers).lower()} and counts_devices {str(wants_devices).lower()}")
    return ChecklistItem(code=code, agency=agency, text_vi=text_vi.strip(), provision=provision,
                         counts_workers=flags["counts_workers"], counts_devices=flags["counts_devices"],
                         risk_factor=risk_factor)
