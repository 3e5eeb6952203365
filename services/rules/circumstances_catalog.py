"""The catalog of mitigating and aggravating circumstances (Luật Xử lý vi phạm hành chính Art.9–10): the rule data,
validated and picked by the day in force. Pure, no database; the rules over it are in
:mod:`services.rules.circumstances` and :mod:`services.rules.circumstances_derived`.

The catalog is rule data, ``data/circumstances_xlvphc*.json``: one file per version, each with its ``effective_from``
(a later amendment of the Law is a new file; :func:`load_circumstances` picks the version in force on a date, like
:func:`services.rules.procedure.procedure_for`). Every entry has a stable ascii ``code``, its ``kind``, the point of the
Law (``point_vi``), the Law's wording (``text_vi``), a short label for decisions (``short_vi``), ``derived`` and its
``source``. The shipped wording is NOT confirmed (``confirmed: false``): the legal texts held by the project do not
include Art.9–10, so the text is reproduced from the published consolidated Law and must be checked against the gazette.

Besides the entries, a file carries the rules the engine derives with (``repeat_window`` for tái phạm, ``many_times``
for vi phạm hành chính nhiều lần) and Art.10 cl.2 (``not_aggravating_if_part_of_act``).
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.errors import CircumstancesError, StageBlocked, UnknownCircumstance
from services.settings import RULES_DIR

FILE_GLOB = "circumstances_xlvphc*.json"
_TOP_KEYS = frozenset({"version", "effective_from", "law_vi", "source", "confirmed", "repeat_window", "many_times",
                       "not_aggravating_if_part_of_act", "circumstances"})
_ENTRY_KEYS = frozenset({"code", "kind", "point_vi", "short_vi", "text_vi", "derived", "source", "confirmed", "selectable",
                         "note"})
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_POINT_RE = {"mitigating": re.compile(r"^khoản \d+ Điều 9$"), "aggravating": re.compile(r"^điểm [a-zđ] khoản 1 Điều 10$")}


class Kind(StrEnum):
    MITIGATING = "mitigating"
    AGGRAVATING = "aggravating"

    @property
    def label_vi(self) -> str:
        return "giảm nhẹ" if self is Kind.MITIGATING else "tăng nặng"


# --------------------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class Circumstance:
    code: str
    kind: Kind
    point_vi: str  # "khoản 1 Điều 9", "điểm b khoản 1 Điều 10"
    short_vi: str  # label for a decision: "tái phạm"
    text_vi: str  # the Law's wording
    derived: bool  # established by the engine only (tái phạm, vi phạm hành chính nhiều lần)
    source: str
    confirmed: bool
    selectable: bool = True  # False for Art.9 cl.8, a mere reference to circumstances set by the Government
    note: str = ""


@dataclass(frozen=True)
class RepeatWindow:
    """How long a sanctioned person is still considered sanctioned (Luật XLVPHC Art.7)."""

    code: str
    warning_months: int
    other_sanction_months: int
    after_enforcement_expiry_months: int
    last_day_inclusive: bool
    source: str
    confirmed: bool


@dataclass(frozen=True)
class ManyTimesRule:
    """Earlier unsanctioned occurrences count while the limitation for sanctioning them runs (Luật XLVPHC Art.6)."""

    code: str
    limitation_months: int
    last_day_inclusive: bool
    source: str
    confirmed: bool


@dataclass(frozen=True)
class PartOfActRule:
    """Art.10 cl.2: a circumstance that is itself the act is not aggravating."""

    point_vi: str
    text_vi: str
    source: str
    confirmed: bool


@dataclass(frozen=True)
class CircumstanceCatalog:
    version: str
    effective_from: date
    law_vi: str
    source: str
    confirmed: bool
    entries: tuple[Circumstance, ...]
    repeat_window: RepeatWindow
    many_times: ManyTimesRule
    part_of_act: PartOfActRule
    source_file: str = ""

    def get(self, code: str) -> Circumstance:
        wanted = norm_text(code)
        for entry in self.entries:
            if entry.code == wanted:
                return entry
        raise UnknownCircumstance(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and any(e.code == norm_text(code) for e in self.entries)

    def __iter__(self) -> Iterator[Circumstance]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def mitigating(self) -> tuple[Circumstance, ...]:
        return tuple(e for e in self.entries if e.kind is Kind.MITIGATING)

    def aggravating(self) -> tuple[Circumstance, ...]:
        return tuple(e for e in self.entries if e.kind is Kind.AGGRAVATING)

    def citation_vi(self, code: str) -> str:
        """``điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính``."""
        return f"{self.get(code).point_vi} {self.law_vi}"


def norm_text(text: str) -> str:
    """A code or text as compared and kept: stripped, Unicode NFC."""
    return unicodedata.normalize("NFC", text.strip())


def _fail(path: Path, key: str, problem: str) -> CircumstancesError:
    return CircumstancesError(f"Tệp tình tiết giảm nhẹ, tăng nặng {path.name}: khóa {key!r} {problem}.", file=str(path), key=key)


def _text(path: Path, raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}{key}", "thiếu hoặc không phải chuỗi ký tự khác rỗng")
    return norm_text(value)


def _flag(path: Path, raw: Mapping[str, Any], key: str, where: str, default: bool | None = None) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(path, f"{where}{key}", f"phải là true hoặc false, nhận {value!r}")
    return value


def _months(path: Path, raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _fail(path, f"{where}{key}", f"phải là số tháng nguyên dương, nhận {value!r}")
    return value


def _mapping(path: Path, raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        raise _fail(path, key, "thiếu hoặc không phải một đối tượng")
    return value


def _parse_entry(path: Path, i: int, raw: Any) -> Circumstance:
    where = f"circumstances[{i}]."
    if not isinstance(raw, Mapping):
        raise _fail(path, f"circumstances[{i}]", "phải là một đối tượng")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        raise _fail(path, where + unknown[0], "không được hỗ trợ")
    code = _text(path, raw, "code", where)
    if not _CODE_RE.match(code):
        raise _fail(path, where + "code", f"chỉ gồm chữ thường không dấu, chữ số và '_', nhận {code!r}")
    kind = raw.get("kind")
    if kind not in _POINT_RE:
        raise _fail(path, where + "kind", f"phải là 'mitigating' hoặc 'aggravating', nhận {kind!r}")
    point = _text(path, raw, "point_vi", where)
    if not _POINT_RE[kind].match(point):
        expected = "khoản <n> Điều 9" if kind == "mitigating" else "điểm <x> khoản 1 Điều 10"
        raise _fail(path, where + "point_vi", f"phải có dạng '{expected}' cho tình tiết {Kind(kind).label_vi}, nhận {point!r}")
    derived = _flag(path, raw, "derived", where)
    if derived and kind != "aggravating":
        raise _fail(path, where + "derived", "chỉ tình tiết tăng nặng mới do hệ thống xác định")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise _fail(path, where + "note", "phải là chuỗi ký tự")
    return Circumstance(code=code, kind=Kind(kind), point_vi=point, short_vi=_text(path, raw, "short_vi", where),
                        text_vi=_text(path, raw, "text_vi", where), derived=derived, source=_text(path, raw, "source", where),
                        confirmed=_flag(path, raw, "confirmed", where), selectable=_flag(path, raw, "selectable", where, True),
                        note=norm_text(note))


def _check_derived_code(path: Path, key: str, code: str, entries: Sequence[Circumstance]) -> None:
    entry = next((e for e in entries if e.code == code), None)
    if entry is None or not entry.derived:
        raise _fail(path, f"{key}.code", f"phải là mã của một tình tiết tăng nặng do hệ thống xác định (derived), nhận {code!r}")


def parse_circumstances(raw: Any, path: Path) -> CircumstanceCatalog:
    """Validate one circumstances file's content; every error names the file and the key."""
    if not isinstance(raw, Mapping):
        raise _fail(path, "(gốc)", "phải là một đối tượng JSON")
    unknown, missing = sorted(set(raw) - _TOP_KEYS), sorted(_TOP_KEYS - set(raw))
    if unknown:
        raise _fail(path, unknown[0], "không được hỗ trợ")
    if missing:
        raise _fail(path, missing[0], "bị thiếu")
    try:
        effective_from = date.fromisoformat(str(raw["effective_from"]))
    except ValueError:
        raise _fail(path, "effective_from", f"phải là ngày dạng YYYY-MM-DD, nhận {raw['effective_from']!r}") from None
    if not isinstance(raw["circumstances"], list) or not raw["circumstances"]:
        raise _fail(path, "circumstances", "phải là danh sách tình tiết khác rỗng")
    entries = tuple(_parse_entry(path, i, e) for i, e in enumerate(raw["circumstances"]))
    codes = [e.code for e in entries]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise _fail(path, f"circumstances[{i}].code", f"trùng mã {code!r}")

    rw = _mapping(path, raw, "repeat_window")
    repeat = RepeatWindow(code=_text(path, rw, "code", "repeat_window."),
                          warning_months=_months(path, rw, "warning_months", "repeat_window."),
                          other_sanction_months=_months(path, rw, "other_sanction_months", "repeat_window."),
                          after_enforcement_expiry_months=_months(path, rw, "after_enforcement_expiry_months", "repeat_window."),
                          last_day_inclusive=_flag(path, rw, "last_day_inclusive", "repeat_window."),
                          source=_text(path, rw, "source", "repeat_window."), confirmed=_flag(path, rw, "confirmed", "repeat_window."))
    mt = _mapping(path, raw, "many_times")
    many = ManyTimesRule(code=_text(path, mt, "code", "many_times."),
                         limitation_months=_months(path, mt, "limitation_months", "many_times."),
                         last_day_inclusive=_flag(path, mt, "last_day_inclusive", "many_times."),
                         source=_text(path, mt, "source", "many_times."), confirmed=_flag(path, mt, "confirmed", "many_times."))
    pa = _mapping(path, raw, "not_aggravating_if_part_of_act")
    where = "not_aggravating_if_part_of_act."
    part = PartOfActRule(point_vi=_text(path, pa, "point_vi", where), text_vi=_text(path, pa, "text_vi", where),
                         source=_text(path, pa, "source", where), confirmed=_flag(path, pa, "confirmed", where))
    _check_derived_code(path, "repeat_window", repeat.code, entries)
    _check_derived_code(path, "many_times", many.code, entries)
    if repeat.code == many.code:
        raise _fail(path, "many_times.code", "phải khác repeat_window.code")
    for i, entry in enumerate(entries):
        if entry.derived and entry.code not in (repeat.code, many.code):
            raise _fail(path, f"circumstances[{i}].derived", f"tình tiết {entry.code!r} không gắn với quy tắc xác định nào "
                                                             "(repeat_window hoặc many_times)")
    return CircumstanceCatalog(version=_text(path, raw, "version", ""), effective_from=effective_from,
                               law_vi=_text(path, raw, "law_vi", ""), source=_text(path, raw, "source", ""),
                               confirmed=_flag(path, raw, "confirmed", ""), entries=entries, repeat_window=repeat,
                               many_times=many, part_of_act=part, source_file=path.name)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CircumstancesError(f"Tệp tình tiết giảm nhẹ, tăng nặng {path.name}: không phải JSON hợp lệ ({exc}).",
                                 file=str(path)) from exc


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[CircumstanceCatalog, ...]:
    versions = sorted((parse_circumstances(_read(p), p) for p in sorted(folder.glob(FILE_GLOB))), key=lambda c: c.effective_from)
    for older, newer in pairwise(versions):
        if older.effective_from == newer.effective_from:
            raise CircumstancesError(f"Tệp tình tiết {older.source_file} và {newer.source_file} cùng có hiệu lực từ ngày "
                                     f"{newer.effective_from:%d/%m/%Y}.", file=newer.source_file)
    return tuple(versions)


def load_circumstances(on: date, folder: Path = RULES_DIR) -> CircumstanceCatalog:
    """The catalog in force on ``on``: the newest version whose ``effective_from`` is on or before it (cached)."""
    versions = _load_all(Path(folder))
    in_force = [c for c in versions if c.effective_from <= on]
    if not in_force:
        first = (f"; phiên bản sớm nhất ({versions[0].version}, {versions[0].source_file}) có hiệu lực từ ngày "
                 f"{versions[0].effective_from:%d/%m/%Y}") if versions else ""
        raise StageBlocked(f"Không có danh mục tình tiết giảm nhẹ, tăng nặng nào có hiệu lực vào ngày {on:%d/%m/%Y}{first}.",
                           on=on.isoformat())
    return in_force[-1]
