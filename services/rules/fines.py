"""Fines of the sanctioning decrees (NĐ 12/2022/NĐ-CP Art.20–29, NĐ 283/2026/NĐ-CP Art.31–38): tables, a proposal.

This module is the public face of the fine rules and holds the proposal for one act; the parts live next to it, by
concern, and their public names are importable from here as before:

- :mod:`services.rules.fine_table` — the tables (one CSV per decree, how its columns are read), validated and cached:
  :class:`FineRule`, :class:`FineTable`, :func:`load_fine_table`, :func:`fine_table_for`, :func:`parse_fine_rows`;
- :mod:`services.rules.fine_amount` — choosing the amount within a range (NĐ 118/2021 Art.9 as amended:
  :func:`choose_amount`) and :func:`vnd`;
- here — the Vietnamese citation of a row (:func:`provision_vi`) and the proposal with its reasoning
  (:func:`propose_fine`): the range of the row (per violation, per worker with its cap, or the band for a count),
  doubled for an organisation when the clause is written for individuals, then the amount.

The proposal is only a proposal: the competent official may choose any amount within the range.

Errors (see :mod:`services.rules`): :class:`FineTableError` (a malformed row, naming row and column),
:class:`UnknownProvision` (a code not in the table); bad arguments to :func:`propose_fine` raise
``ValueError`` with a Vietnamese message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.rules.fine_amount import CIRCUMSTANCES_BASIS_VI, choose_amount, vnd
from services.rules.fine_table import (COLUMNS, CODE_RE, Band, FineBasis, FineRule, FineTable, UnitKind, fine_table_for,
                                       load_fine_table, parse_fine_rows)

if TYPE_CHECKING:  # decrees is imported when first needed, not with this module
    from services.rules.decrees import Decree

__all__ = [
    "CIRCUMSTANCES_BASIS_VI", "COLUMNS", "Band", "FineBasis", "FineProposal", "FineRule", "FineTable", "UnitKind",
    "choose_amount", "fine_table_for", "load_fine_table", "parse_fine_rows", "propose_fine", "provision_vi", "vnd",
]


def provision_vi(rule: FineRule | Band) -> str:
    """The Vietnamese citation in the rule's own decree, e.g. ``điểm b khoản 2 Điều 32 Nghị định số 283/2026/NĐ-CP``."""
    match = CODE_RE.match(rule.code)
    assert match, rule.code
    decree, article, clause, point = match.groups()
    lead = f"điểm {point} " if point else ""
    return f"{lead}khoản {clause} Điều {article} {_decree(decree).number_vi}"


def _decree(key: str) -> Decree:
    from services.rules.decrees import decree_by_key

    return decree_by_key(key)



@dataclass(frozen=True)
class FineProposal:
    code: str  # the row applied (for a banded clause: the band's point)
    provision_vi: str
    organisation: bool
    amount: int
    range_min: int
    range_max: int
    reasoning_vi: tuple[str, ...]


