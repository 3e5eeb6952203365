"""The fine tables of the sanctioning decrees (NĐ 12/2022/NĐ-CP Art.20–29, NĐ 283/2026/NĐ-CP Art.31–38): the rule
data, validated and cached. The proposal over a row is :mod:`services.rules.fines`.

Each decree of :mod:`services.rules.decrees` has its table in the legal directory (one row per clause or
point): ``nd12_2022_osh_fines.csv``, ``nd283_2026_osh_fines.csv``. :func:`load_fine_table` without a path
returns one table holding the rows of every decree (codes are unique thanks to their prefix);
:func:`fine_table_for` one decree's. How the columns are read:

- ``code``: ``<decree key> Art.<article> cl.<clause>[(<point>)]``, e.g. ``283/2026/ND-CP Art.32 cl.2(b)``;
  the key names the decree (:attr:`FineRule.decree`), which every citation and reasoning line cites.
- ``min_vnd``/``max_vnd``: the amounts written in the decree. ``org_min_vnd``/``org_max_vnd``: the amounts
  for an organisation; blank when the clause only reaches individuals (người lao động, kiểm định viên).
- ``fine_basis``: ``individual`` (the decree's amounts are for individuals, an organisation pays double:
  NĐ 12 Art.6 cl.1, NĐ 283 Art.7 cl.1) or ``ORGANISATION (...)`` (the amounts are already written for
  organisations, the exceptions those clauses list — never doubled).
- ``unit``: ``per violation``; ``PER WORKER, total cap <ind> (individual) / <org> (org)`` (the amounts are
  per worker affected, the total is capped); ``band by number of affected workers: <lo>-<hi>`` or
  ``>=<lo>``; ``band by number of machines/devices: ...`` (each band is its own row, one point each).
- ``note``: free text kept as is.

Errors (see :mod:`services.rules`): :class:`FineTableError` (a malformed row, naming row and column),
:class:`UnknownProvision` (a code not in the table).
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from services.errors import FineTableError, UnknownProvision

COLUMNS = (
    "code", "clause_lead_vi", "description_vi", "min_vnd", "max_vnd", "org_min_vnd", "org_max_vnd",
    "fine_basis", "unit", "applies_to", "additional_penalty", "remedial_measure", "note",
)
CODE_RE = re.compile(r"^(\d+/\d{4}/ND-CP) Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?$")
_CAP_RE = re.compile(r"^PER WORKER, total cap ([\d,]+) \(individual\) / ([\d,]+) \(org\)$")
_BAND_RE = re.compile(
    r"^band by number of (affected workers|machines/devices): (?:(\d+)-(\d+)|>=(\d+))(?:\s.*)?$"
)


class FineBasis(StrEnum):
    INDIVIDUAL = "individual"  # amounts for individuals; organisations pay double (Art.6 cl.1)
    ORGANISATION = "organisation"  # amounts already written for organisations (Art.6 cl.1 exception)


class UnitKind(StrEnum):
    PER_VIOLATION = "per_violation"
    PER_WORKER = "per_worker"  # per worker affected, total capped
    WORKER_BAND = "worker_band"  # one range per band of the number of workers affected
    DEVICE_BAND = "device_band"  # one range per band of the number of machines/devices


@dataclass(frozen=True)
class Band:
    """One band of a banded clause: the point that sets it, its count interval and its range."""

    code: str
    point: str
    lower: int
    upper: int | None  # None: "… trở lên"
    min_vnd: int
    max_vnd: int

    def contains(self, count: int) -> bool:
        return count >= self.lower and (self.upper is None or count <= self.upper)


@dataclass(frozen=True)
class FineRule:
    code: str
    decree: str  # the key of its decree (services.rules.decrees), the prefix of the code
    article: int
    clause: int
    point: str | None
    description_vi: str
    min_vnd: int
    max_vnd: int
    org_min_vnd: int | None
    org_max_vnd: int | None
    basis: FineBasis
    unit: UnitKind
    per_worker_cap_vnd: int | None  # cap of the total, in the clause's own (basis) amounts
    bands: tuple[Band, ...]  # every band of the clause (empty unless banded), this row's among them
    applies_to: str
    additional_penalty: str
    remedial_measure: str
    clause_lead_vi: str = ""
    note: str = ""
    row: int = 0

    @property
    def allows_organisation(self) -> bool:
        return self.org_min_vnd is not None

    @property
    def allows_individual(self) -> bool:
        return self.basis is FineBasis.INDIVIDUAL


class FineTable:
    """The rows of the fine table by code, in file order."""

    def __init__(self, rules: Iterable[FineRule], *, source: str = "<rows>") -> None:
        self.source = source
        self._rules = {rule.code: rule for rule in rules}

    def get(self, code: str) -> FineRule:
        try:
            return self._rules[unicodedata.normalize("NFC", code.strip())]
        except KeyError:
            raise UnknownProvision(code) from None

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and unicodedata.normalize("NFC", code.strip()) in self._rules

    def __iter__(self) -> Iterator[FineRule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)


# --------------------------------------------------------------------------- loading the table


def load_fine_table(path: Path | None = None) -> FineTable:
    """One table file (``path``), or by default the rows of every decree of the catalog in one table; cached."""
    if path is not None:
        return _load_fine_table(Path(path).resolve(), None)
    from services.rules.decrees import load_decrees

    return _combined(tuple(fine_table_for(decree.key) for decree in load_decrees()))


def fine_table_for(decree_key: str) -> FineTable:
    """The fine table of one decree (``legal_dir`` of the settings / its ``fine_table_file``); cached."""
    from services.rules.decrees import decree_by_key
    from services.settings import get_settings

    decree = decree_by_key(decree_key)
    return _load_fine_table((get_settings().legal_dir / decree.fine_table_file).resolve(), decree.key)


@lru_cache(maxsize=8)
def _combined(tables: tuple[FineTable, ...]) -> FineTable:
    return FineTable((rule for table in tables for rule in table), source="; ".join(t.source for t in tables))


@lru_cache(maxsize=8)
def _load_fine_table(path: Path, decree: str | None) -> FineTable:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise FineTableError(f"missing column(s) {missing}", source=str(path), row=1, column=missing[0])
        return parse_fine_rows(list(reader), source=str(path), decree=decree)


def parse_fine_rows(rows: Iterable[Mapping[str, str | None]], *, source: str = "<rows>",
                    decree: str | None = None) -> FineTable:
    """Validate rows (dicts keyed by the CSV columns) into a :class:`FineTable`; row 1 is the header.

    ``decree``: when given, every code must carry this decree's key as its prefix.
    """
    parsed: list[FineRule] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        rule = _parse_row(raw, source=source, row=number)
        if decree is not None and rule.decree != decree:
            raise FineTableError(f"code of decree {rule.decree} in the table of {decree}", source=source,
                                 row=number, column="code")
        if rule.code in seen:
            raise FineTableError(f"duplicate code (first on row {seen[rule.code]})", source=source,
                                 row=number, column="code")
        seen[rule.code] = number
        parsed.append(rule)
    return FineTable(_attach_bands(parsed, source=source), source=source)


def _parse_row(raw: Mapping[str, str | None], *, source: str, row: int) -> FineRule:
    def text(column: str) -> str:
        return unicodedata.normalize("NFC", (raw.get(column) or "").strip())

    def fail(column: str, message: str) -> FineTableError:
        return FineTableError(message, source=source, row=row, column=column)

    def amount(column: str, *, required: bool = True) -> int | None:
        value = text(column)
        if not value:
            if required:
                raise fail(column, "amount is missing")
            return None
        if not value.isdigit() or int(value) <= 0:
            raise fail(column, f"not a positive whole number of đồng: {value!r}")
        return int(value)

    code = text("code")
    match = CODE_RE.match(code)
    if not match:
        raise fail("code", f"expected '<n>/<year>/ND-CP Art.<n> cl.<n>[(<point>)]', got {code!r}")
    if not text("description_vi"):
        raise fail("description_vi", "description is empty")
    low, high = amount("min_vnd"), amount("max_vnd")
    org_low, org_high = amount("org_min_vnd", required=False), amount("org_max_vnd", required=False)
    assert low is not None and high is not None
    if low > high:
        raise fail("max_vnd", f"maximum {high} is below minimum {low}")
    if (org_low is None) != (org_high is None):
        raise fail("org_max_vnd" if org_high is None else "org_min_vnd", "give both organisation amounts or neither")

    basis_text = text("fine_basis")
    if basis_text == "individual":
        basis, factor = FineBasis.INDIVIDUAL, 2
    elif basis_text.startswith("ORGANISATION"):
        basis, factor = FineBasis.ORGANISATION, 1
        if org_low is None:
            raise fail("org_min_vnd", "a clause written for organisations needs its organisation amounts")
    else:
        raise fail("fine_basis", f"expected 'individual' or 'ORGANISATION (…)', got {basis_text!r}")
    if org_low is not None and (org_low, org_high) != (low * factor, high * factor):
        raise fail("org_min_vnd", f"organisation amounts {org_low}–{org_high} are not {factor}× {low}–{high}"
                   f" (basis {basis.value})")

    decree, article, clause, point = match.groups()
    unit, cap, band = _parse_unit(text("unit"), code=code, point=point, low=low, high=high, factor=factor,
                                  fail=fail)
    return FineRule(
        code=code, decree=decree, article=int(article), clause=int(clause), point=point,
        description_vi=text("description_vi"), min_vnd=low, max_vnd=high, org_min_vnd=org_low,
        org_max_vnd=org_high, basis=basis, unit=unit, per_worker_cap_vnd=cap,
        bands=(band,) if band else (), applies_to=text("applies_to"),
        additional_penalty=text("additional_penalty"), remedial_measure=text("remedial_measure"),
        clause_lead_vi=text("clause_lead_vi"), note=text("note"), row=row,
    )


def _parse_unit(unit: str, *, code: str, point: str | None, low: int, high: int, factor: int,
                fail: Callable[[str, str], FineTableError]) -> tuple[UnitKind, int | None, Band | None]:
    if unit == "per violation":
        return UnitKind.PER_VIOLATION, None, None
    if cap_match := _CAP_RE.match(unit):
        cap, org_cap = (int(g.replace(",", "")) for g in cap_match.groups())
        if org_cap != cap * factor or cap < high:
            raise fail("unit", f"inconsistent cap {cap} / {org_cap} for a per-worker range {low}–{high}")
        return UnitKind.PER_WORKER, cap, None
    if band_match := _BAND_RE.match(unit):
        what, lower, upper, open_lower = band_match.groups()
        if point is None:
            raise fail("code", "a band must be a point of its clause")
        lower_n = int(open_lower or lower)
        upper_n = None if open_lower else int(upper)
        if lower_n < 1 or (upper_n is not None and upper_n < lower_n):
            raise fail("unit", f"empty band {unit!r}")
        if "(fixed" in unit and low != high:
            raise fail("unit", "a fixed amount needs min_vnd = max_vnd")
        kind = UnitKind.WORKER_BAND if what == "affected workers" else UnitKind.DEVICE_BAND
        return kind, None, Band(code, point, lower_n, upper_n, low, high)
    raise fail("unit", f"unknown unit {unit!r}")


def _attach_bands(rules: list[FineRule], *, source: str) -> list[FineRule]:
    """Give every banded row the full band list of its clause, after checking the bands tile 1…∞."""
    clauses: dict[tuple[str, int, int], list[FineRule]] = {}
    for rule in rules:
        clauses.setdefault((rule.decree, rule.article, rule.clause), []).append(rule)
    bands_of: dict[tuple[str, int, int], tuple[Band, ...]] = {}
    for key, members in clauses.items():
        banded = [r for r in members if r.bands]
        if not banded:
            continue
        odd = next((r for r in members if r.unit is not banded[0].unit), None)
        if odd is not None:
            raise FineTableError("a banded clause mixes units", source=source, row=odd.row, column="unit")
        ordered = sorted(banded, key=lambda r: r.bands[0].lower)
        expected: int | None = 1
        for r in ordered:
            band = r.bands[0]
            if expected is None or band.lower != expected:
                raise FineTableError(f"bands of the clause do not follow on (expected from {expected})",
                                     source=source, row=r.row, column="unit")
            expected = None if band.upper is None else band.upper + 1
        if expected is not None:
            raise FineTableError("the last band of the clause must be open-ended (>=)", source=source,
                                 row=ordered[-1].row, column="unit")
        bands_of[key] = tuple(r.bands[0] for r in ordered)
    return [replace(r, bands=bands_of[(r.decree, r.article, r.clause)]) if r.bands else r for r in rules]
