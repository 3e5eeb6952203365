"""Mitigating and aggravating circumstances of an act (Luật Xử lý vi phạm hành chính Art.9–10): pure rules, no database.

The catalog is rule data, ``data/circumstances_xlvphc*.json``: one file per version, each with its ``effective_from``
(a later amendment of the Law is a new file; :func:`load_circumstances` picks the version in force on a date, like
:func:`services.rules.procedure.procedure_for`). Every entry has a stable ascii ``code``, its ``kind``, the point of the
Law (``point_vi``), the Law's wording (``text_vi``), a short label for decisions (``short_vi``), ``derived`` and its
``source``. The shipped wording is NOT confirmed (``confirmed: false``): the legal texts held by the project do not
include Art.9–10, so the text is reproduced from the published consolidated Law and must be checked against the gazette.

Derived circumstances — the engine establishes them from its own history and an official may never assert them without
that basis:

- **tái phạm** (:func:`derive_repeat`; Luật XLVPHC Art.2 cl.5, Art.7): the same act (equal ``act_key``; mapping codes
  across decrees is the caller's job) was sanctioned by a decision taken BEFORE the day the new act was committed, and
  the new act falls within the period during which the person is still considered sanctioned: up to ``complied_on`` +
  6 months (a warning) or + 12 months (any other sanction), or ``enforcement_expired_on`` + 12 months. A decision not
  yet complied with and whose enforcement limitation has not expired keeps the window open. Periods follow the Civil
  Code (Luật XLVPHC Art.8): counted from the day after the event, ending at the end of the corresponding day, so the
  last day itself is still inside (``last_day_inclusive`` in the data). A decision taken on the very day of the new act
  does not count: the order within a day is unknown and the doubt favours the violator.
- **vi phạm hành chính nhiều lần** (:func:`derive_many_times`): earlier occurrences of the same act, committed before
  this one, never sanctioned, and still within the limitation for sanctioning on the day the case is decided (01 year
  for labour, Luật XLVPHC Art.6 cl.1, counted from the day the earlier occurrence ended — the finding's
  ``committed_on``). Whether those occurrences are then fined separately or folded into one act with this circumstance
  is for the sector decree (NĐ 12/2022 Art.6 cl.4; NĐ 283/2026 Art.7 cl.4) and the caller; this module only derives it.

A circumstance that the act itself is defined by is not aggravating (Art.10 cl.2): pass its codes as ``part_of_act``.

Choosing the amount reuses the single implementation of NĐ 118/2021 Art.9 (as amended):
:func:`services.rules.fines.choose_amount`.
"""
from __future__ import annotations

import calendar
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from services.errors import CircumstancesError, SelectionRejected, StageBlocked, UnknownCircumstance
from services.rules import fines
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
        wanted = _norm(code)
        for entry in self.entries:
            if entry.code == wanted:
                return entry
        raise UnknownCircumstance(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and any(e.code == _norm(code) for e in self.entries)

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


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _fail(path: Path, key: str, problem: str) -> CircumstancesError:
    return CircumstancesError(f"Tệp tình tiết giảm nhẹ, tăng nặng {path.name}: khóa {key!r} {problem}.", file=str(path), key=key)


def _text(path: Path, raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}{key}", "thiếu hoặc không phải chuỗi ký tự khác rỗng")
    return _norm(value)


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
                        note=_norm(note))


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


# --------------------------------------------------------------------------- derived circumstances


