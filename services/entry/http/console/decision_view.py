"""What the officials' decision screen shows and sends (issue 15): read-only queries and the form → ``DecisionIn``.

The page (:mod:`services.entry.http.console.decisions`) shows, per act of one file: the act, the provision applied
(its citation and the decree's own wording), the range, the engine's proposal and its working, the circumstances
the catalogue in force allows, the amount; and for the file: who is competent (``services.rules.competence``),
whether the logged-in person is, and whether the time to issue the decision has run out (``time_bar``: Luật XLVPHC
Art.65 cl.1 c — the page then shows why and no form). Nothing here writes: the decision itself is
:func:`services.intake.decisions.record_decision`, the function the API calls.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models import (Campaign, Document, DocumentType, Establishment, Inspection, InspectionStatus, Person, PersonRole,
                    Violation)
from services.errors import Forbidden
from services.intake.logic import find_inspection
from services.intake.schemas import DecisionIn
from services.rules.circumstances import CircumstanceCatalog, Kind, load_circumstances
from services.rules.competence import circumstance_errors, ensure_competent, required_signer
from services.rules.fines import load_fine_table
from services.stages.decision_time_bar import time_bar
from services.stages.records import violations_context

MITIGATING, AGGRAVATING = "giam_nhe", "tang_nang"  # checkbox name prefixes: "<prefix>.<violation id>.<code>"
AMOUNT, PROPOSAL, REASON = "so_tien", "de_xuat", "ly_do"  # per act: "<prefix>.<violation id>"
DECIDED_ON, REFERRAL = "ngay", "ly_do_chuyen"
DOC_TYPE_VI = {
    DocumentType.MINUTES: "Biên bản kiểm tra", DocumentType.VIOLATION_RECORD: "Biên bản vi phạm hành chính",
    DocumentType.PROPOSAL: "Tờ trình đề nghị xử phạt", DocumentType.SANCTION_DECISION: "Quyết định xử phạt vi phạm hành chính",
    DocumentType.INSPECTION_DECISION: "Quyết định kiểm tra", DocumentType.INSPECTION_PLAN: "Kế hoạch tiến hành kiểm tra",
    DocumentType.INSPECTION_NOTICE: "Thông báo kiểm tra", DocumentType.REPORT: "Báo cáo kết quả kiểm tra",
    DocumentType.PERIODIC_REPORT: "Báo cáo định kỳ",
}


@dataclass
class Choice:
    code: str
    citation_vi: str
    text_vi: str
    checked: bool = False


@dataclass
class Act:
    """One act of the file, as the screen shows it (``proposal``: for the circumstances now picked)."""

    id: int
    act_vi: str
    provision_vi: str
    provision_text_vi: str
    decree_vi: str
    range_min: int
    range_max: int
    record_proposal: int
    working: list[str]
    derived: list[dict[str, Any]]
    mitigating: list[Choice]
    aggravating: list[Choice]
    proposal: int
    amount: str
    reason: str
    final_amount: int | None
    decided_reason: str


@dataclass
class DecisionPage:
    inspection_id: int
    campaign_code: str
    establishment: str
    tax_code: str
    scheduled_on: date
    status: str
    acts: list[Act]
    needed_title: str | None
    held_title: str | None  # the logged-in official's competence, when it reaches the file
    refusal: str  # why this person cannot issue ("" when they can)
    referral_needed: bool
    decided: bool
    decided_on: date
    referral_reason: str = ""
    time_bar: str = ""  # why no decision may be issued on ``decided_on`` any more (Art.65 cl.1 c), "" while it may
    documents: list[tuple[str, Document]] = field(default_factory=list)  # (type in Vietnamese, document)


def _choices(catalog: CircumstanceCatalog, kind: Kind, picked: set[str]) -> list[Choice]:
    return [Choice(c.code, catalog.citation_vi(c.code), c.text_vi, c.code in picked)
            for c in catalog if c.kind is kind and c.selectable and not c.derived]


def violations_of(session: Session, inspection_id: int) -> dict[int, Violation]:
    rows = session.exec(select(Violation).where(Violation.inspection_id == inspection_id).order_by(col(Violation.id)))
    return {v.id: v for v in rows.all() if v.id is not None}


def file_documents(session: Session, inspection_id: int) -> list[tuple[str, Document]]:
    """The file's issued documents (record, proposal, decision…), newest revision last."""
    docs = session.exec(select(Document).where(Document.inspection_id == inspection_id)
                        .order_by(col(Document.doc_type), col(Document.revision))).all()
    return [(DOC_TYPE_VI.get(DocumentType(d.doc_type), str(d.doc_type)), d) for d in docs]


def _competence(session: Session, person: Person, inspection: Inspection, on: date) -> tuple[str | None, str, bool]:
    """(the title the person decides as, why they cannot issue, whether a referral reason is needed)."""
    if person.role != PersonRole.OFFICIAL:
        return None, "Chỉ người có thẩm quyền xử phạt mới được quyết định mức phạt; tài khoản này chỉ được xem.", False
    try:
        authority = ensure_competent(session, person, inspection, on=on)
    except Forbidden as exc:
        return None, exc.message, False
    held = authority.competence.signer.title if authority.competence else None
    return held, "", held is not None and held != authority.needed.title


