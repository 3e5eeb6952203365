"""Complaints and lawsuits against a sanction decision: only final decisions are public (DOMAIN.md 2.9).

Lodged before publication, the appeal holds it (publishing waits); lodged after, the entry leaves the register
and the portal is told (withdraw). Upheld, the decision is published (again: the portal gets it as a new
revision of the publication); annulled, it is never published and its file closes.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models import Appeal, AppealOutcome, Document, DocumentType, PortalEvent, PortalMessage, Publication
from models.base import utcnow
from services import audit, portal
from services.db import session_scope
from services.errors import Conflict, IntakeError, NotFound
from services.settings import Settings

KINDS_VI = {"khieu_nai": "khiếu nại", "khoi_kien": "khởi kiện"}


def _decision(session: Session, number: str) -> Document:
    doc = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION, Document.number == number)
                       .order_by(Document.revision.desc())).first()  # type: ignore[attr-defined]
    if doc is None:
        raise NotFound(f"Không có quyết định xử phạt số {number}.", decision=number)
    return doc


def lodge_appeal(settings: Settings, decision_number: str, *, kind: str, reference: str, lodged_on: date, actor: str) -> Appeal:
    """Record a complaint or lawsuit (by its file reference, never a person's name) against a decision."""
    errors = []
    if kind not in KINDS_VI:
        errors.append(f"kind: phải là một trong {', '.join(KINDS_VI)}")
    if not reference.strip():
        errors.append("reference: phải ghi số đơn hoặc số thụ lý")
    if errors:
        raise IntakeError("Thông tin khiếu nại, khởi kiện không hợp lệ.", errors=errors)
    with session_scope(settings) as session:
        decision = _decision(session, decision_number)
        existing = session.exec(select(Appeal).where(Appeal.document_id == decision.id)).first()
        if existing is not None:
            if (existing.kind, existing.reference, existing.lodged_on) == (kind, reference.strip(), lodged_on):
                return existing  # the same record sent again
            raise Conflict(f"Quyết định {decision_number} đã có {KINDS_VI[existing.kind]} số {existing.reference}.",
                           decision=decision_number)
        if decision.issued_on is not None and lodged_on < decision.issued_on:
            raise IntakeError("Ngày không hợp lệ.", errors=[f"lodged_on: ngày {lodged_on:%d/%m/%Y} trước ngày quyết định"])
        assert decision.inspection_id is not None
        appeal = Appeal(document_id=decision.id, inspection_id=decision.inspection_id, kind=kind, reference=reference.strip(),
                        lodged_on=lodged_on, recorded_by=actor)
        session.add(appeal)
        session.flush()
        audit.record(session, actor=actor, action="appeal_lodged", entity=appeal,
                     reason=f"{KINDS_VI[kind].capitalize()} số {appeal.reference} đối với quyết định {decision_number}")
        published = _current(session, decision)
        if published is not None:
            published.withdrawn_at = utcnow()
            published.withdrawal_reason = f"Đang giải quyết {KINDS_VI[kind]} số {appeal.reference}"
            session.add(published)
            audit.record(session, actor=actor, action="publication_withdrawn", entity=published,
                         reason=published.withdrawal_reason, data={"decision": decision_number})
            portal.enqueue(session, published, PortalEvent.WITHDRAW,
                           {"so_quyet_dinh": decision_number, "ly_do": published.withdrawal_reason}, not_before=utcnow(),
                           revision=_next_revision(session, published))
        return appeal


def resolve_appeal(settings: Settings, decision_number: str, *, upheld: bool, resolved_on: date, resolution_ref: str,
                   actor: str) -> Appeal:
    if not resolution_ref.strip():
        raise IntakeError("Thiếu căn cứ.", errors=["resolution_ref: phải ghi số quyết định giải quyết hoặc bản án"])
    with session_scope(settings) as session:
        decision = _decision(session, decision_number)
        appeal = session.exec(select(Appeal).where(Appeal.document_id == decision.id)).first()
        if appeal is None:
            raise NotFound(f"Quyết định {decision_number} không có khiếu nại, khởi kiện nào.", decision=decision_number)
        outcome = AppealOutcome.UPHELD if upheld else AppealOutcome.ANNULLED
        if appeal.outcome != AppealOutcome.OPEN:
            if appeal.outcome == outcome and appeal.resolution_ref == resolution_ref.strip():
                return appeal
            raise Conflict(f"Khiếu nại, khởi kiện đối với quyết định {decision_number} đã được giải quyết.",
                           decision=decision_number)
        if resolved_on < appeal.lodged_on:
            raise IntakeError("Ngày không hợp lệ.", errors=[f"resolved_on: ngày {resolved_on:%d/%m/%Y} trước ngày thụ lý"])
        audit.record(session, actor=actor, action="appeal_resolved", entity=appeal, reason=resolution_ref.strip(),
                     from_state=str(appeal.outcome), to_state=str(outcome))
        appeal.outcome, appeal.resolved_on, appeal.resolution_ref = outcome, resolved_on, resolution_ref.strip()
        session.add(appeal)
        withdrawn = session.exec(select(Publication).where(Publication.document_id == decision.id,
                                                           Publication.superseded_by_id.is_(None))).first()  # type: ignore[union-attr]
        if upheld and withdrawn is not None and withdrawn.withdrawn_at is not None:
            withdrawn.withdrawn_at, withdrawn.withdrawal_reason = None, ""
            session.add(withdrawn)
            audit.record(session, actor=actor, action="publication_restored", entity=withdrawn,
                         reason=f"Quyết định {decision_number} được giữ nguyên ({resolution_ref.strip()})")
            portal.enqueue(session, withdrawn, PortalEvent.PUBLISH, withdrawn.payload, not_before=utcnow(),
                           revision=_next_revision(session, withdrawn))
        return appeal


def _current(session: Session, decision: Document) -> Publication | None:
    return session.exec(select(Publication).where(Publication.document_id == decision.id, Publication.withdrawn_at.is_(None),
                                                  Publication.superseded_by_id.is_(None))).first()  # type: ignore[union-attr]


def _next_revision(session: Session, publication: Publication) -> int:
    return len(session.exec(select(PortalMessage.id).where(PortalMessage.publication_id == publication.id)).all()) + 1