def add_months(day: date, months: int) -> date:
    """``day`` + ``months`` calendar months; a missing day becomes the month's last (Civil Code: 29/02 + 12 → 28/02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _within(day: date, end: date, *, inclusive: bool) -> bool:
    return day <= end if inclusive else day < end


def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


@dataclass(frozen=True)
class DerivedCircumstance:
    """An aggravating circumstance the engine established, with the sentence for the file and its basis."""

    code: str
    sentence_vi: str  # "Tái phạm: đã bị xử phạt về hành vi này theo Quyết định số … ngày …, chấp hành xong ngày …"
    basis_vi: str  # the legal provisions relied on
    evidence: tuple[str, ...]  # the decisions (tái phạm) or earlier occurrences (nhiều lần) relied on
    origin: str  # "engine" or "import": where the history came from


@dataclass(frozen=True)
class PriorSanction:
    """A sanction decision taken earlier against the same person or organisation."""

    act_key: str
    decision_ref: str  # "12/QĐ-XPHC"
    decided_on: date
    complied_on: date | None
    enforcement_expired_on: date | None
    warning_only: bool
    source: Literal["engine", "import"]

    def __post_init__(self) -> None:
        if not self.act_key.strip() or not self.decision_ref.strip():
            raise ValueError("act_key, decision_ref: không được để trống")
        if self.source not in ("engine", "import"):
            raise ValueError(f"source: phải là 'engine' hoặc 'import', nhận {self.source!r}")
        for name in ("complied_on", "enforcement_expired_on"):
            later = getattr(self, name)
            if later is not None and later < self.decided_on:
                raise ValueError(f"{name}: ngày {_d(later)} trước ngày ra quyết định {_d(self.decided_on)} "
                                 f"(Quyết định số {self.decision_ref})")


def repeat_window_end(prior: PriorSanction, catalog: CircumstanceCatalog) -> date | None:
    """The last day the person is still considered sanctioned by ``prior``; None while the decision is neither
    complied with nor past its enforcement limitation (the window is still open)."""
    rule = catalog.repeat_window
    if prior.complied_on is not None:
        months = rule.warning_months if prior.warning_only else rule.other_sanction_months
        return add_months(prior.complied_on, months)
    if prior.enforcement_expired_on is not None:
        return add_months(prior.enforcement_expired_on, rule.after_enforcement_expiry_months)
    return None


def _repeat_sentence(prior: PriorSanction, end: date | None) -> str:
    head = f"Tái phạm: đã bị xử phạt về hành vi này theo Quyết định số {prior.decision_ref} ngày {_d(prior.decided_on)}"
    still = f"chưa hết thời hạn để được coi là chưa bị xử phạt (đến hết ngày {_d(end)})" if end else ""
    if prior.complied_on is not None:
        return f"{head}, chấp hành xong ngày {_d(prior.complied_on)}, {still}"
    if prior.enforcement_expired_on is not None:
        return f"{head}, hết thời hiệu thi hành ngày {_d(prior.enforcement_expired_on)}, {still}"
    return f"{head}, chưa chấp hành xong quyết định"


def derive_repeat(act_key: str, committed_on: date, priors: Iterable[PriorSanction],
                  catalog: CircumstanceCatalog) -> DerivedCircumstance | None:
    """"Tái phạm" for an act of ``act_key`` committed on ``committed_on``, or None (rule: module docstring).

    Among several qualifying decisions the most recent one is named; the circumstance counts once.
    """
    rule = catalog.repeat_window
    hits: list[tuple[PriorSanction, date | None]] = []
    for prior in priors:
        if prior.act_key != act_key or prior.decided_on >= committed_on:
            continue  # another act, or a decision not yet taken when the act was committed
        end = repeat_window_end(prior, catalog)
        if end is None or _within(committed_on, end, inclusive=rule.last_day_inclusive):
            hits.append((prior, end))
    if not hits:
        return None
    prior, end = max(hits, key=lambda hit: (hit[0].decided_on, hit[0].decision_ref))
    return DerivedCircumstance(
        code=rule.code, sentence_vi=_repeat_sentence(prior, end),
        basis_vi=f"{catalog.citation_vi(rule.code)}; khoản 5 Điều 2 và Điều 7 {catalog.law_vi}",
        evidence=tuple(f"Quyết định số {p.decision_ref} ngày {_d(p.decided_on)}" for p, _ in hits),
        origin="import" if prior.source == "import" else "engine")


@dataclass(frozen=True)
class PriorFinding:
    """An earlier occurrence of an act found by the engine; ``committed_on`` is the day it ended (or the day it was
    discovered, if it was still going on then): the limitation runs from that day."""

    act_key: str
    committed_on: date
    discovered_on: date
    sanctioned: bool

    def __post_init__(self) -> None:
        if self.discovered_on < self.committed_on:
            raise ValueError(f"discovered_on: ngày phát hiện {_d(self.discovered_on)} trước ngày thực hiện {_d(self.committed_on)}")


def derive_many_times(act_key: str, committed_on: date,
                      findings: Iterable[PriorFinding | tuple[str, date, date, bool]],
                      catalog: CircumstanceCatalog, *, on: date) -> DerivedCircumstance | None:
    """"Vi phạm hành chính nhiều lần" for an act committed on ``committed_on`` and decided on ``on``, or None.

    Counts the findings of the same ``act_key`` committed strictly before ``committed_on``, never sanctioned, whose
    limitation for sanctioning (``many_times.limitation_months`` from their ``committed_on``) has not expired on ``on``.
    Sanctioned occurrences are :func:`derive_repeat`'s business, not this one's.
    """
    rule = catalog.many_times
    earlier: list[PriorFinding] = []
    for item in findings:
        finding = item if isinstance(item, PriorFinding) else PriorFinding(*item)
        if finding.act_key != act_key or finding.sanctioned or finding.committed_on >= committed_on:
            continue
        if _within(on, add_months(finding.committed_on, rule.limitation_months), inclusive=rule.last_day_inclusive):
            earlier.append(finding)
    if not earlier:
        return None
    earlier.sort(key=lambda f: f.committed_on)
    dates = "; ".join(f"ngày {_d(f.committed_on)}, phát hiện ngày {_d(f.discovered_on)}" for f in earlier)
    return DerivedCircumstance(
        code=rule.code,
        sentence_vi=(f"Vi phạm hành chính nhiều lần: hành vi này đã được thực hiện {len(earlier):02d} lần trước đó ({dates}), "
                     "chưa bị xử phạt và chưa hết thời hiệu xử phạt"),
        basis_vi=f"{catalog.citation_vi(rule.code)}; khoản 1 Điều 6 {catalog.law_vi}",
        evidence=tuple(f"Lần vi phạm ngày {_d(f.committed_on)}" for f in earlier), origin="engine")


# --------------------------------------------------------------------------- an official's selection


def _derived_only_reason(code: str, catalog: CircumstanceCatalog) -> str:
    if code == catalog.repeat_window.code:
        return "chỉ được áp dụng khi hệ thống xác định được quyết định xử phạt trước đó"
    return "chỉ được áp dụng khi hệ thống xác định được lần vi phạm trước đó chưa bị xử phạt và chưa hết thời hiệu"


def _code_errors(where: str, raw: object, kind: Kind, catalog: CircumstanceCatalog, derived_codes: Collection[str],
                 part_of_act: Collection[str]) -> list[str]:
    if not isinstance(raw, str) or not raw.strip():
        return [f"{where}: mã tình tiết phải là chuỗi khác rỗng"]
    if raw not in catalog:
        return [f"{where}: không có tình tiết mã {raw!r}"]
    entry = catalog.get(raw)
    cite = catalog.citation_vi(entry.code)
    if entry.kind is not kind:
        return [f"{where}: {entry.short_vi} ({cite}) là tình tiết {entry.kind.label_vi}, không phải tình tiết {kind.label_vi}"]
    if not entry.selectable:
        return [f"{where}: {cite} chỉ dẫn chiếu tình tiết giảm nhẹ khác do Chính phủ quy định; hãy chọn tình tiết cụ thể"]
    if entry.derived and entry.code not in derived_codes:
        return [f"{where}: {entry.short_vi} ({cite}) {_derived_only_reason(entry.code, catalog)}"]
    if entry.code in part_of_act:
        return [f"{where}: {entry.short_vi} đã được quy định là hành vi vi phạm hành chính nên không được coi là tình tiết "
                f"tăng nặng ({catalog.part_of_act.point_vi} {catalog.law_vi})"]
    return []


def check_selection(mitigating: Sequence[str], aggravating: Sequence[str], derived: Sequence[DerivedCircumstance],
                    catalog: CircumstanceCatalog, *, part_of_act: Collection[str] = ()) -> list[str]:
    """The Vietnamese field errors of an official's selection ("aggravating[0]: …"); empty when it is acceptable.

    ``derived`` are what :func:`derive_repeat` / :func:`derive_many_times` found: they are always counted (see
    :func:`build_selection`); choosing one of them again is harmless, choosing a derived code without it is an error.
    ``part_of_act``: codes the act's own definition already contains (Art.10 cl.2).
    """
    errors: list[str] = []
    derived_codes: set[str] = set()
    for i, item in enumerate(derived):
        entry = catalog.get(item.code) if item.code in catalog else None
        if entry is None or not entry.derived:
            errors.append(f"derived[{i}]: không có tình tiết do hệ thống xác định mã {item.code!r}")
        else:
            derived_codes.add(entry.code)
    for field, codes, kind in (("mitigating", mitigating, Kind.MITIGATING), ("aggravating", aggravating, Kind.AGGRAVATING)):
        first_at: dict[str, int] = {}
        for i, raw in enumerate(codes):
            where = f"{field}[{i}]"
            problems = _code_errors(where, raw, kind, catalog, derived_codes, part_of_act)
            if not problems:
                code = _norm(raw)
                if code in first_at:
                    problems = [f"{where}: trùng với {field}[{first_at[code]}] (mã {code!r})"]
                first_at.setdefault(code, i)
            errors.extend(problems)
    return errors


@dataclass(frozen=True)
class Selection:
    """The circumstances counted for one act: derived first, then the official's choices, each code once."""

    mitigating: tuple[str, ...]
    aggravating: tuple[str, ...]
    derived: tuple[DerivedCircumstance, ...]
    set_aside: tuple[tuple[str, str], ...] = ()  # (code, Vietnamese reason): derived but not counted (Art.10 cl.2)

    def propose(self, range_min: int, range_max: int, catalog: CircumstanceCatalog) -> tuple[int, str]:
        """:func:`propose_amount` for this selection, naming the circumstances in the sentence."""
        return propose_amount(range_min, range_max, mitigating=len(self.mitigating), aggravating=len(self.aggravating),
                              mitigating_labels=[catalog.get(c).short_vi for c in self.mitigating],
                              aggravating_labels=[catalog.get(c).short_vi for c in self.aggravating])


