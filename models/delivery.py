"""Electronic delivery of issued documents to the violator (NĐ 118/2021 as amended by NĐ 190/2025; Luật XLVPHC
Art.70 cl.2 c as amended by Luật 88/2025): one row per (document, channel, recipient), one row per attempt.

    PENDING ──claim──▶ SENDING ──accepted──────────────────────────────▶ SENT
       ▲                  ├──temporary (4xx, no connection), attempts left──▶ PENDING (next_attempt_at later)
       │                  ├──permanent (5xx), or the file differs from the issued one──▶ FAILED
       │                  └──temporary and attempts spent, or left SENDING by a crash (outcome unknown)──▶ DEAD
       └──────────── retry by a person ◀── FAILED, DEAD
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field


class DocumentDeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a run; a row left here by a crash is judged by the next run (never re-sent blindly)
    SENT = "sent"  # the channel accepted the message (SMTP 250 after DATA)
    FAILED = "failed"  # refused for good (5xx), or the stored file is not the issued one: a person decides
    DEAD = "dead"  # temporary failures until the attempts ran out, or the outcome of a send is unknown


DELIVERY_TRANSITIONS: dict[DocumentDeliveryStatus, frozenset[DocumentDeliveryStatus]] = {
    DocumentDeliveryStatus.PENDING: frozenset({DocumentDeliveryStatus.SENDING}),
    DocumentDeliveryStatus.SENDING: frozenset({DocumentDeliveryStatus.SENT, DocumentDeliveryStatus.PENDING,
                                               DocumentDeliveryStatus.FAILED, DocumentDeliveryStatus.DEAD}),
    DocumentDeliveryStatus.SENT: frozenset(),
    DocumentDeliveryStatus.FAILED: frozenset({DocumentDeliveryStatus.PENDING}),
    DocumentDeliveryStatus.DEAD: frozenset({DocumentDeliveryStatus.PENDING}),
}


class AttemptOutcome(StrEnum):
    SENDING = "sending"  # written before the send: still so after a crash
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    FILE_MISMATCH = "file_mismatch"  # refused before sending: the stored PDF's SHA-256 is not the document's
    UNKNOWN = "unknown"  # the run stopped between sending and recording


class DocumentDelivery(SQLModel, table=True):
    """One issued document to one recipient through one channel; sent at most once by the engine."""

    __table_args__ = (sa.UniqueConstraint("document_id", "channel", "recipient"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id", index=True)
    channel: str = Field(max_length=16, description="email (later: vneid, sms)")
    recipient: str = Field(max_length=255, description="the address on that channel")
    recipient_ref: str = Field(max_length=32, description="the establishment's tax code")
    delivery_key: str = Field(max_length=128, unique=True, description="document:<id>:<channel>:<recipient hash>")
    message_id: str = Field(max_length=255, description="Message-ID, derived from delivery_key: stable across attempts")
    subject: str = Field(max_length=255)
    body: str = Field(sa_type=sa.Text)
    status: DocumentDeliveryStatus = Field(default=DocumentDeliveryStatus.PENDING, sa_type=sa.String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


class DeliveryAttempt(SQLModel, table=True):
    """One try of a delivery: written before sending, completed with the channel's answer."""

    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="documentdelivery.id", index=True)
    number: int = Field(ge=1)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: AttemptOutcome = Field(default=AttemptOutcome.SENDING, sa_type=sa.String(16))
    reply_code: int | None = Field(default=None, description="the SMTP reply code, when the server answered")
    reply_text: str = Field(default="", max_length=1000)
    error: str = Field(default="", max_length=1000)
