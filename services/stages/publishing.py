"""Stage 5: publish final sanction outcomes to the public register (de-identified, never twice).

A publication row is unique per (channel, decision), written in the same transaction as the
inspection's closing, so a re-run never publishes twice. The register's open-data files (JSON, CSV and
a Vietnamese HTML page) are rebuilt from the stored publications after each run.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import (Appeal, AppealOutcome, CampaignStatus, Document, DocumentType, Establishment, Inspection, InspectionStatus,
                    PortalEvent, Publication, Violation)
from models.base import utcnow
from services import audit
from services.delivery import portal
from services.rules.calendar import VIETNAM, today_in_vietnam
from services.db import session_scope
from services.errors import Conflict, Refused, NotFound
from services.publishing.register import WITHHELD_VI, write_register
from services.publishing.deidentify import check_deidentified, protected_strings
from services.documents.issuing import latest_document
from services.documents.acts import violation_line
from services.rules.fines import load_fine_table
from services.rules.procedure import procedure_for
from services.settings import Settings
from models.base import id_of
from services.stages.common import SYSTEM_ACTOR, Outcome, StageResult, get_campaign, per_inspection
from services.stages import national_report

STAGE = "publish-outcomes"


def outcome_payload(decision: Document, establishment: Establishment, violations: Sequence[Violation]) -> dict[str, Any]:
    """What the public sees: no inspector, complainant or victim, and no individual's personal data."""
    table = load_fine_table()
    organisation = establishment.is_organisation
    return {
        "so_quyet_dinh": decision.number, "ngay_quyet_dinh": min(v.decided_on for v in violations if v.decided_on).isoformat(),
        "co_quan_ban_hanh": decision.issuer_code,
        "ten_co_so": establishment.name if organisation else WITHHELD_VI,
        "ma_so_thue": establishment.tax_code if organisation else "",
        "ma_tinh": establishment.province_code, "ma_xa": establishment.commune_code,
        "hanh_vi": [_public_line(violation_line(v, table.get(v.provision_code), amount=v.final_amount)) for v in violations],
        "tong_tien_phat_vnd": sum(v.final_amount or 0 for v in violations),
    }


def _public_line(line: dict[str, Any]) -> dict[str, Any]:
    """The decision's act line in the published shape (the same line the PDF prints)."""
    return {"hanh_vi": line["public_act_vi"], "can_cu": line["provision_vi"], "so_tien_vnd": line["amount"]}


def publish_for_inspection(settings: Settings, inspection_id: int, *, actor: str = SYSTEM_ACTOR,
                           today: date | None = None) -> Outcome:
    """Publish the decision in force once it is final: its publication delay (config) has passed and no complaint
    or lawsuit against the inspection's decision is open. An annulled decision closes the file unpublished.

    Before it is published the decision's stored file is checked (services.documents.verification): its SHA-256 and,
    when it is signed, every signature valid at PAdES B-LT against the configured trust roots. The check is stored
    either way; a file that fails publishes and queues nothing and raises :class:`FileNotVerified` (the stage records
    it on the inspection; a re-run after the fix publishes)."""
    from services.documents.verification import FileNotVerified  # pyHanko loads when a stage publishes, not before

    try:
        return _publish(settings, inspection_id, actor=actor, today=today or today_in_vietnam())
    except FileNotVerified as exc:  # the transaction rolled back: the failed check is stored in one of its own
        with session_scope(settings) as session:
            session.add(exc.row)
        raise


