"""The sanctioning decrees (catalogs of fines) the engine holds, each with its period in force.

``data/decrees.json`` lists them: NĐ 12/2022/NĐ-CP (17/01/2022–09/09/2026) and NĐ 283/2026/NĐ-CP (from
10/09/2026), each with its own fine table in the legal directory. Which decree judges an act
(:func:`applicable_decree`):

- NĐ 283/2026 Art.67: an act that took place **and ended** before 10/09/2026 is judged under the decree in
  force when it was committed; an act **still going on** on that day is judged under NĐ 283/2026;
- NĐ 118/2021 Art.7 cl.2 for the general case: an ended act → the decree in force when it ended; an ongoing
  act → the decree in force when it was discovered.

The same act under two decrees (needed to recognise a repeat offence across the change) is told by
:func:`act_key`, read from the counterparts table (``nd12_to_nd283_map.csv``): a row whose match is
``direct`` or ``moved`` names the same act; ``partial`` and ``none`` do not.

Errors (all :class:`services.rules.fines.RulesError`): :class:`DecreeError` (a malformed catalog or
counterparts file, naming file and key), :class:`NoDecreeInForce` (no catalog covers a date, e.g. an act
committed before 17/01/2022: NĐ 28/2020 is not held), :class:`UnknownDecree` (a code or key of no decree).
Bad arguments to :func:`applicable_decree` raise ``ValueError`` with a Vietnamese message.
Nothing is read at import; files are read once and cached.
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.errors import DecreeError, NoDecreeInForce, UnknownDecree

DECREES_FILE = "decrees.json"
SAME_ACT_MATCHES = frozenset({"direct", "moved"})  # map rows naming the same act under the newer decree
_MATCHES = SAME_ACT_MATCHES | {"partial", "none"}
_KEY_RE = re.compile(r"^\d+/\d{4}/ND-CP$")
_TEXT_KEYS = ("key", "number_vi", "citation_vi", "fine_table_file", "organisation_rule_vi", "source")
_DECREE_KEYS = frozenset({*_TEXT_KEYS, "in_force_from", "in_force_to", "individual_households_rule_vi",
                          "confirmed", "note"})


@dataclass(frozen=True)
class Decree:
    key: str  # the prefix of its fine codes, e.g. "283/2026/ND-CP"
    number_vi: str  # "Nghị định số 283/2026/NĐ-CP"
    citation_vi: str  # the whole căn cứ line: number, date, issuer, title
    in_force_from: date
    in_force_to: date | None  # last day in force; None: still in force
    fine_table_file: str  # CSV in the legal directory
    organisation_rule_vi: str  # the clause that doubles amounts for organisations
    individual_households_rule_vi: str  # the clause fining hộ kinh doanh as individuals ("" if none)
    source: str
    confirmed: bool  # matched against the official gazette
    note: str = ""

    def in_force_on(self, on: date) -> bool:
        return self.in_force_from <= on and (self.in_force_to is None or on <= self.in_force_to)

    def period_vi(self) -> str:
        start = f"từ ngày {self.in_force_from:%d/%m/%Y}"
        return start if self.in_force_to is None else f"{start} đến ngày {self.in_force_to:%d/%m/%Y}"


@dataclass(frozen=True)
class DecreeCatalog:
    decrees: tuple[Decree, ...]  # oldest first
    limitation_years: int  # how far back an act can still be sanctioned (Luật XLVPHC Art.6)
    counterparts_file: str
    source_file: str


# --------------------------------------------------------------------------- loading


def load_catalog(path: Path | None = None) -> DecreeCatalog:
    """Parse and validate ``decrees.json`` (default: the rules data directory); cached per path."""
    if path is None:
        from services.settings import RULES_DIR

        path = RULES_DIR / DECREES_FILE
    return _load_catalog(Path(path).resolve())


def load_decrees(path: Path | None = None) -> tuple[Decree, ...]:
    """Every decree of the catalog, oldest first."""
    return load_catalog(path).decrees


@lru_cache(maxsize=8)
def _load_catalog(path: Path) -> DecreeCatalog:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DecreeError(f"Tệp danh mục nghị định {path.name}: không phải JSON hợp lệ ({exc}).",
                          file=str(path)) from exc
    return parse_catalog(raw, path)


def _fail(path: Path, key: str, problem: str) -> DecreeError:
    return DecreeError(f"Tệp danh mục nghị định {path.name}: khóa {key!r} {problem}.", file=str(path), key=key)


def parse_catalog(raw: Any, path: Path) -> DecreeCatalog:
    """Validate the content of a catalog file; every error names the file and the key."""
    if not isinstance(raw, Mapping):
        raise _fail(path, "(gốc)", "phải là một đối tượng JSON")
    years, counterparts, items = raw.get("limitation_years"), raw.get("counterparts_file"), raw.get("decrees")
    if not isinstance(years, int) or isinstance(years, bool) or years < 1:
        raise _fail(path, "limitation_years", f"phải là số năm nguyên dương, nhận {years!r}")
    if not isinstance(counterparts, str) or not counterparts.strip():
        raise _fail(path, "counterparts_file", "thiếu hoặc rỗng")
    if not isinstance(items, list) or not items:
        raise _fail(path, "decrees", "phải là danh sách nghị định khác rỗng")
    decrees = tuple(_parse_decree(path, i, item) for i, item in enumerate(items))
    _check_periods(path, decrees)
    return DecreeCatalog(decrees=decrees, limitation_years=years, counterparts_file=counterparts,
                         source_file=str(path))


def _parse_decree(path: Path, i: int, raw: Any) -> Decree:
    where = f"decrees[{i}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "phải là một đối tượng")
    unknown = sorted(set(raw) - _DECREE_KEYS)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "không được hỗ trợ")
    for key in _TEXT_KEYS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(path, f"{where}.{key}", "thiếu hoặc rỗng")
    for key in ("individual_households_rule_vi", "note"):
        if not isinstance(raw.get(key, ""), str):
            raise _fail(path, f"{where}.{key}", "phải là chuỗi ký tự")
    if not _KEY_RE.match(raw["key"]):
        raise _fail(path, f"{where}.key", f"phải có dạng '<số>/<năm>/ND-CP' như mã trong bảng mức phạt, nhận {raw['key']!r}")
    if not isinstance(raw.get("confirmed"), bool):
        raise _fail(path, f"{where}.confirmed", "phải là true hoặc false")
    start = _date(path, f"{where}.in_force_from", raw.get("in_force_from"))
    end = None if raw.get("in_force_to") is None else _date(path, f"{where}.in_force_to", raw["in_force_to"])
    if end is not None and end < start:
        raise _fail(path, f"{where}.in_force_to", f"({end.isoformat()}) trước ngày có hiệu lực {start.isoformat()}")
    return Decree(key=raw["key"], number_vi=raw["number_vi"], citation_vi=raw["citation_vi"], in_force_from=start,
                  in_force_to=end, fine_table_file=raw["fine_table_file"],
                  organisation_rule_vi=raw["organisation_rule_vi"],
                  individual_households_rule_vi=raw.get("individual_households_rule_vi", ""),
                  source=raw["source"], confirmed=raw["confirmed"], note=raw.get("note", ""))


def _date(path: Path, key: str, value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(path, key, f"phải là ngày dạng YYYY-MM-DD, nhận {value!r}") from None


def _check_periods(path: Path, decrees: tuple[Decree, ...]) -> None:
    """Unique keys; oldest first and one decree at a time: each ends before the next starts."""
    keys = [d.key for d in decrees]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise _fail(path, f"decrees[{i}].key", f"trùng nghị định {key}")
    for i, (older, newer) in enumerate(pairwise(decrees), start=1):
        if older.in_force_to is None or older.in_force_to >= newer.in_force_from:
            raise _fail(path, f"decrees[{i - 1}].in_force_to",
                        f"phải trước ngày {newer.key} có hiệu lực ({newer.in_force_from.isoformat()})")


# --------------------------------------------------------------------------- which decree


def decree_in_force(on: date) -> Decree:
    """The decree in force on a day."""
    for decree in load_decrees():
        if decree.in_force_on(on):
            return decree
    raise NoDecreeInForce(on, load_decrees())


def decrees_in_force_between(first: date, last: date | None) -> tuple[Decree, ...]:
    """Every decree in force on at least one day from ``first`` to ``last`` (None: open-ended), oldest first."""
    return tuple(d for d in load_decrees()
                 if (last is None or d.in_force_from <= last) and (d.in_force_to is None or d.in_force_to >= first))


def limitation_start(on: date) -> date:
    """The first day of the limitation period that ends on ``on`` (``limitation_years`` of the catalog back)."""
    years = load_catalog().limitation_years
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February → 28 February
        return (on - timedelta(days=1)).replace(year=on.year - years)


def applicable_decree(*, committed_on: date, ongoing: bool, discovered_on: date) -> Decree:
    """The decree an act is judged under (NĐ 283/2026 Art.67; NĐ 118/2021 Art.7 cl.2).

    ``committed_on``: the day the act was committed — for an ended act the day it ended. ``ongoing``: the act
    was still going on when discovered. An ongoing act → the decree in force on ``discovered_on``; an ended
    act → the decree in force on ``committed_on``.
    """
    if committed_on > discovered_on:
        raise ValueError(f"Ngày thực hiện hành vi vi phạm ({committed_on:%d/%m/%Y}) sau ngày phát hiện "
                         f"({discovered_on:%d/%m/%Y})")
    return decree_in_force(discovered_on if ongoing else committed_on)


def decree_by_key(key: str) -> Decree:
    for decree in load_decrees():
        if decree.key == key:
            return decree
    raise UnknownDecree(key)


def decree_of(code: str) -> Decree:
    """The decree a fine code belongs to, by its prefix (``283/2026/ND-CP Art.32 cl.2(b)`` → NĐ 283/2026)."""
    return decree_by_key(code.strip().split(" ", 1)[0])


# --------------------------------------------------------------------------- the same act across decrees


def counterpart(code: str) -> str | None:
    """The same act's code in the other decree (match ``direct`` or ``moved``), or None when there is none."""
    forward, backward = _counterparts()
    decree_of(code)
    return forward.get(code.strip()) or backward.get(code.strip())