def build_selection(mitigating: Sequence[str], aggravating: Sequence[str], derived: Sequence[DerivedCircumstance],
                    catalog: CircumstanceCatalog, *, part_of_act: Collection[str] = ()) -> Selection:
    """The :class:`Selection`, or :class:`SelectionRejected` with :func:`check_selection`'s errors.

    Derived circumstances are always counted — the official cannot drop them silently — except one the act is defined
    by (Art.10 cl.2), which is kept in ``set_aside`` with the reason.
    """
    errors = check_selection(mitigating, aggravating, derived, catalog, part_of_act=part_of_act)
    if errors:
        raise SelectionRejected(errors)
    counted: list[str] = []
    set_aside: list[tuple[str, str]] = []
    rule = catalog.part_of_act
    for item in derived:
        code = catalog.get(item.code).code
        if code in part_of_act:
            reason = f"{catalog.get(code).short_vi}: {rule.text_vi} ({rule.point_vi} {catalog.law_vi})"
            if (code, reason) not in set_aside:
                set_aside.append((code, reason))
        elif code not in counted:
            counted.append(code)
    counted.extend(code for code in dict.fromkeys(_norm(c) for c in aggravating) if code not in counted)
    return Selection(mitigating=tuple(dict.fromkeys(_norm(c) for c in mitigating)), aggravating=tuple(counted),
                     derived=tuple(derived), set_aside=tuple(set_aside))


