"""Audit trail: every state change records who, when, what and why."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import created_at_field, json_field


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32, index=True)
    entity_id: int = Field(index=True)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    reason: str = Field(default="", max_length=1000)
    data: dict[str, Any] = json_field(dict)
