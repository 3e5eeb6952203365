"""State changes go through :func:`transition`, which checks the state machine and writes the audit event."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import AuditEvent, Campaign, Inspection
from models.base import table_of, utcnow
from models.campaign import CAMPAIGN_TRANSITIONS
from models.delivery import DELIVERY_TRANSITIONS, DocumentDelivery
from models.inspection import INSPECTION_TRANSITIONS
from services.errors import InvalidTransition

Stateful = Campaign | Inspection | DocumentDelivery  # the entities whose status moves only through transition()
_TRANSITIONS: dict[type[Any], Any] = {Campaign: CAMPAIGN_TRANSITIONS, Inspection: INSPECTION_TRANSITIONS,
                                      DocumentDelivery: DELIVERY_TRANSITIONS}


def record(session: Session, *, actor: str, action: str, entity: Any, reason: str = "",
           from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(actor=actor, action=action, entity_type=type(entity).__name__.lower(),
                           entity_id=entity.id, from_state=from_state, to_state=to_state, reason=reason,
                           data=data or {}))


def check_transition(kind: type[Stateful], entity_id: int | None, current: Any, to: Any) -> None:
    """Refuse a move the entity's state machine does not allow."""
    table = _TRANSITIONS[kind]
    current = type(to)(current)
    if to not in table[current]:
        raise InvalidTransition(
            f"Không thể chuyển {kind.__name__} {entity_id} từ trạng thái '{current}' sang '{to}'.",
            entity_id=entity_id, from_state=str(current), to_state=str(to))


def event_row(*, actor: str, action: str, entity_type: str, entity_id: int, reason: str = "",
              from_state: str | None = None, to_state: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An audit event as a row, for writers that insert through Core (the intake's hot path)."""
    return {"at": utcnow(), "actor": actor, "action": action, "entity_type": entity_type, "entity_id": entity_id,
            "from_state": from_state, "to_state": to_state, "reason": reason, "data": data or {}}


def insert_events(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(sa.insert(table_of(AuditEvent)), rows)


def transition(session: Session, entity: Stateful, to: Any, *, actor: str, reason: str,
               data: dict[str, Any] | None = None) -> None:
    check_transition(type(entity), entity.id, entity.status, to)
    current = type(to)(entity.status)
    entity.status = to
    session.add(entity)
    record(session, actor=actor, action="status_change", entity=entity, reason=reason,
           from_state=str(current), to_state=str(to), data=data)
