"""A complaint (khiếu nại) or lawsuit (khởi kiện) against a sanction decision: until it is resolved the decision is
not final, so it is not published (or is taken off the register while it runs)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class AppealOutcome(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the decision stands: it is (again) published
    ANNULLED = "annulled"  # the decision is cancelled: never (again) published


class Appeal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", unique=True, description="the sanction decision appealed")
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    kind: str = Field(max_length=16, description="khieu_nai | khoi_kien")
    reference: str = Field(max_length=128, description="the file's number (số đơn, số thụ lý), never a person's name")
    lodged_on: date
    outcome: AppealOutcome = Field(default=AppealOutcome.OPEN, sa_type=sa.String(16), index=True)
    resolved_on: date | None = None
    resolution_ref: str = Field(default="", max_length=128)
    recorded_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
