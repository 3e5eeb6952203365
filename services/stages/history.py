"""An establishment's sanction history as the law counts it: the engine's own decisions (which act, when decided,
when complied with) and the decisions imported with their dates (``PriorSanction``) — never a bare counter.

Repeat offences (tái phạm, Luật XLVPHC Art.10 cl.1 b) are derived from it by :mod:`services.rules.circumstances`.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models import (Deadline, DeadlineKind, DeadlineStatus, DocumentType, Inspection, PriorSanction, Violation)
from services.issuing import latest_document
from services.rules.circumstances import PriorSanction as Prior
from services.rules.decrees import act_key


def sanction_history(session: Session, establishment_id: int, *, excluding_inspection: int | None = None) -> list[Prior]:
    """Every dated sanction of the establishment: the engine's decisions in force, then the imported ones."""
    out: list[Prior] = []
    inspections = session.exec(select(Inspection).where(Inspection.establishment_id == establishment_id)
                               .order_by(Inspection.scheduled_on, Inspection.id)).all()
    for inspection in inspections:
        if inspection.id == excluding_inspection:
            continue
        key = f"inspection:{inspection.id}"
        decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=key)
        if decision is None or decision.issued_on is None:
            continue
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY, Deadline.subject_key == key)).first()
        complied_on = comply.met_on if comply is not None and comply.status == DeadlineStatus.MET else None
        for v in session.exec(select(Violation).where(Violation.inspection_id == inspection.id,
                                                      Violation.final_amount.is_not(None))  # type: ignore[union-attr]
                              .order_by(Violation.id)).all():
            out.append(Prior(act_key=v.act_key or act_key(v.provision_code), decision_ref=decision.number,
                             decided_on=decision.issued_on, complied_on=complied_on, enforcement_expired_on=None,
                             warning_only=False, source="engine"))
    for row in session.exec(select(PriorSanction).where(PriorSanction.establishment_id == establishment_id)
                            .order_by(PriorSanction.decided_on, PriorSanction.id)).all():
        out.append(Prior(act_key=row.act_key, decision_ref=row.decision_ref, decided_on=row.decided_on,
                         complied_on=row.complied_on, enforcement_expired_on=row.enforcement_expired_on,
                         warning_only=row.warning_only, source="import"))
    return out


def decided_before(history: list[Prior], day: date) -> list[Prior]:
    return [p for p in history if p.decided_on < day]
