"""Whether a file's sanction decision may still be issued on a date: the pure rule
(:func:`services.rules.deadline_rules.decision_time_bar`, Luật XLVPHC Art.65 cl.1 c) over the file's stored limits.

The limits are the file's ``sanction_decision`` and ``limitation`` Deadline rows (as moved by an explanation, a complex
case or the one extension: :mod:`services.stages.deadline_changes`). Where the sweep has not created a row yet, it is
computed as the sweep would create it (the decision's period from the violation record, the limitation from the visit):
a missing row never lets a late decision through. Read only: nothing here writes.

Every path that issues a decision asks this: the API and the console (``record_decision``, before anything is stored),
the ``decide-sanctions`` stage (before a number is taken), and the console's inbox and deadlines board.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from models import Deadline, DeadlineKind, DocumentType, Inspection, Violation
from services.documents.issuing import latest_document
from services.rules.deadline_rules import TIME_BAR_KINDS, decision_time_bar, due_date, procedure_for_period

__all__ = ["decision_limits", "time_bar", "time_bar_of_file"]


def _computed(kind: DeadlineKind, inspection: Inspection, starts_on: date) -> Deadline:
    """The row the sweep would create (never added to the session)."""
    due, basis = due_date(kind, starts_on, procedure_for_period(starts_on))
    return Deadline(kind=kind, subject_key=f"inspection:{inspection.id}", campaign_id=inspection.campaign_id,
                    inspection_id=inspection.id or 0, starts_on=starts_on, due_on=due, basis_vi=basis)


def decision_limits(session: Session, inspection: Inspection) -> list[Deadline]:
    """The file's decision period and limitation: the stored rows, or what the sweep would store."""
    key = f"inspection:{inspection.id}"
    stored = {DeadlineKind(d.kind): d for d in session.exec(
        select(Deadline).where(Deadline.subject_key == key, col(Deadline.kind).in_([str(k) for k in TIME_BAR_KINDS]))).all()}
    if DeadlineKind.LIMITATION not in stored:
        stored[DeadlineKind.LIMITATION] = _computed(DeadlineKind.LIMITATION, inspection, inspection.scheduled_on)
    if DeadlineKind.SANCTION_DECISION not in stored:
        record = latest_document(session, doc_type=DocumentType.VIOLATION_RECORD, subject_key=key)
        if record is not None and record.issued_on is not None:
            stored[DeadlineKind.SANCTION_DECISION] = _computed(DeadlineKind.SANCTION_DECISION, inspection, record.issued_on)
    return [stored[k] for k in TIME_BAR_KINDS if k in stored]


def time_bar(session: Session, inspection: Inspection, decided_on: date) -> str | None:
    """Why no sanction decision may be issued for the file on ``decided_on`` (Vietnamese), or None."""
    return decision_time_bar(decided_on, decision_limits(session, inspection))


def time_bar_of_file(session: Session, inspection: Inspection, today: date) -> str | None:
    """Whether the file can still get its decision: judged on the decision date already chosen when every act has
    its amount (the stage issues it with that date), else on ``today``."""
    acts = session.exec(select(Violation).where(Violation.inspection_id == inspection.id)).all()
    dates = {v.decided_on for v in acts}
    decided = bool(acts) and all(v.final_amount is not None for v in acts) and len(dates) == 1
    chosen = next(iter(dates)) if decided else None
    return time_bar(session, inspection, chosen or today)
