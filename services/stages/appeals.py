"""Complaints and lawsuits against a sanction decision: only final decisions are public (DOMAIN.md 2.9).

Lodged before publication, the appeal holds it (publishing waits); lodged after, the entry leaves the register
and the portal is told (withdraw). Upheld, the decision is published (again: the portal gets it as a new
revision of the publication); annulled, it is never published and its file closes.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from models import Appeal, AppealKind, AppealOutcome, Document, DocumentType
from services import audit
from services.rules.calendar import today_in_vietnam
from services.db import session_scope
from services.errors import Conflict, Refused, NotFound
from services.publishing.register import write_register
from services.settings import Settings
from models.base import id_of
from services.stages.publishing import current_publication, decision_in_force, restore, withdraw
from services.stages import national_report
from services.documents.issuing import latest_document

KINDS_VI = {kind: kind.label_vi for kind in AppealKind}  # the stored kind as people read it
WITHDRAWN_VI = "Quyết định đang bị {kind}; chưa công khai cho đến khi giải quyết xong"  # public: no file number


def _errors(*, kind: str | None = None, reference: str, reference_field: str, reference_vi: str, day: date,
            day_field: str, not_before: date | None) -> list[str]:
    errors = []
    if kind is not None and AppealKind.parse(kind) is None:  # the English value, or the former Vietnamese code
        errors.append("kind: phải là " + " hoặc ".join(f"{k} ({v})" for k, v in KINDS_VI.items()))
    if not reference.strip():
        errors.append(f"{reference_field}: phải ghi {reference_vi}")
    elif len(reference.strip()) > 128:
        errors.append(f"{reference_field}: quá dài (tối đa 128 ký tự)")
    if day > today_in_vietnam():
        errors.append(f"{day_field}: ngày {day:%d/%m/%Y} chưa đến")
    if not_before is not None and day < not_before:
        errors.append(f"{day_field}: ngày {day:%d/%m/%Y} trước ngày {not_before:%d/%m/%Y}")
    return errors


def lodge_appeal(settings: Settings, decision_number: str, *, kind: str, reference: str, lodged_on: date, actor: str,
                 issuer: str | None = None) -> Appeal:
    """Record a complaint or lawsuit (by its file reference, never a person's name) against the decision in force:
    until it is resolved the decision is not published, or leaves the register if it was."""
    with session_scope(settings) as session:
        decision = decision_in_force(session, decision_number, issuer)
        assert decision.inspection_id is not None
        errors = _errors(kind=kind, reference=reference, reference_field="reference", reference_vi="số đơn hoặc số thụ lý",
                         day=lodged_on, day_field="lodged_on", not_before=decision.issued_on)
        if errors:
            raise Refused("Thông tin khiếu nại, khởi kiện không hợp lệ.", errors=errors)
        appeal_kind = AppealKind.parse(kind)
        assert appeal_kind is not None  # checked by _errors
        existing = session.exec(select(Appeal).where(Appeal.inspection_id == decision.inspection_id,
                                                     Appeal.outcome == AppealOutcome.OPEN)).first()
        if existing is not None:
            if (existing.document_id, existing.kind, existing.reference, existing.lodged_on) == (
                    decision.id, appeal_kind, reference.strip(), lodged_on):
                return existing  # the same record sent again
            raise Conflict(f"Quyết định {decision_number} đang có {KINDS_VI[existing.kind]} số {existing.reference} "
                           "chưa giải quyết xong.", decision=decision_number)
        if session.exec(select(Appeal.id).where(Appeal.document_id == decision.id)).first() is not None:
            raise Conflict(f"Khiếu nại, khởi kiện đối với quyết định {decision_number} đã được giải quyết.", decision=decision_number)
        appeal = Appeal(document_id=id_of(decision), inspection_id=decision.inspection_id, kind=appeal_kind,
                        reference=reference.strip(), lodged_on=lodged_on, recorded_by=actor)
        session.add(appeal)
        session.flush()
        audit.record(session, actor=actor, action="appeal_lodged", entity=appeal,
                     reason=f"{KINDS_VI[appeal_kind].capitalize()} số {appeal.reference} đối với quyết định {decision_number}")
        published = current_publication(session, decision.inspection_id)
        if published is not None and published.withdrawn_at is None:
            withdraw(session, published, reason=WITHDRAWN_VI.format(kind=KINDS_VI[appeal_kind]), actor=actor)
    write_register(settings)
    return appeal


def resolve_appeal(settings: Settings, decision_number: str, *, upheld: bool, resolved_on: date, resolution_ref: str,
                   actor: str, issuer: str | None = None) -> Appeal:
    """The outcome of the complaint or lawsuit against a decision (named by the number it was lodged against, or
    by the number that corrected it meanwhile): upheld, the decision in force is published (again); annulled, it
    never is and its file closes at the next publishing run."""
    with session_scope(settings) as session:
        query = select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION, Document.number == decision_number)
        if issuer:
            query = query.where(Document.issuer_code == issuer)
        inspections = {d.inspection_id for d in session.exec(query).all()}
        appeals = session.exec(select(Appeal).where(col(Appeal.inspection_id).in_(inspections))
                               .order_by(col(Appeal.id))).all() if inspections else []
        if not appeals:
            raise NotFound(f"Quyết định {decision_number} không có khiếu nại, khởi kiện nào.", decision=decision_number)
        if len({a.inspection_id for a in appeals}) > 1:
            raise Conflict(f"Số {decision_number} có ở nhiều cơ quan ban hành; hãy ghi rõ cơ quan ban hành.",
                           decision=decision_number)
        appeal = next((a for a in appeals if a.outcome == AppealOutcome.OPEN), appeals[-1])
        outcome = AppealOutcome.UPHELD if upheld else AppealOutcome.ANNULLED
        if appeal.outcome != AppealOutcome.OPEN:
            if appeal.outcome == outcome and appeal.resolution_ref == resolution_ref.strip():
                return appeal
            raise Conflict(f"Khiếu nại, khởi kiện đối với quyết định {decision_number} đã được giải quyết.",
                           decision=decision_number)
        errors = _errors(reference=resolution_ref, reference_field="resolution_ref",
                         reference_vi="số quyết định giải quyết hoặc bản án", day=resolved_on,
                         day_field="resolved_on", not_before=appeal.lodged_on)
        if errors:
            raise Refused("Kết quả giải quyết không hợp lệ.", errors=errors)
        audit.record(session, actor=actor, action="appeal_resolved", entity=appeal, reason=resolution_ref.strip(),
                     from_state=str(appeal.outcome), to_state=str(outcome))
        appeal.outcome, appeal.resolved_on, appeal.resolution_ref = outcome, resolved_on, resolution_ref.strip()
        session.add(appeal)
        annulled = None if upheld else latest_document(session, doc_type=DocumentType.SANCTION_DECISION,
                                                       subject_key=f"inspection:{appeal.inspection_id}")
        if annulled is not None:  # the national database hears of it (services/stages/national_report.py)
            national_report.decision_annulled(session, annulled, reason=resolution_ref.strip())
        published = current_publication(session, appeal.inspection_id)
        withdrawn_by_it = WITHDRAWN_VI.format(kind=KINDS_VI[appeal.kind])
        if upheld and published is not None and published.withdrawal_reason == withdrawn_by_it:
            restore(session, published, reason=f"Quyết định được giữ nguyên ({resolution_ref.strip()})", actor=actor)
    write_register(settings)
    return appeal