def act_key(code: str) -> str:
    """The code that names this act across decrees: its newest counterpart, else the code itself."""
    forward, _ = _counterparts()
    decree_of(code)
    key = code.strip()
    while key in forward:
        key = forward[key]
    return key


def _counterparts() -> tuple[dict[str, str], dict[str, str]]:
    from services.settings import get_settings

    catalog = load_catalog()
    return _load_counterparts((get_settings().legal_dir / catalog.counterparts_file).resolve())


@lru_cache(maxsize=8)
def _load_counterparts(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(older code → newer code, newer code → older code) over the rows naming the same act."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or ())
        if len(columns) < 3 or not all(c.endswith("_code") for c in columns[:2]) or "match" not in columns:
            raise DecreeError(f"Bảng tương ứng {path.name}: hai cột đầu phải là mã của nghị định cũ và mới "
                              f"(…_code), và có cột 'match'; nhận {columns[:3]}", file=str(path), key="(tiêu đề)")
        rows = list(reader)
    old_column, new_column = columns[:2]
    forward: dict[str, str] = {}
    backward: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        old, new, match = (row.get(c, "").strip() for c in (old_column, new_column, "match"))
        if match not in _MATCHES:
            raise DecreeError(f"Bảng tương ứng {path.name}: dòng {number}, cột 'match' phải là một trong "
                              f"{sorted(_MATCHES)}, nhận {match!r}", file=str(path), key=f"row {number}")
        if match not in SAME_ACT_MATCHES:
            continue
        if old in forward or new in backward:
            raise DecreeError(f"Bảng tương ứng {path.name}: dòng {number}, mã {old if old in forward else new} "
                              "đã có hành vi tương ứng", file=str(path), key=f"row {number}")
        forward[old], backward[new] = new, old
    return forward, backward
