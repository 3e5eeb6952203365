"""Registry imports and the triggers that allow a surprise (đột xuất) inspection."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class RegistryImport(SQLModel, table=True):
    """One import of a registry file or API pull, with what it changed."""

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=500, description="file name or API URL")
    content_sha256: str = Field(max_length=64)
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    imported_by: str = Field(max_length=64)
    imported_at: datetime = created_at_field()


class TriggerKind(StrEnum):
    COMPLAINT = "complaint"  # khiếu nại, tố cáo, phản ánh
    ACCIDENT = "accident"  # tai nạn lao động
    REFERRAL = "referral"  # chuyển đến từ cơ quan khác / dấu hiệu vi phạm rõ ràng


class InspectionTrigger(SQLModel, table=True):
    """A recorded reason that allows an unplanned inspection (Chỉ thị 20/CT-TTg)."""

    __table_args__ = (sa.UniqueConstraint("establishment_id", "kind", "reference"),)
    id: int | None = Field(default=None, primary_key=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    kind: TriggerKind = Field(sa_type=sa.String(16))
    reference: str = Field(max_length=128, description="số văn bản, số hồ sơ")
    received_on: date
    note: str = Field(default="", max_length=2000)
    recorded_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