def _publish(settings: Settings, inspection_id: int, *, actor: str, today: date) -> Outcome:
    from services.documents.verification import check_for_publication

    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id, with_for_update=True)  # concurrent runs: one at a time
        if inspection is None or inspection.status != InspectionStatus.SANCTIONED:
            return Outcome.ALREADY
        decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection_id}")
        establishment = session.get(Establishment, inspection.establishment_id)
        assert decision is not None and establishment is not None
        appeals = session.exec(select(Appeal).where(Appeal.inspection_id == inspection_id).order_by(col(Appeal.id))).all()
        annulled = appeals[-1] if appeals and appeals[-1].outcome == AppealOutcome.ANNULLED else None
        if annulled is not None:
            audit.transition(session, inspection, InspectionStatus.CLOSED, actor=actor,
                             reason=f"Quyết định {decision.number} đã bị hủy ({annulled.resolution_ref}): không công khai")
            return Outcome.ANNULLED
        decided_on = decision.issued_on or decision.issued_at.astimezone(VIETNAM).date()
        publication_rules = procedure_for(decided_on).publication
        final_on = decided_on + timedelta(days=int(publication_rules.get("delay_days", 0)))
        if any(a.outcome == AppealOutcome.OPEN for a in appeals) or today < final_on:
            return Outcome.WAITING
        channel = publication_rules["channel"]
        subject = f"decision:{decision.id}"
        exists = session.exec(select(Publication.id).where(Publication.channel == channel,
                                                           Publication.subject_key == subject)).first()
        if exists is None:
            session.add(check_for_publication(settings, decision))  # raises FileNotVerified: nothing published
            payload = _checked_payload(session, decision, establishment)
            publication = Publication(channel=channel, subject_key=subject, document_id=id_of(decision),
                                      campaign_id=inspection.campaign_id, published_at=utcnow(), payload=payload)
            session.add(publication)
            session.flush()
            portal.enqueue(session, publication, PortalEvent.PUBLISH, publication.payload)
        audit.transition(session, inspection, InspectionStatus.CLOSED, actor=actor,
                         reason=f"Công khai kết quả xử phạt {decision.number}")
        return Outcome.PUBLISHED


def _checked_payload(session: Session, decision: Document, establishment: Establishment,
                     **extra: Any) -> dict[str, Any]:
    """The public payload, refused before anything is stored or queued if it would carry a protected name."""
    violations = session.exec(select(Violation).where(Violation.inspection_id == decision.inspection_id)
                              .order_by(col(Violation.id))).all()
    payload = {**outcome_payload(decision, establishment, violations), **extra}
    public = {decision.number: establishment.name} if establishment.is_organisation else {}
    check_deidentified([payload], {}, protected_strings(session, [establishment]), public_names=public)
    return payload


def decision_in_force(session: Session, number: str, issuer: str | None = None) -> Document:
    """The sanction decision people name by its number (and issuer, where two issuers use the same number); a
    decision replaced by a correction is refused with the number that replaced it."""
    query = select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION, Document.number == number)
    if issuer:
        query = query.where(Document.issuer_code == issuer)
    found = session.exec(query.order_by(col(Document.id))).all()
    if not found:
        raise NotFound(f"Không có quyết định xử phạt số {number}" + (f" của {issuer}." if issuer else "."), decision=number)
    issuers = sorted({d.issuer_code for d in found})
    if len(issuers) > 1:
        raise Conflict(f"Số {number} có ở nhiều cơ quan ban hành ({', '.join(issuers)}); hãy ghi rõ cơ quan ban hành.",
                       decision=number, errors=[f"issuer: một trong {', '.join(issuers)}"])
    decision = found[-1]
    latest = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=decision.subject_key)
    if latest is not None and latest.id != decision.id:
        raise Conflict(f"Quyết định {number} đã được thay thế bởi quyết định {latest.number}.", decision=number)
    return decision


def current_publication(session: Session, inspection_id: int) -> Publication | None:
    """The inspection's publication in force (the last of a chain of corrections), withdrawn or not."""
    return session.exec(select(Publication).join(Document, col(Document.id) == Publication.document_id)
                        .where(Document.inspection_id == inspection_id, col(Publication.superseded_by_id).is_(None))
                        .order_by(col(Publication.id).desc())).first()


def withdraw(session: Session, publication: Publication, *, reason: str, actor: str) -> None:
    """Take a publication off the register and tell the portal (the reason is public: no names, no file numbers)."""
    publication.withdrawn_at, publication.withdrawal_reason = utcnow(), reason
    session.add(publication)
    number = publication.payload.get("so_quyet_dinh")
    audit.record(session, actor=actor, action="publication_withdrawn", entity=publication, reason=reason,
                 data={"decision": number})
    portal.enqueue(session, publication, PortalEvent.WITHDRAW, {"so_quyet_dinh": number, "ly_do": reason})


