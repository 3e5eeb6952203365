"""A complaint (khiếu nại) or lawsuit (khởi kiện) against a sanction decision: until it is resolved the decision is
not final, so it is not published (or is taken off the register while it runs)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class AppealKind(StrEnum):
    """What was lodged: stored in English; people read ``label_vi``."""

    COMPLAINT = "complaint"  # khiếu nại (administrative complaint)
    LAWSUIT = "lawsuit"  # khởi kiện (administrative lawsuit)

    @property
    def label_vi(self) -> str:
        return APPEAL_KIND_VI[self]

    @classmethod
    def parse(cls, text: str) -> AppealKind | None:
        """The kind a user typed: the English value, or the Vietnamese code used before (``khieu_nai``,
        ``khoi_kien``); None when it is neither."""
        key = text.strip().casefold()
        return cls(key) if key in cls._value2member_map_ else APPEAL_KIND_ALIASES.get(key)


APPEAL_KIND_VI: dict[AppealKind, str] = {AppealKind.COMPLAINT: "khiếu nại", AppealKind.LAWSUIT: "khởi kiện"}
APPEAL_KIND_ALIASES: dict[str, AppealKind] = {"khieu_nai": AppealKind.COMPLAINT, "khoi_kien": AppealKind.LAWSUIT}


class AppealOutcome(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the decision stands: it is (again) published
    ANNULLED = "annulled"  # the decision is cancelled: never (again) published


class Appeal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", unique=True, description="the sanction decision appealed")
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    kind: AppealKind = Field(sa_type=sa.String(16))
    reference: str = Field(max_length=128, description="the file's number (số đơn, số thụ lý), never a person's name")
    lodged_on: date
    outcome: AppealOutcome = Field(default=AppealOutcome.OPEN, sa_type=sa.String(16), index=True)
    resolved_on: date | None = None
    resolution_ref: str = Field(default="", max_length=128)
    recorded_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()
