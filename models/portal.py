"""Messages to the province portal (cổng thông tin điện tử): one per publication event, each delivered once.

A publication is published, amended (a decision replaced by a correction) or withdrawn; each event is a row
with its own idempotency key, delivered in order per publication, retried with backoff, and parked as DEAD
after the configured attempts, where the lead sees it and can send it again.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, json_field


class PortalEvent(StrEnum):
    PUBLISH = "publish"
    AMEND = "amend"
    WITHDRAW = "withdraw"


class PortalStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # retries ran out or the portal refused it: the lead decides (retry)


class PortalMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    event: PortalEvent = Field(sa_type=sa.String(16))
    payload: dict[str, Any] = json_field(dict)
    status: PortalStatus = Field(default=PortalStatus.PENDING, sa_type=sa.String(16), index=True)
    not_before: datetime = Field(sa_type=UTCDateTime, description="the publication delay (config) ends")
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    portal_ref: str | None = Field(default=None, max_length=128)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
