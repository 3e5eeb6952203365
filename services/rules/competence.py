"""Competence and amount checks for one file, used by the decision API and the correction path.

- **Who may decide** (:func:`required_signer`, :func:`ensure_competent`, :func:`referral_errors`): the lowest title
  competent for the file on the day the decision is issued, judged per act on its range maximum (organisations ×2,
  household businesses as individuals: ``Establishment.is_organisation``); a higher title may take the file
  only with a referral reason, a lower one never.
- **Which amounts** (:func:`missing_amounts`, :func:`amount_errors`, :func:`circumstance_errors`): every
  act named, each amount within its act's range; the circumstances the official names per act and, for an
  amount other than the proposal they give, the written reason (NĐ 118/2021 Art.9 as amended).

The checks read the file's violations and establishment through the caller's session and never write.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from models import Establishment, Inspection, Person, Violation
from services.errors import Forbidden
from services.rules.calendar import today_in_vietnam
from services.rules.circumstances import amount_needs_reason, check_selection, load_circumstances, propose_amount
from services.rules.procedure import competent_signer, procedure_for
from services.errors import CompetenceRefused
from services.rules.sanctions import Authority, decision_authority


def _violations(session: Session, inspection: Inspection) -> list[Violation]:
    return list(session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all())


def _establishment(session: Session, inspection: Inspection) -> Establishment:
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    return establishment


def required_signer(session: Session, inspection: Inspection, *, on: date | None = None) -> str | None:
    """The lowest title competent for the file on ``on`` (default: today, the day a decision would be issued)."""
    violations = _violations(session, inspection)
    if not violations:
        return None
    signer = competent_signer([v.range_max for v in violations],
                              organisation=_establishment(session, inspection).is_organisation,
                              procedure=procedure_for(on or today_in_vietnam()))
    return signer.title


def ensure_competent(session: Session, person: Person, inspection: Inspection, *, on: date) -> Authority:
    """The person's title reaches the competence the file needs on the day the decision is issued (judged per act on
    its range maximum, organisations ×2); a higher title may take the file, a lower one never."""
    violations = _violations(session, inspection)
    establishment = _establishment(session, inspection)
    try:
        return decision_authority([v.range_max for v in violations], organisation=establishment.is_organisation,
                                  decided_on=on, procedure=procedure_for(on), person_title=person.title)
    except CompetenceRefused as exc:
        raise Forbidden(str(exc), inspection_id=inspection.id) from exc


def referral_errors(authority: Authority, reason: str) -> list[str]:
    """A file sent up to a higher competent official than the lowest competent one needs the reason it was sent up."""
    held = authority.competence
    if held is None or held.signer.title == authority.needed.title or reason.strip():
        return []
    return [f"referral_reason: hồ sơ thuộc thẩm quyền của {authority.needed.title}; {held.signer.title} chỉ quyết định khi "
            "hồ sơ được chuyển lên, phải ghi lý do chuyển hồ sơ"]


def missing_amounts(violations: Mapping[int, Violation], amounts: Mapping[int, int]) -> list[str]:
    """Every act of the file has an amount."""
    return [f"amounts: thiếu mức phạt cho hành vi {vid}" for vid in violations if vid not in amounts]


def amount_errors(violations: Mapping[int, Violation], amounts: Mapping[int, int]) -> list[str]:
    """Every amount names an act of the file and lies within that act's range."""
    errors = [f"amounts.{vid}: không có hành vi này trong hồ sơ" for vid in amounts if vid not in violations]
    for vid, amount in amounts.items():
        v = violations.get(vid)
        if v is not None and not v.range_min <= amount <= v.range_max:
            errors.append(f"amounts.{vid}: mức phạt {amount:,} đồng nằm ngoài khung {v.range_min:,}–{v.range_max:,} đồng")
    return errors


@dataclass(frozen=True)
class _Derived:
    code: str
    text_vi: str


def circumstance_errors(violations: Mapping[int, Violation], *, circumstances: Mapping[int, Any],
                        reasons: Mapping[int, str], amounts: Mapping[int, int],
                        on: date) -> tuple[list[str], dict[int, Any]]:
    """Check the official's circumstances (per act: ``.mitigating``, ``.aggravating``) and reasons; returns (errors,
    per act: mitigating, aggravating, the proposal they give, the reason kept). An amount other than that proposal
    needs a written reason (NĐ 118/2021 Art.9 as amended)."""
    catalog = load_circumstances(on)
    errors: list[str] = []
    chosen: dict[int, Any] = {}
    errors += [f"circumstances.{vid}: không có hành vi này trong hồ sơ" for vid in circumstances if vid not in violations]
    errors += [f"reasons.{vid}: không có hành vi này trong hồ sơ" for vid in reasons if vid not in violations]
    for vid, v in violations.items():
        picked = circumstances.get(vid)
        derived = [_Derived(**d) for d in v.derived]
        mitigating = list(picked.mitigating) if picked else []
        aggravating = list(picked.aggravating) if picked else []
        problems = check_selection(mitigating, aggravating, derived, catalog)
        errors += [f"circumstances.{vid}.{problem}" for problem in problems]
        aggravating = list(dict.fromkeys([*(d.code for d in derived), *aggravating]))
        proposal, _ = propose_amount(v.range_min, v.range_max, mitigating=len(mitigating), aggravating=len(aggravating))
        amount = amounts.get(vid)
        reason = reasons.get(vid, "").strip()
        in_range = amount is not None and v.range_min <= amount <= v.range_max
        if amount is not None and in_range and amount_needs_reason(amount, proposal) and not reason:
            errors.append(f"reasons.{vid}: mức phạt {amount:,} đồng khác mức đề xuất {proposal:,} đồng theo các tình tiết "
                          "đã xác định; phải ghi lý do quyết định mức phạt này".replace(",", "."))
        chosen[vid] = (mitigating, aggravating, proposal, reason if amount != proposal else "")
    return errors, chosen