def restore(session: Session, publication: Publication, *, reason: str, actor: str) -> None:
    """Put a withdrawn publication back (a decision upheld after a complaint); the portal gets it again."""
    publication.withdrawn_at, publication.withdrawal_reason = None, ""
    session.add(publication)
    audit.record(session, actor=actor, action="publication_restored", entity=publication, reason=reason)
    portal.enqueue(session, publication, PortalEvent.PUBLISH, publication.payload)


def withdraw_publication(settings: Settings, decision_number: str, *, actor: str, reason: str,
                         issuer: str | None = None) -> None:
    """A decision annulled or withdrawn by the authority leaves the register; the portal is told (once)."""
    if not reason.strip():
        raise Refused("Thiếu lý do.", errors=["reason: phải ghi lý do rút công khai (ví dụ: quyết định bị hủy)"])
    with session_scope(settings) as session:
        decision = decision_in_force(session, decision_number, issuer)
        assert decision.inspection_id is not None
        publication = current_publication(session, decision.inspection_id)
        if publication is None or publication.withdrawn_at is not None:
            raise NotFound(f"Không có kết quả xử phạt đang công khai theo quyết định số {decision_number}.",
                           decision=decision_number)
        withdraw(session, publication, reason=reason.strip(), actor=actor)
    write_register(settings)


def amend_for_correction(session: Session, settings: Settings, replaced: Document, decision: Document, *, reason: str) -> None:
    """A correcting decision replaces a published one: the register shows the new one, the portal gets an update
    (or nothing yet, while the publication is withdrawn pending a complaint: it is restored in its corrected form).

    Nothing to do when the replaced decision was never published (it will be, in its corrected form). The national
    database hears of every correction (services/stages/national_report.py)."""
    national_report.decision_replaced(session, decision, reason=reason)
    old = session.exec(select(Publication).where(Publication.document_id == replaced.id)).first()
    if old is None:
        return
    inspection = session.get(Inspection, decision.inspection_id)
    assert inspection is not None
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    payload = _checked_payload(session, decision, establishment, thay_the_quyet_dinh=replaced.number, ly_do_thay_the=reason)
    new = Publication(channel=old.channel, subject_key=f"decision:{decision.id}", document_id=id_of(decision),
                      campaign_id=old.campaign_id, published_at=utcnow(), payload=payload,
                      withdrawn_at=old.withdrawn_at, withdrawal_reason=old.withdrawal_reason)
    session.add(new)
    session.flush()
    old.superseded_by_id = new.id
    session.add(old)
    audit.record(session, actor=SYSTEM_ACTOR, action="publication_amended", entity=new, reason=reason,
                 data={"replaces": replaced.number, "by": decision.number})
    if new.withdrawn_at is None:
        portal.enqueue(session, new, PortalEvent.AMEND, payload)


def close_campaign_if_done(settings: Settings, campaign_code: str, *, actor: str = SYSTEM_ACTOR) -> bool:
    with session_scope(settings) as session:
        campaign = get_campaign(session, campaign_code)
        if campaign.status != CampaignStatus.FIELDWORK:
            return campaign.status == CampaignStatus.CLOSED
        open_ = session.exec(select(Inspection.id).where(Inspection.campaign_id == campaign.id,
                                                         Inspection.status != InspectionStatus.CLOSED)).first()
        if open_ is not None:
            return False
        audit.transition(session, campaign, CampaignStatus.CLOSED, actor=actor,
                         reason="Mọi cuộc kiểm tra đã kết thúc và kết quả xử phạt đã công khai")
        return True


def publish_outcomes(settings: Settings, campaign_code: str, inspection_ids: Sequence[int], *,
                     actor: str = SYSTEM_ACTOR) -> StageResult:
    result = per_inspection(STAGE, campaign_code, inspection_ids,
                            lambda i: publish_for_inspection(settings, i, actor=actor), settings=settings)
    result.details["register"] = str(write_register(settings))
    result.details["campaign_closed"] = close_campaign_if_done(settings, campaign_code, actor=actor)
    return result  # a closed campaign's report (services.reports.campaign_report) is the flow's next step


__all__ = ["publish_outcomes", "write_register", "close_campaign_if_done"]
