"""Stage 4: the sanction decision (quyết định xử phạt, MQĐ02) once the competent official set the amounts.

No decision is issued after its time limit or the limitation (Luật XLVPHC Art.65 cl.1 c,
:mod:`services.stages.decision_time_bar`): the step refuses, the stage records the reason (``stage_failed``) and
nothing else is written (no number is taken)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from datetime import date

from sqlmodel import Session, col, select

from models import (Agency, Campaign, Document, DocumentType, Establishment, Inspection, InspectionStatus, Person, PersonRole,
                    SigningRequest, Violation)
from services import audit
from services.db import session_scope
from services.delivery import document_delivery
from services.errors import Conflict, Forbidden, Refused, NotFound
from services.rules.competence import amount_errors, ensure_competent
from services.documents.issuing import find_document, issue_document, latest_document
from services.documents.signed_issuing import Draft, request_signature, signing_enabled
from services.registry.geo import province_area
from services.rules.decrees import decree_of
from services.rules.deadline_rules import no_record_refusal
from services.rules.offices import offices_for
from services.rules.procedure import procedure_for
from services.rules.sanctions import decision_authority, issuing_body
from services.publishing.register import write_register
from services.settings import Settings
from models.base import id_of, stored_id
from services.stages.common import SYSTEM_ACTOR, Outcome, StageResult, per_inspection
from services.stages.decision_time_bar import time_bar
from services.stages import national_report
from services.stages.publishing import amend_for_correction
from services.stages.records import campaign_context, establishment_context, team_context, violations_context

STAGE = "decide-sanctions"
REFORM_2025 = date(2025, 7, 1)  # Luật 88/2025/QH15 and NĐ 189/2025/NĐ-CP in force: cited from this day


def ready_inspection_ids(settings: Settings, campaign_id: int) -> list[int]:
    """Inspections with a violation record whose every act has a final amount set by an official."""
    with session_scope(settings) as session:
        rows = session.exec(select(Inspection.id, Violation.final_amount)
                            .join(Violation, col(Violation.inspection_id) == Inspection.id)
                            .where(Inspection.campaign_id == campaign_id,
                                   Inspection.status == InspectionStatus.RECORDS_ISSUED)).all()
    waiting = {stored_id(i) for i, amount in rows if amount is None}
    return sorted({stored_id(i) for i, _ in rows} - waiting)


def decide_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR,
                          redraft: bool = False) -> Outcome:
    """Issue the file's decision; where decisions are signed digitally, draft it for its official's signature (and
    wait: ``Outcome.WAITING``) until the signed decision is issued. ``redraft``: draw a refused draft again."""
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id, with_for_update=True)  # concurrent runs: one at a time
        if inspection is None or inspection.status != InspectionStatus.RECORDS_ISSUED:
            return Outcome.ALREADY
        violations = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                                  .order_by(col(Violation.id))).all()
        if not violations or any(v.final_amount is None for v in violations):
            return Outcome.WAITING
        official = session.get(Person, violations[0].decided_by_id)
        assert official is not None
        decided_on: date = violations[0].decided_on or inspection.scheduled_on
        barred = time_bar(session, inspection, decided_on)  # Luật XLVPHC Art.65 cl.1 c: never a void decision
        if barred:
            raise Conflict(barred, inspection_id=inspection_id)
        doc = _issue_decision(session, settings, inspection, violations, official, decided_on, redraft=redraft)
        if isinstance(doc, SigningRequest):  # NĐ 30 with digital signatures: issued once signed (signed_documents)
            return Outcome.WAITING
        document_delivery.enqueue_document(session, settings, doc)  # e-mailed to the violator (Art.70 cl.2 c)
        national_report.decision_issued(session, settings, doc)  # NĐ 20/2016: queued for the national database
        audit.transition(session, inspection, InspectionStatus.SANCTIONED, actor=actor,
                         reason=f"Quyết định xử phạt {doc.number} do {official.title} ký")
        return Outcome.ISSUED


def _issue_decision(session: Session, settings: Settings, inspection: Inspection, violations: Sequence[Violation],
                    official: Person, decided_on: date, *, replaces: Document | None = None, reason: str = "",
                    redraft: bool = False) -> Document | SigningRequest:
    """Issue the decision (revision 1), or the correction that replaces ``replaces`` (the next revision).

    The competence, the issuing body, its number series and the signature are those of the official who decides,
    under the procedure in force on the day the decision is issued; every act cites the decree applied to it.
    """
    campaign = session.get(Campaign, inspection.campaign_id)
    establishment = session.get(Establishment, inspection.establishment_id)
    agency = session.get(Agency, campaign.lead_agency_id) if campaign else None
    assert campaign is not None and establishment is not None and agency is not None
    procedure = procedure_for(decided_on)
    organisation = establishment.is_organisation
    authority = decision_authority([v.range_max for v in violations], organisation=organisation, decided_on=decided_on,
                                   procedure=procedure, person_title=official.title)
    assert authority.competence is not None
    issuer = issuing_body(authority.signer, area_vi=province_area(agency.province_code),
                          labour_department_vi=procedure.labour_department_vi, department_code=agency.code,
                          province_code=agency.province_code, place=agency.place, department_parent_vi=agency.parent_name)
    record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=f"inspection:{inspection.id}")
    if record is None:
        refusal = no_record_refusal([v.final_amount or 0 for v in violations], organisation, procedure)
        if refusal:
            raise Conflict(refusal, inspection_id=inspection.id)
    offices = offices_for(agency.province_code)
    acts = violations_context(violations, "final_amount")
    context = {"issuer": issuer, "issued_on": decided_on, "campaign": campaign_context(session, campaign),
               "establishment": establishment_context(establishment),
               "team": team_context(session, inspection.team_id),
               "violations": acts, "total_amount": sum(v.final_amount or 0 for v in violations),
               "decider_vi": issuer["decider_vi"],
               "bases": decision_bases(violations, decided_on, record),
               "aggravating_vi": _circumstances_by_act(acts, "aggravating_vi"),
               "mitigating_vi": _circumstances_by_act(acts, "mitigating_vi"),
               "has_remedies": any(a["remedial_vi"] for a in acts), "remedial_days": procedure.remedial_days_default,
               "payment": {k: getattr(offices, k) for k in ("treasury_vi", "treasury_address_vi", "account", "bank_vi",
                                                            "online_vi")},
               "comply_days": procedure.comply_days,
               "executor_vi": f"{procedure.labour_department_vi} {province_area(agency.province_code)}",
               "drafting_unit": offices.drafting_unit(authority.signer.issuer) or agency.code,
               "signer": {"full_name": official.full_name,
                          "title": (authority.signer.deputy_signature_vi if authority.competence.deputy
                                    else authority.signer.signature_vi),
                          **({"for_title": authority.signer.signature_vi} if authority.competence.deputy else {})}}
    if replaces is not None:
        context["replaces"] = {"number": replaces.number, "issued_on": replaces.issued_on, "reason": reason}
    if signing_enabled(settings, DocumentType.SANCTION_DECISION):
        return _draft_decision(session, settings, inspection, official, context, replaces, redraft=redraft)
    return issue_document(session, settings, doc_type=DocumentType.SANCTION_DECISION,
                          subject_key=f"inspection:{inspection.id}", issuer_code=issuer["code"],
                          symbol=procedure.symbol("sanction_decision"), year=decided_on.year, campaign_id=id_of(campaign),
                          inspection_id=inspection.id, template="quyet_dinh_xu_phat",
                          revision=replaces.revision + 1 if replaces else 1,
                          supersedes_id=replaces.id if replaces else None,
                          build_context=lambda number: {**context, "number": number}, actor=official.code)


def _draft_decision(session: Session, settings: Settings, inspection: Inspection, official: Person,
                    context: Mapping[str, Any], replaces: Document | None, *, redraft: bool) -> Document | SigningRequest:
    """The decision issued through the signing sequence, or its draft put to the official (NĐ 30/2020 Art.13–18)."""
    revision = replaces.revision + 1 if replaces else 1
    subject = f"inspection:{inspection.id}"
    issued = find_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=subject, revision=revision)
    if issued is not None:
        return issued
    issuer, signer = context["issuer"], context["signer"]
    draft = Draft(doc_type=DocumentType.SANCTION_DECISION, subject_key=subject, revision=revision,
                  supersedes_id=replaces.id if replaces else None, campaign_id=inspection.campaign_id,
                  inspection_id=inspection.id, issuer_code=issuer["code"], issuer_name=issuer["name"],
                  place=issuer["place"], symbol=procedure_for(context["issued_on"]).symbol("sanction_decision"),
                  template="quyet_dinh_xu_phat", drafted_on=context["issued_on"],
                  title=f"Quyết định xử phạt{' (thay thế)' if replaces else ''} — {context['establishment']['name']}",
                  signer_code=official.code, signer_name=official.full_name, signer_title=str(signer["title"]).upper(),
                  context=context, reason=str(context.get("replaces", {}).get("reason", "")))
    return request_signature(session, settings, draft, actor=official.code, redraft=redraft)


LAW_ARTICLES_VI = "Căn cứ Điều 57, Điều 68, Điều 70, Điều 78, Điều 85 Luật Xử lý vi phạm hành chính"
ND118_VI = ("Căn cứ Nghị định số 118/2021/NĐ-CP ngày 23 tháng 12 năm 2021 của Chính phủ quy định chi tiết một số điều và "
            "biện pháp thi hành Luật Xử lý vi phạm hành chính, được sửa đổi, bổ sung bởi Nghị định số 68/2025/NĐ-CP")
ND189_VI = ("Căn cứ Nghị định số 189/2025/NĐ-CP ngày 01 tháng 7 năm 2025 của Chính phủ quy định chi tiết Luật Xử lý vi "
            "phạm hành chính về thẩm quyền xử phạt vi phạm hành chính")


def decision_bases(violations: Sequence[Violation], decided_on: date, record: Document | None) -> list[str]:
    """The căn cứ of MQĐ02 in its order: the Law's articles (as amended on the day), the implementing decree, the
    competence decree (from 01/07/2025), each sector decree applied to an act, the violation record with its date.
    The renderer sets italics and the final punctuation."""
    amended = "sửa đổi, bổ sung năm 2020 và năm 2025" if decided_on >= REFORM_2025 else "sửa đổi, bổ sung năm 2020"
    bases = [f"{LAW_ARTICLES_VI} ({amended})", ND118_VI]
    if decided_on >= REFORM_2025:
        bases.append(ND189_VI)
    decrees = {decree_of(v.provision_code).key: decree_of(v.provision_code) for v in violations}
    bases += [f"Căn cứ {d.citation_vi}" for d in sorted(decrees.values(), key=lambda d: d.in_force_from)]
    if record is not None and record.issued_on is not None:
        bases.append(f"Căn cứ Biên bản vi phạm hành chính số {record.number} lập ngày {record.issued_on:%d/%m/%Y}")
    return bases


def _circumstances_by_act(acts: Sequence[dict[str, Any]], key: str) -> str:
    """"không có", or per act: "hành vi thứ 1: tái phạm (…)" (MQĐ02 items 4 and 5)."""
    named = [(i, a[key]) for i, a in enumerate(acts, start=1) if a[key]]
    if not named:
        return "không có"
    if len(acts) == 1:
        return named[0][1]
    return "; ".join(f"hành vi thứ {i}: {text}" for i, text in named)


def correct_decision(settings: Settings, inspection_id: int, *, official_code: str, amounts: Mapping[int, int],
                     corrected_on: date, reason: str) -> Document | SigningRequest:
    """A correction of an issued sanction decision: a new decision that replaces it (the old one stays as issued);
    where decisions are signed digitally, its draft put to the official (issued, and followed up, once signed).

    The competent official sets the corrected amounts (each within its act's range, every act named); the
    proposed amounts and the replaced decision's amounts stay on record (audit). Nothing is written when
    anything is refused.
    """
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id, with_for_update=True)  # two corrections at once: one after the other
        if inspection is None:
            raise NotFound(f"Không tìm thấy cuộc kiểm tra số {inspection_id}.", inspection_id=inspection_id)
        current = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection_id}")
        if current is None:
            raise Conflict(f"Cuộc kiểm tra {inspection_id} chưa có quyết định xử phạt để đính chính.", inspection_id=inspection_id)
        official = session.exec(select(Person).where(Person.code == official_code)).first()
        if official is None or official.role != PersonRole.OFFICIAL:
            raise Forbidden("Chỉ người có thẩm quyền xử phạt mới được ban hành quyết định thay thế.", person_code=official_code)
        ensure_competent(session, official, inspection, on=corrected_on)
        violations = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                                  .order_by(col(Violation.id))).all()
        known = {id_of(v): v for v in violations}
        errors = [f"amounts.{v.id}: thiếu mức phạt cho hành vi {v.id}" for v in violations if v.id not in amounts]
        errors += amount_errors(known, amounts)
        if not reason.strip():
            errors.append("reason: phải ghi lý do đính chính")
        if current.issued_on is not None and corrected_on < current.issued_on:
            errors.append(f"corrected_on: ngày {corrected_on:%d/%m/%Y} trước ngày của quyết định bị thay thế "
                          f"{current.issued_on:%d/%m/%Y}")
        if errors:
            raise Refused("Quyết định thay thế không hợp lệ.", errors=errors)
        before = {str(v.id): v.final_amount for v in violations}
        for v in violations:
            v.final_amount, v.decided_by_id, v.decided_on = amounts[id_of(v)], official.id, corrected_on
            session.add(v)
        doc = _issue_decision(session, settings, inspection, violations, official, corrected_on, replaces=current,
                              reason=reason.strip())
        changes = {"replaces": current.number, "before": before, "after": {str(k): a for k, a in amounts.items()}}
        if isinstance(doc, SigningRequest):  # signed digitally: issued, and its follow-up done, once signed
            audit.record(session, actor=official.code, action="decision_correction_drafted", entity=inspection,
                         reason=reason.strip(), data={**changes, "signing_request": doc.id})
            return doc
        audit.record(session, actor=official.code, action="decision_corrected", entity=inspection, reason=reason.strip(),
                     data={**changes, "by": doc.number})
        after_correction(session, settings, current, doc, reason.strip())
    write_register(settings)  # the public register shows the corrected decision at once
    return doc


def after_correction(session: Session, settings: Settings, replaced: Document, doc: Document, reason: str) -> None:
    """What follows a correction's issue: e-mailed to the violator, the publication and the national feed amended."""
    document_delivery.enqueue_document(session, settings, doc)
    amend_for_correction(session, settings, replaced, doc, reason=reason)


def decide_sanctions(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                     actor: str = SYSTEM_ACTOR) -> StageResult:
    return per_inspection(STAGE, campaign_code, inspection_ids,
                          lambda i: decide_for_inspection(settings, i, actor=actor), settings=settings)
