"""The inspection checklist: what each agency checks on site, and the clauses that sanction a failure.

Versions live in ``services/rules/data/checklist_*.json`` (``{"version", "effective_from", "items"}``);
:func:`load_checklist` picks the version in force on a date (the latest ``effective_from`` on or before it);
a version is in force until the day before the next one starts.

Each item links one clause per **catalog in force for its version** (``provisions``: decree key → fine code):
every decree of :mod:`services.rules.decrees` in force on any day from one limitation period (Luật XLVPHC
Art.6) before the version's ``effective_from`` to its last day. A version in force from 10/09/2026 thus links
NĐ 12/2022 (acts ended before that day) and NĐ 283/2026. A link is ``null`` only where the newer decree has
no such offence; ``unlinked_vi`` then says why (never an invented counterpart). Each item also says whether a
failure is normally an act still going on at the visit or one that ended before it (``act_kind``, with its
reason in ``act_kind_note``); the inspector may correct it on a finding.

Checked at load: every linked code is a row of its decree's table; every catalog in force is linked for
every item (and no other); the counts the item asks for equal what its linked clauses need (per worker or
bands of workers → ``counts_workers``; bands of machines/devices → ``counts_devices``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.rules.decrees import decrees_in_force_between, limitation_start
from services.rules.fines import FineTable, UnitKind, load_fine_table
from services.errors import ChecklistError, UnknownChecklistItem, UnlinkedProvision

AGENCY_PREFIXES = {"labour": "LD", "health": "YT"}  # Sở Nội vụ; Sở Y tế
_ITEM_CODE_RE = re.compile(r"^(LD|YT)-\d{2}$")
_RISK_FACTOR_RE = re.compile(r"^[a-z][a-z_]*$")


class ActKind(StrEnum):
    ONGOING = "ongoing"  # still going on at the visit: judged under the decree in force when discovered
    ENDED = "ended"  # ended before the visit: judged under the decree in force when it ended


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    agency: str  # "labour" | "health" (models.agency.AgencyKind values)
    text_vi: str
    provisions: Mapping[str, str | None] = field(hash=False)  # decree key → fine code (None: no such offence)
    act_kind: ActKind
    act_kind_note: str
    counts_workers: bool
    counts_devices: bool
    risk_factor: str
    unlinked_vi: Mapping[str, str] = field(default_factory=dict, hash=False)  # decree key → why no clause
    act_vi: str = ""  # the act this item checks, where the clause lists several (documents print it as the act)

    def provision_for(self, decree_key: str) -> str:
        """The clause of one decree that sanctions a failure of this item."""
        code = self.provisions.get(decree_key)
        if code is None:
            raise UnlinkedProvision(self.code, decree_key, self.unlinked_vi.get(decree_key, ""))
        return code

    @property
    def provision(self) -> str:
        """The newest linked decree's clause (for callers that know one decree only)."""
        return [code for code in self.provisions.values() if code is not None][-1]


@dataclass(frozen=True)
class Checklist:
    version: str
    effective_from: date
    items: tuple[ChecklistItem, ...]
    effective_to: date | None = None  # last day in force; None: the newest version
    decrees: tuple[str, ...] = ()  # the catalogs in force for the version, oldest first

    def items_for(self, agency_kind: str) -> tuple[ChecklistItem, ...]:
        """The items one agency checks (``agency_kind``: ``"labour"``/``"health"`` or an AgencyKind)."""
        return tuple(item for item in self.items if item.agency == str(agency_kind))

    def get(self, code: str) -> ChecklistItem:
        for item in self.items:
            if item.code == code:
                return item
        raise UnknownChecklistItem(code, self.version)


# --------------------------------------------------------------------------- loading


def load_checklist(on: date | None = None, *, rules_dir: Path | None = None,
                   fine_table_path: Path | None = None) -> Checklist:
    """The checklist version in force on ``on`` (default: today), validated against the fine tables."""
    if rules_dir is None:
        from services.settings import RULES_DIR

        rules_dir = RULES_DIR
    on = on or date.today()
    versions = _versions(Path(rules_dir).resolve())
    in_force = [i for i, (start, _) in enumerate(versions) if start <= on]
    if not in_force:
        first = f"; the first starts {versions[0][0].isoformat()}" if versions else ""
        raise ChecklistError(f"no checklist version in {rules_dir} is in force on {on.isoformat()}{first}")
    index = in_force[-1]
    until = versions[index + 1][0] if index + 1 < len(versions) else None
    table_key = None if fine_table_path is None else Path(fine_table_path).resolve()
    return _load_version(versions[index][1], until, table_key)