def propose_fine(rule: FineRule, *, organisation: bool, workers: int | None = None, devices: int | None = None,
                 mitigating: int = 0, aggravating: int = 0) -> FineProposal:
    """Propose an amount within the range for one act, with the reasoning in Vietnamese sentences."""
    for name, value in (("workers", workers), ("devices", devices), ("mitigating", mitigating),
                        ("aggravating", aggravating)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValueError(f"{name}: phải là số nguyên không âm, nhận được {value!r}")
    if organisation and not rule.allows_organisation:
        raise ValueError(f"{provision_vi(rule)} chỉ áp dụng đối với cá nhân ({rule.applies_to}), "
                         "không xử phạt tổ chức theo điều khoản này")
    if not organisation and not rule.allows_individual:
        raise ValueError(f"Mức phạt tại {provision_vi(rule)} là mức phạt đối với tổ chức ({rule.applies_to}); "
                         "đối tượng vi phạm phải là tổ chức")

    code, low, high, lines = _basis_range(rule, workers=workers, devices=devices)
    organisation_rule = _decree(rule.decree).organisation_rule_vi
    if organisation and rule.basis is FineBasis.INDIVIDUAL:
        low, high = low * 2, high * 2
        lines.append(f"Đối tượng vi phạm là tổ chức nên mức phạt tiền bằng 02 lần mức phạt đối với cá nhân "
                     f"({organisation_rule}): khung tiền phạt từ {vnd(low)} đến {vnd(high)}.")
    elif organisation:
        lines.append(f"Mức phạt tại điều khoản này đã là mức phạt đối với tổ chức (trường hợp loại trừ tại "
                     f"{organisation_rule}) nên không nhân đôi.")
    else:
        lines.append("Đối tượng vi phạm là cá nhân: áp dụng mức phạt đối với cá nhân.")

    amount, circumstance_lines = choose_amount(low, high, mitigating=mitigating, aggravating=aggravating)
    lines.extend(circumstance_lines)
    lines.append(f"Mức phạt tiền đề xuất: {vnd(amount)} (mức phạt cố định)." if low == high else
                 f"Mức phạt tiền đề xuất: {vnd(amount)}; người có thẩm quyền có thể quyết định mức khác "
                 f"trong khung từ {vnd(low)} đến {vnd(high)}.")
    return FineProposal(code=code, provision_vi=provision_vi(_band_or_rule(rule, code)),
                        organisation=organisation, amount=amount, range_min=low, range_max=high,
                        reasoning_vi=tuple(lines))


def _band_or_rule(rule: FineRule, code: str) -> FineRule | Band:
    return next((b for b in rule.bands if b.code == code), rule)


def _basis_range(rule: FineRule, *, workers: int | None, devices: int | None) -> tuple[str, int, int, list[str]]:
    """The range in the clause's own amounts (before doubling), and the sentences that explain it."""
    whom = "tổ chức" if rule.basis is FineBasis.ORGANISATION else "cá nhân"
    cite = provision_vi(rule)
    if rule.unit is UnitKind.PER_VIOLATION:
        return rule.code, rule.min_vnd, rule.max_vnd, [
            f"Hành vi vi phạm quy định tại {cite}: mức phạt tiền đối với {whom} từ {vnd(rule.min_vnd)} "
            f"đến {vnd(rule.max_vnd)}."]
    if rule.unit is UnitKind.PER_WORKER:
        count = _required(workers, "workers", "số người lao động bị vi phạm", cite)
        cap = rule.per_worker_cap_vnd
        assert cap is not None
        raw_low, raw_high = rule.min_vnd * count, rule.max_vnd * count
        low, high = min(raw_low, cap), min(raw_high, cap)
        lines = [
            f"Hành vi vi phạm quy định tại {cite}: mức phạt tiền đối với {whom} từ {vnd(rule.min_vnd)} đến "
            f"{vnd(rule.max_vnd)} khi vi phạm với mỗi người lao động nhưng tối đa không quá {vnd(cap)}.",
            f"Vi phạm với {count} người lao động: {count} × {vnd(rule.min_vnd)} = {vnd(raw_low)}; "
            f"{count} × {vnd(rule.max_vnd)} = {vnd(raw_high)}.",
        ]
        if raw_high > cap:
            lines.append(f"Số tiền vượt mức tối đa {vnd(cap)} nên được giới hạn: khung tiền phạt từ {vnd(low)} "
                         f"đến {vnd(high)}.")
        else:
            lines.append(f"Khung tiền phạt từ {vnd(low)} đến {vnd(high)}.")
        return rule.code, low, high, lines
    if rule.unit is UnitKind.WORKER_BAND:
        count = _required(workers, "workers", "số người lao động bị vi phạm", cite)
        noun, what = "người", "Số người lao động bị vi phạm"
    else:
        count = _required(devices, "devices", "số máy, thiết bị, vật tư vi phạm", cite)
        noun, what = "máy, thiết bị, vật tư", "Số máy, thiết bị, vật tư vi phạm"
    band = next(b for b in rule.bands if b.contains(count))
    interval = (f"từ {band.lower:02d} {noun} trở lên" if band.upper is None
                else f"từ {band.lower:02d} đến {band.upper:02d} {noun}")
    amounts = (f"mức phạt {vnd(band.min_vnd)}" if band.min_vnd == band.max_vnd
               else f"khung tiền phạt từ {vnd(band.min_vnd)} đến {vnd(band.max_vnd)}")
    clause_cite = f"khoản {rule.clause} Điều {rule.article} {_decree(rule.decree).number_vi}"
    return band.code, band.min_vnd, band.max_vnd, [
        f"Hành vi vi phạm quy định tại {clause_cite}: mức phạt tiền đối với {whom} theo {what.lower()}.",
        f"{what}: {count}, thuộc mức {interval} quy định tại {provision_vi(band)}: {amounts}.",
    ]


def _required(value: int | None, name: str, label_vi: str, cite: str) -> int:
    if value is None or value == 0:
        raise ValueError(f"{name}: cần nhập {label_vi} (ít nhất 1) để tính mức phạt theo {cite}")
    return value
