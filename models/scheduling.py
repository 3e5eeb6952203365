"""What scheduling must respect besides capacity: declared conflicts of interest, establishments'
unavailable days, and the notifications sent about decisions and visits."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field


class ConflictOfInterest(SQLModel, table=True):
    """A person declared a link with an establishment: never on a team that inspects it."""

    __table_args__ = (sa.UniqueConstraint("person_id", "establishment_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    reason: str = Field(max_length=500)
    declared_on: date


class Unavailability(SQLModel, table=True):
    """A day an establishment cannot receive the team (closure, announced shutdown …)."""

    __table_args__ = (sa.UniqueConstraint("establishment_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    day: date
    reason: str = Field(default="", max_length=500)


class Contact(SQLModel, table=True):
    """Where to notify a person or an establishment (kept apart from the registry's risk data)."""

    __table_args__ = (sa.UniqueConstraint("owner_kind", "owner_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_kind: str = Field(max_length=16, description="person | establishment")
    owner_ref: str = Field(max_length=32, description="person code or tax code")
    email: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=20)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # retries ran out; the lead sees it and can retry


class Notification(SQLModel, table=True):
    """One message to one recipient; the idempotency key makes re-sending never deliver twice."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id", index=True)
    kind: str = Field(max_length=32, description="team_assignment | inspection_notice | reschedule")
    recipient_kind: str = Field(max_length=16, description="person | establishment")
    recipient_ref: str = Field(max_length=32)
    channel: str = Field(max_length=8, description="email | sms")
    address: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    body: str = Field(sa_type=sa.Text)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=sa.String(16), index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    gateway_message_id: str | None = Field(default=None, max_length=128)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
