"""Mitigating and aggravating circumstances of an act (Luật Xử lý vi phạm hành chính Art.9–10): pure rules, no database.

This module is the public face of the circumstances rules and holds an official's selection and its wording; the
parts live next to it, by concern, and their public names are importable from here as before:

- :mod:`services.rules.circumstances_catalog` — the rule data (``data/circumstances_xlvphc*.json``), validated, and
  the version in force on a day (:func:`load_circumstances`);
- :mod:`services.rules.circumstances_derived` — the circumstances the engine derives from its own history, never
  asserted by an official without that basis: tái phạm (:func:`derive_repeat`) and vi phạm hành chính nhiều lần
  (:func:`derive_many_times`);
- here — checking and building an official's selection (:func:`check_selection`, :func:`build_selection`), the
  proposed amount and the Vietnamese wording for the decision (:func:`propose_amount`, :func:`describe_circumstances`).

A circumstance that the act itself is defined by is not aggravating (Art.10 cl.2): pass its codes as ``part_of_act``.

Choosing the amount reuses the single implementation of NĐ 118/2021 Art.9 (as amended):
:func:`services.rules.fine_amount.choose_amount` (also importable as ``services.rules.fines.choose_amount``).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.errors import SelectionRejected
from services.rules.circumstances_catalog import (FILE_GLOB, Circumstance, CircumstanceCatalog, Kind, ManyTimesRule,
                                                  PartOfActRule, RepeatWindow, load_circumstances, norm_text,
                                                  parse_circumstances)
from services.rules.circumstances_derived import (DerivedCircumstance, PriorFinding, PriorSanction, add_months,
                                                  derive_many_times, derive_repeat, repeat_window_end)
from services.rules.fine_amount import choose_amount

__all__ = [
    "FILE_GLOB", "Circumstance", "CircumstanceCatalog", "DerivedCircumstance", "HasCode", "Kind", "ManyTimesRule", "PartOfActRule",
    "PriorFinding", "PriorSanction", "RepeatWindow", "Selection", "add_months", "amount_needs_reason", "build_selection",
    "check_selection", "circumstances_summary_vi", "derive_many_times", "derive_repeat", "describe_circumstances",
    "load_circumstances", "parse_circumstances", "propose_amount", "repeat_window_end",
]


class HasCode(Protocol):
    """What :func:`check_selection` reads of a derived circumstance: its code."""

    @property
    def code(self) -> str: ...


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


def check_selection(mitigating: Sequence[str], aggravating: Sequence[str], derived: Sequence[HasCode],
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
                code = norm_text(raw)
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
    counted.extend(code for code in dict.fromkeys(norm_text(c) for c in aggravating) if code not in counted)
    return Selection(mitigating=tuple(dict.fromkeys(norm_text(c) for c in mitigating)), aggravating=tuple(counted),
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

    The amount is :func:`services.rules.fine_amount.choose_amount` — the one implementation of NĐ 118/2021 Art.9 as amended
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
    amount, _working = choose_amount(low, high, mitigating=m, aggravating=a)
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
    entries = [catalog.get(code) for code in dict.fromkeys(norm_text(c) for c in codes)]
    if not entries:
        return "không có tình tiết giảm nhẹ, tăng nặng"
    parts = []
    for kind in (Kind.MITIGATING, Kind.AGGRAVATING):
        items = [f"{e.short_vi} ({catalog.citation_vi(e.code)})" for e in entries if e.kind is kind]
        if items:
            parts.append(f"tình tiết {kind.label_vi}: {', '.join(items)}")
    return "; ".join(parts)