@lru_cache(maxsize=8)
def _versions(rules_dir: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted(rules_dir.glob("checklist_*.json")):
        found.append((_effective_from(_read(path), source=str(path)), path))
    starts = [start for start, _ in found]
    if len(set(starts)) != len(starts):
        raise ChecklistError(f"two checklist versions in {rules_dir} start on the same date")
    return sorted(found)


@lru_cache(maxsize=16)
def _load_version(path: Path, next_start: date | None, fine_table_path: Path | None) -> Checklist:
    effective_to = None if next_start is None else next_start - timedelta(days=1)
    return parse_checklist(_read(path), fine_table=load_fine_table(fine_table_path), source=str(path),
                           effective_to=effective_to)


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


def catalogs_in_force(effective_from: date, effective_to: date | None) -> tuple[str, ...]:
    """The decrees a version links: in force on any day from one limitation period before its start to its end."""
    return tuple(d.key for d in decrees_in_force_between(limitation_start(effective_from), effective_to))


# --------------------------------------------------------------------------- validation


def parse_checklist(data: Any, *, fine_table: FineTable, source: str = "<checklist>",
                    effective_to: date | None = None) -> Checklist:
    """Validate a parsed checklist document against the fine table(s); ``effective_to``: its last day."""
    effective_from = _effective_from(data, source=source)
    version, raw_items = data.get("version"), data.get("items")
    if not isinstance(version, str) or not version:
        raise ChecklistError(f"{source}: version must be a non-empty string")
    if not isinstance(raw_items, list) or not raw_items:
        raise ChecklistError(f"{source}: items must be a non-empty list")
    decrees = catalogs_in_force(effective_from, effective_to)
    items: list[ChecklistItem] = []
    for position, raw in enumerate(raw_items, start=1):
        item = _parse_item(raw, fine_table=fine_table, decrees=decrees, where=f"{source}: item {position}")
        if any(existing.code == item.code for existing in items):
            raise ChecklistError(f"{source}: item {item.code}: code used twice")
        items.append(item)
    return Checklist(version=version, effective_from=effective_from, items=tuple(items),
                     effective_to=effective_to, decrees=decrees)


def _parse_item(raw: Any, *, fine_table: FineTable, decrees: tuple[str, ...], where: str) -> ChecklistItem:
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
    text_vi, risk_factor = raw.get("text_vi"), raw.get("risk_factor")
    if not isinstance(text_vi, str) or not text_vi.strip():
        raise ChecklistError(f"{where}: text_vi is empty")
    if not isinstance(risk_factor, str) or not _RISK_FACTOR_RE.match(risk_factor):
        raise ChecklistError(f"{where}: risk_factor must be a short snake_case key, got {risk_factor!r}")
    flags: dict[str, bool] = {}
    for name in ("counts_workers", "counts_devices"):
        if not isinstance(value := raw.get(name), bool):
            raise ChecklistError(f"{where}: {name} must be true or false, got {value!r}")
        flags[name] = value
    act_kind, act_kind_note = _act_kind(raw, where=where)
    act_vi = raw.get("act_vi", "")
    if not isinstance(act_vi, str) or (act_vi and not act_vi.strip()):
        raise ChecklistError(f"{where}: act_vi must be a non-empty string when given")
    provisions, unlinked = _provisions(raw, fine_table=fine_table, decrees=decrees, where=where)
    _check_counts(provisions, fine_table=fine_table, flags=(flags["counts_workers"], flags["counts_devices"]),
                  where=where)
    return ChecklistItem(code=code, agency=agency, text_vi=text_vi.strip(), provisions=provisions,
                         act_kind=act_kind, act_kind_note=act_kind_note, counts_workers=flags["counts_workers"],
                         counts_devices=flags["counts_devices"], risk_factor=risk_factor, unlinked_vi=unlinked,
                         act_vi=act_vi.strip())


def _act_kind(raw: Mapping[str, Any], *, where: str) -> tuple[ActKind, str]:
    kind, note = raw.get("act_kind"), raw.get("act_kind_note")
    if kind not in {k.value for k in ActKind}:
        raise ChecklistError(f"{where}: act_kind must be 'ongoing' or 'ended', got {kind!r}")
    if not isinstance(note, str) or not note.strip():
        raise ChecklistError(f"{where}: act_kind_note is empty (say why the act is normally {kind})")
    return ActKind(kind), note.strip()


def _provisions(raw: Mapping[str, Any], *, fine_table: FineTable, decrees: tuple[str, ...],
                where: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """One link per catalog in force (and no other), each a code of its decree's table or null with a reason."""
    links, reasons = raw.get("provisions"), raw.get("unlinked_vi", {})
    if "provision" in raw:
        raise ChecklistError(f"{where}: 'provision' is replaced by 'provisions' (decree → code)")
    if not isinstance(links, Mapping) or not isinstance(reasons, Mapping):
        raise ChecklistError(f"{where}: provisions must be an object decree → code (and unlinked_vi decree → reason)")
    extra = sorted(set(links) - set(decrees))
    if extra:
        raise ChecklistError(f"{where}: decree {extra[0]} is linked but not in force for this version "
                             f"(in force: {', '.join(decrees)})")
    provisions: dict[str, str | None] = {}
    for decree in decrees:
        if decree not in links:
            raise ChecklistError(f"{where}: decree {decree} is in force for this version but not linked "
                                 f"(provisions[{decree!r}] is missing)")
        code, reason = links[decree], reasons.get(decree)
        if code is None:
            if not isinstance(reason, str) or not reason.strip():
                raise ChecklistError(f"{where}: decree {decree} is linked to null without unlinked_vi[{decree!r}] "
                                     "saying why it has no such offence")
        elif not isinstance(code, str) or code not in fine_table or fine_table.get(code).decree != decree:
            raise ChecklistError(f"{where}: provision {code!r} of decree {decree} is not in the fine table "
                                 f"{fine_table.source}")
        provisions[decree] = code
    if all(code is None for code in provisions.values()):
        raise ChecklistError(f"{where}: no decree in force for this version sanctions the item")
    return provisions, {k: str(v) for k, v in reasons.items() if links.get(k) is None}


def _check_counts(provisions: Mapping[str, str | None], *, fine_table: FineTable, flags: tuple[bool, bool],
                  where: str) -> None:
    units = {fine_table.get(code).unit for code in provisions.values() if code is not None}
    wants = (bool(units & {UnitKind.PER_WORKER, UnitKind.WORKER_BAND}), UnitKind.DEVICE_BAND in units)
    if flags != wants:
        fined = ", ".join(sorted(u.value for u in units))
        raise ChecklistError(f"{where}: its provisions are fined {fined}, so counts_workers must be "
                             f"{str(wants[0]).lower()} and counts_devices {str(wants[1]).lower()}")