# --------------------------------------------------------------------------- amount and wording


def _count_phrase(count: int, kind: Kind, labels: Sequence[str]) -> str:
    named = f" ({'; '.join(labels)})" if labels else ""
    return f"{count:02d} tình tiết {kind.label_vi}{named}"


def circumstances_summary_vi(mitigating: int, aggravating: int, *, mitigating_labels: Sequence[str] = (),
                             aggravating_labels: Sequence[str] = ()) -> str:
    """"Có 01 tình tiết tăng nặng (tái phạm), không có tình tiết giảm nhẹ" / "Không có tình tiết giảm nhẹ, tăng nặng"."""
    if not mitigating and not aggravating:
        return "Không có tình tiết giảm nhẹ, tăng nặng"
    m = _count_phrase(mitigating, Kind.MITIGATING, mitigating_labels)
    a = _count_phrase(aggravating, Kind.AGGRAVATING, aggravating_labels)
    if not mitigating:
        return f"Có {a}, không có tình tiết giảm nhẹ"
    if not aggravating:
        return f"Có {m}, không có tình tiết tăng nặng"
    return f"Có {m} và {a}"


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}: phải là số nguyên không âm, nhận được {value!r}")
    return value


def propose_amount(range_min: int, range_max: int, *, mitigating: int, aggravating: int,
                   mitigating_labels: Sequence[str] = (), aggravating_labels: Sequence[str] = ()) -> tuple[int, str]:
    """The proposed amount and a short sentence for the decision (not the working).

    The amount is :func:`services.rules.fines.choose_amount` — the one implementation of NĐ 118/2021 Art.9 as amended
    (midpoint; net one mitigating → middle of minimum..midpoint; two or more → minimum; symmetric for aggravating;
    they cancel one for one). Labels, when given, must name every circumstance counted.
    """
    low, high = _check_count("range_min", range_min), _check_count("range_max", range_max)
    if low > high:
        raise ValueError(f"range_max: mức tối đa {high:,} nhỏ hơn mức tối thiểu {low:,}".replace(",", "."))
    m, a = _check_count("mitigating", mitigating), _check_count("aggravating", aggravating)
    for name, labels, count in (("mitigating_labels", mitigating_labels, m), ("aggravating_labels", aggravating_labels, a)):
        if labels and len(labels) != count:
            raise ValueError(f"{name}: có {len(labels)} tên tình tiết cho {count} tình tiết")
    amount, _working = fines.choose_amount(low, high, mitigating=m, aggravating=a)
    return amount, circumstances_summary_vi(m, a, mitigating_labels=mitigating_labels, aggravating_labels=aggravating_labels)


def amount_needs_reason(amount: int, proposal: int) -> bool:
    """True when the official sets an amount other than the engine's proposal: the decision must then give a reason
    (both amounts are kept). Kept explicit so every caller applies the same rule."""
    return amount != proposal


def describe_circumstances(codes: Iterable[str], catalog: CircumstanceCatalog) -> str:
    """For the decision document: "tình tiết tăng nặng: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)".

    Mitigating first, then aggravating, each in the given order, each code once; items of a kind are separated by
    ", ", the kinds by "; ".
    """
    entries = [catalog.get(code) for code in dict.fromkeys(_norm(c) for c in codes)]
    if not entries:
        return "không có tình tiết giảm nhẹ, tăng nặng"
    parts = []
    for kind in (Kind.MITIGATING, Kind.AGGRAVATING):
        items = [f"{e.short_vi} ({catalog.citation_vi(e.code)})" for e in entries if e.kind is kind]
        if items:
            parts.append(f"tình tiết {kind.label_vi}: {', '.join(items)}")
    return "; ".join(parts)
