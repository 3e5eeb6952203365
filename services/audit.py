"""State changes go through :func:`transition`, which checks the state machine and writes the audit event."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from models import AuditEvent, Campaign, Inspection
from models.campaign import CAMPAIGN_TRANSITIONS
from models.inspection import INSPECTION_TRANSITIONS
from services.errors import InvalidTransition


def record(session: Session, *, actor: str, action: str, entity: Any, reason: str = "",
           from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(actor=actor, action=action, entity_type=type(entity).__name__.lower(),
                           entity_id=entity.id, from_state=from_state, to_state=to_state, reason=reason,
                           data=data or {}))


def transition(session: Session, entity: Campaign | Inspection, to: Any, *, actor: str, reason: str) -> None:
    table = CAMPAIGN_TRANSITIONS if isinstance(entity, Campaign) else INSPECTION_TRANSITIONS
    current = type(to)(entity.status)
    if to not in table[current]:
        raise InvalidTransition(
            f"Không thể chuyển {type(entity).__name__} {entity.id} từ trạng thái '{current}' sang '{to}'.",
            entity_id=entity.id, from_state=str(current), to_state=str(to))
    entity.status = to
    session.add(entity)
    record(session, actor=actor, action="status_change", entity=entity, reason=reason,
           from_state=str(current), to_state=str(to))
