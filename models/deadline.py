"""Legal deadlines of a case, stored on rows: the database, not a waiting flow, knows what is due when.

The ``deadline-sweeper`` flow creates them from the stored state (a finding that failed, an issued record or
decision), marks them met when the document they wait for exists, warns before the due date and escalates
what is overdue — each once, so running it twice a day changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field


class DeadlineKind(StrEnum):
    VIOLATION_RECORD = "violation_record"  # biên bản vi phạm hành chính after discovery (working days)
    SANCTION_DECISION = "sanction_decision"  # quyết định xử phạt after the biên bản
    LIMITATION = "limitation"  # thời hiệu xử phạt: the decision must be issued before it runs out
    COMPLY = "comply"  # the violator carries out the decision
    REMEDIAL = "remedial"  # one remedial measure (biện pháp khắc phục hậu quả) of one act
    EXPLAIN_HEARING = "explain_hearing"  # the violator's last day to ask for a hearing (informative, never escalated)
    EXPLAIN_WRITTEN = "explain_written"  # the violator's last day for a written explanation (informative)
    SEND_DECISION = "send_decision"  # sent to the violator (Art.70): met by an e-mail delivery, else confirmed by a person
    NATIONAL_REPORT = "national_report"  # the decision reported to the national database (NĐ 20/2016), acknowledged


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"  # what it waited for is no longer due (e.g. a corrected version has no violation)


class Deadline(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("kind", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: DeadlineKind = Field(sa_type=sa.String(24), index=True)
    subject_key: str = Field(max_length=64, description="inspection:12 or violation:34")
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    violation_id: int | None = Field(default=None, foreign_key="violation.id")
    starts_on: date = Field(description="the event the period runs from (discovery, record, decision)")
    due_on: date = Field(index=True, description="the last day, extensions included")
    basis_vi: str = Field(max_length=500, description="the rule and the period, as shown to people")
    complex_case: bool = False
    explained: bool = Field(default=False, description="the violator asked to explain (decision: 1 month)")
    extended_months: int = Field(default=0, ge=0)
    status: DeadlineStatus = Field(default=DeadlineStatus.OPEN, sa_type=sa.String(16), index=True)
    met_on: date | None = None
    warned_on: date | None = None
    escalated_on: date | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
