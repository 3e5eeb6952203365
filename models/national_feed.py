"""Messages to the national database on handling administrative violations (Cơ sở dữ liệu quốc gia về xử lý vi
phạm hành chính, NĐ 20/2016/NĐ-CP): one per event of a sanction decision, each delivered once.

A decision is issued, replaced by a correction, annulled, executed (paid); each event is a row keyed by the
decision document and the event (its idempotency key, ``national:<document id>:<event>``), queued in the
transaction that made the event happen, sent by the delivery stage through the portal outbox's machinery
(services/delivery/outbox_steps.py: claim, backoff, dead letter), every attempt kept with its time and outcome.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, json_field


class FeedEvent(StrEnum):
    ISSUED = "issued"
    REPLACED = "replaced"  # a correcting decision replaces the one sent before
    ANNULLED = "annulled"
    EXECUTED = "executed"  # the fine paid / the decision carried out, with its receipt


class FeedStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # the receiver acknowledged it (2xx, or 409: it already had it)
    DEAD = "dead"  # refused (4xx) or attempts ran out: the lead decides (kiemtra national-feed retry)


class NationalFeedMessage(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("document_id", "event"),)
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    event: FeedEvent = Field(sa_type=sa.String(16))
    payload: dict[str, Any] = json_field(dict)
    status: FeedStatus = Field(default=FeedStatus.PENDING, sa_type=sa.String(16), index=True)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    receiver_ref: str | None = Field(default=None, max_length=128)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class NationalFeedAttempt(SQLModel, table=True):
    """One attempt of one message: when it was sent and what came of it."""
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="nationalfeedmessage.id", index=True)
    attempt: int
    at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16, description="sent | duplicate | retry | dead")
    detail: str = Field(default="", max_length=1000)
