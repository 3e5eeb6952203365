"""The province's annual OSH statistics: what the agencies report each year, one row per indicator.

The KPIs of the periodic report (services/reports/kpi.py) are computed from these rows. A row is entered once
per (province, year, indicator) with where the figure comes from and who entered it; a later change needs a
reason and is audited (services/reports/statistics.py: :func:`record_statistic`).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field


class StatIndicator(StrEnum):
    WORKERS_COVERED = "workers_covered"  # người lao động thuộc phạm vi thống kê (denominator of the accident rate)
    FATAL_ACCIDENTS = "fatal_accidents"  # người chết vì tai nạn lao động trong năm
    DISEASE_EXAMINED = "disease_examined"  # người lao động tiếp xúc yếu tố có hại được khám phát hiện BNN
    ESTABLISHMENTS_MONITORED = "establishments_monitored"  # cơ sở có yếu tố có hại được quan trắc MTLĐ


class AnnualStatistic(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("province_code", "year", "indicator"),)
    id: int | None = Field(default=None, primary_key=True)
    province_code: str = Field(max_length=2, index=True)
    year: int = Field(ge=2000, le=2100)
    indicator: StatIndicator = Field(sa_type=sa.String(32))
    value: int = Field(ge=0)
    source: str = Field(max_length=500, description="the report the figure comes from, e.g. Báo cáo 12/BC-SYT")
    entered_by: str = Field(max_length=64)
    entered_at: datetime = created_at_field()
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


__all__ = ["AnnualStatistic", "StatIndicator"]
