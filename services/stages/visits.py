"""When a visit happens within its day: shared by the notices, the plans and the minutes."""
from __future__ import annotations

from sqlmodel import Session, col, select

from models import Inspection
from services.rules.procedure import Procedure


def visit_time(session: Session, inspection: Inspection, procedure: Procedure) -> str:
    """The visit's start time ("08:00", "14:00"): its place among the team's visits that day."""
    same_day = list(session.exec(select(Inspection.id).where(Inspection.team_id == inspection.team_id,
                                                             Inspection.scheduled_on == inspection.scheduled_on)
                                 .order_by(col(Inspection.id))).all())
    slot = same_day.index(inspection.id) if inspection.id in same_day else 0
    return str(procedure.visit_times_vi[min(slot, len(procedure.visit_times_vi) - 1)])