def decision_page(session: Session, person: Person, inspection_id: int, *, on: date,
                  picked: dict[int, tuple[list[str], list[str]]] | None = None,
                  amounts: dict[int, str] | None = None, reasons: dict[int, str] | None = None) -> DecisionPage:
    """The screen for one file on ``on`` (the decision's date), with what the form sent when it is shown again."""
    inspection = find_inspection(session, inspection_id)
    establishment = session.get(Establishment, inspection.establishment_id)
    campaign = session.get(Campaign, inspection.campaign_id)
    assert establishment is not None and campaign is not None
    violations = violations_of(session, inspection_id)
    decided = bool(violations) and all(v.final_amount is not None for v in violations.values())
    if picked is None:
        picked = {vid: (list(v.mitigating), [a for a in v.aggravating if a not in {d["code"] for d in v.derived}])
                  for vid, v in violations.items()}
    catalog = load_circumstances(on)
    circumstances = {vid: _Picked(*picked.get(vid, ([], []))) for vid in violations}
    _, chosen = circumstance_errors(violations, circumstances=circumstances, reasons={}, amounts={}, on=on)
    table = load_fine_table()
    acts = []
    for (vid, v), line in zip(violations.items(), violations_context(list(violations.values())), strict=True):
        rule = table.get(v.provision_code)
        mitigating, aggravating = picked.get(vid, ([], []))
        proposal = chosen[vid][2]
        shown = (amounts or {}).get(vid) or str(v.final_amount if v.final_amount is not None else proposal)
        acts.append(Act(
            id=vid, act_vi=line["description"], provision_vi=line["provision_vi"],
            provision_text_vi=rule.description_vi or rule.clause_lead_vi,
            decree_vi=line["decree_vi"], range_min=v.range_min, range_max=v.range_max, record_proposal=v.proposed_amount,
            working=list(v.reasoning), derived=list(v.derived),
            mitigating=_choices(catalog, Kind.MITIGATING, set(mitigating)),
            aggravating=_choices(catalog, Kind.AGGRAVATING, set(aggravating)),
            proposal=proposal, amount=shown, reason=(reasons or {}).get(vid, v.amount_reason),
            final_amount=v.final_amount, decided_reason=v.amount_reason))
    held, refusal, referral = _competence(session, person, inspection, on)
    if not decided and inspection.status != InspectionStatus.RECORDS_ISSUED:
        refusal = refusal or "Hồ sơ chưa có biên bản vi phạm hành chính để quyết định xử phạt."
    first = next(iter(violations.values()), None)
    return DecisionPage(
        inspection_id=inspection_id, campaign_code=campaign.code, establishment=establishment.name,
        tax_code=establishment.tax_code, scheduled_on=inspection.scheduled_on, status=str(inspection.status), acts=acts,
        needed_title=required_signer(session, inspection, on=on), held_title=held, refusal=refusal,
        referral_needed=referral, decided=decided,
        decided_on=first.decided_on if decided and first and first.decided_on else on,
        time_bar="" if decided else time_bar(session, inspection, on) or "",
        documents=file_documents(session, inspection_id))


@dataclass(frozen=True)
class _Picked:
    mitigating: list[str]
    aggravating: list[str]


# --------------------------------------------------------------------------- the form → the API's body


def picked_from(fields: dict[str, str], violation_ids: list[int]) -> dict[int, tuple[list[str], list[str]]]:
    """The circumstances ticked per act (checkbox names ``giam_nhe.<id>.<code>`` / ``tang_nang.<id>.<code>``)."""
    out: dict[int, tuple[list[str], list[str]]] = {vid: ([], []) for vid in violation_ids}
    for name in fields:
        kind, _, rest = name.partition(".")
        vid_text, _, code = rest.partition(".")
        if kind in (MITIGATING, AGGRAVATING) and vid_text.isdigit() and int(vid_text) in out and code:
            out[int(vid_text)][0 if kind == MITIGATING else 1].append(code)
    return out


def parse_amount(text: str) -> int | None:
    """"1.500.000", "1 500 000" or "1500000" → 1500000; None when it is not a whole number of đồng."""
    digits = re.sub(r"[\s.,]", "", text.removesuffix("đồng").strip())
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


def decision_body(fields: dict[str, str], violation_ids: list[int]) -> tuple[DecisionIn | None, list[str]]:
    """The body the API would take for what the form sent, or the Vietnamese errors of the form itself."""
    errors: list[str] = []
    amounts: dict[int, int] = {}
    for vid in violation_ids:
        amount = parse_amount(fields.get(f"{AMOUNT}.{vid}", ""))
        if amount is None:
            errors.append(f"amounts.{vid}: mức phạt phải là số tiền (đồng), ví dụ 1.500.000")
        else:
            amounts[vid] = amount
    try:
        decided_on = date.fromisoformat(fields.get(DECIDED_ON, ""))
    except ValueError:
        errors.append("decided_on: ngày quyết định không hợp lệ")
        decided_on = None
    if errors or decided_on is None:
        return None, errors
    picked = picked_from(fields, violation_ids)
    raw = {"decided_on": decided_on, "amounts": amounts,
           "circumstances": {vid: {"mitigating": m, "aggravating": a} for vid, (m, a) in picked.items() if m or a},
           "reasons": {vid: fields[f"{REASON}.{vid}"] for vid in violation_ids if fields.get(f"{REASON}.{vid}", "").strip()},
           "referral_reason": fields.get(REFERRAL, "")}
    try:
        return DecisionIn.model_validate(raw), []
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
