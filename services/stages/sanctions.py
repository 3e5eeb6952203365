"""Stage 4: the sanction decision (quyết định xử phạt, MQĐ02) once the competent official set the amounts."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, select

from models import Agency, Campaign, DocumentType, Establishment, Inspection, InspectionStatus, Person, Violation
from services import audit
from services.db import session_scope
from services.intake.logic import is_organisation
from services.issuing import find_document, issue_document
from services.rules.procedure import competent_signer, procedure_for
from services.settings import Settings
from services.stages.common import SYSTEM_ACTOR, StageResult, per_inspection
from services.stages.records import campaign_context, province_committee, establishment_context, team_context, violations_context

STAGE = "decide-sanctions"


def decision_issuer(session: Session, campaign: Campaign, issuer_suffix: str) -> dict[str, str]:
    """The body in whose name the decision is issued: the provincial People's Committee or the Sở's inspectorate."""
    agency = session.get(Agency, campaign.lead_agency_id)
    assert agency is not None
    if issuer_suffix == "UBND":
        return province_committee(session, campaign)
    return {"parent_name": agency.name, "name": "THANH TRA SỞ", "code": f"{agency.code}-{issuer_suffix}",
            "place": agency.place}


def ready_inspection_ids(settings: Settings, campaign_id: int) -> list[int]:
    """Inspections with a violation record whose every act has a final amount set by an official."""
    with session_scope(settings) as session:
        rows = session.exec(select(Inspection.id, Violation.final_amount)
                            .join(Violation, Violation.inspection_id == Inspection.id)
                            .where(Inspection.campaign_id == campaign_id,
                                   Inspection.status == InspectionStatus.RECORDS_ISSUED)).all()
    waiting = {i for i, amount in rows if amount is None}
    return sorted({i for i, _ in rows} - waiting)


def decide_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR) -> str:
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None or inspection.status != InspectionStatus.RECORDS_ISSUED:
            return "already"
        violations = session.exec(select(Violation).where(Violation.inspection_id == inspection_id).order_by(Violation.id)).all()
        if not violations or any(v.final_amount is None for v in violations):
            return "waiting"
        campaign = session.get(Campaign, inspection.campaign_id)
        establishment = session.get(Establishment, inspection.establishment_id)
        official = session.get(Person, violations[0].decided_by_id)
        assert campaign is not None and establishment is not None and official is not None
        procedure = procedure_for(inspection.scheduled_on)
        signer = competent_signer([v.range_max for v in violations], organisation=is_organisation(establishment),
                                  procedure=procedure)
        issuer = decision_issuer(session, campaign, signer.issuer_suffix)
        record = find_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=f"inspection:{inspection_id}")
        decided_on: date = violations[0].decided_on or inspection.scheduled_on
        context = {"issuer": issuer, "issued_on": decided_on, "campaign": campaign_context(session, campaign),
                   "establishment": establishment_context(establishment),
                   "team": team_context(session, inspection.team_id),
                   "violations": violations_context(violations, "final_amount"),
                   "total_amount": sum(v.final_amount or 0 for v in violations),
                   "signer": {"full_name": official.full_name, "title": official.title},
                   "violation_record_ref": f"Biên bản vi phạm hành chính số {record.number if record else ''}",
                   "comply_days": procedure.comply_days, "effective_on": decided_on,
                   "payment_account": "Kho bạc Nhà nước " + issuer["place"]}
        doc = issue_document(session, settings, doc_type=DocumentType.SANCTION_DECISION,
                             subject_key=f"inspection:{inspection_id}", issuer_code=issuer["code"],
                             symbol=procedure.symbol("sanction_decision"), year=decided_on.year, campaign_id=campaign.id,
                             inspection_id=inspection_id, template="quyet_dinh_xu_phat",
                             build_context=lambda number: {**context, "number": number}, actor=official.code)
        audit.transition(session, inspection, InspectionStatus.SANCTIONED, actor=actor,
                         reason=f"Quyết định xử phạt {doc.number} do {official.title} ký")
        return "issued"


def decide_sanctions(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                     actor: str = SYSTEM_ACTOR) -> StageResult:
    return per_inspection(STAGE, campaign_code, inspection_ids,
                          lambda i: decide_for_inspection(settings, i, actor=actor) == "issued")
