"""Inspections (campaign × establishment × team × date), findings and violations."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, created_at_field, json_field


class InspectionStatus(StrEnum):
    SCHEDULED = "scheduled"  # on a team's calendar, establishment notified
    FINDINGS_SUBMITTED = "findings_submitted"  # inspectors sent the checklist results (every attachment arrived)
    FINDINGS_RETURNED = "findings_returned"  # the lead returned them with comments; a new version is expected
    FINDINGS_APPROVED = "findings_approved"  # the lead approved them: the records can be issued
    RECORDS_ISSUED = "records_issued"  # biên bản kiểm tra (+ biên bản vi phạm) issued
    SANCTIONED = "sanctioned"  # quyết định xử phạt issued
    CLOSED = "closed"  # nothing left to do (no violation, or outcome published)


INSPECTION_TRANSITIONS: dict[InspectionStatus, frozenset[InspectionStatus]] = {
    InspectionStatus.SCHEDULED: frozenset({InspectionStatus.FINDINGS_SUBMITTED}),
    InspectionStatus.FINDINGS_SUBMITTED: frozenset({InspectionStatus.FINDINGS_APPROVED, InspectionStatus.FINDINGS_RETURNED}),
    InspectionStatus.FINDINGS_RETURNED: frozenset({InspectionStatus.FINDINGS_SUBMITTED}),
    InspectionStatus.FINDINGS_APPROVED: frozenset({InspectionStatus.RECORDS_ISSUED}),
    InspectionStatus.RECORDS_ISSUED: frozenset({InspectionStatus.SANCTIONED, InspectionStatus.CLOSED}),
    InspectionStatus.SANCTIONED: frozenset({InspectionStatus.CLOSED}),
    InspectionStatus.CLOSED: frozenset(),
}


class Inspection(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "establishment_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    scheduled_on: date
    status: InspectionStatus = Field(default=InspectionStatus.SCHEDULED, sa_type=sa.String(24), index=True)


class FindingResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class Submission(SQLModel, table=True):
    """One version of an inspection's findings as received; the client's id makes retries idempotent.

    An edit is a new version (``version`` + 1) with who, when and why; the latest version is the one in force.
    It is complete when every attachment it declared has arrived. The client's id is unique per inspection (a
    global uniqueness would tell a caller that another team used an id).
    """

    __table_args__ = (sa.UniqueConstraint("inspection_id", "version"),
                      sa.UniqueConstraint("inspection_id", "client_submission_id",
                                          name="uq_submission_inspection_client_id"))
    id: int | None = Field(default=None, primary_key=True)
    client_submission_id: str = Field(max_length=64, index=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    version: int = Field(default=1, ge=1)
    submitted_by_id: int = Field(foreign_key="person.id")
    content_sha256: str = Field(max_length=64)
    payload: list[dict[str, Any]] = json_field(list)
    edit_reason: str = Field(default="", max_length=1000)
    complete: bool = True
    received_at: datetime = created_at_field()


class Attachment(SQLModel, table=True):
    """A file a submission declared (photo, scan); stored outside the database under its SHA-256."""

    __table_args__ = (sa.UniqueConstraint("submission_id", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    name: str = Field(max_length=255, description="the file name the inspector gave, sanitised")
    sha256: str = Field(max_length=64)
    size: int = Field(ge=1)
    content_type: str = Field(max_length=64)
    received: bool = False
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # a photo of one checklist item (the field app), when and where it was taken (migration 0015); None for the rest
    item_code: str | None = Field(default=None, max_length=16)
    captured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None


class FindingReview(SQLModel, table=True):
    """The lead's decision on a submission version: approved, or returned with comments."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True, unique=True)
    decision: str = Field(max_length=16, description="approved | returned")
    comment: str = Field(default="", max_length=2000)
    reviewed_by_id: int = Field(foreign_key="person.id")
    reviewed_at: datetime = created_at_field()


class Finding(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("inspection_id", "item_code"),)
    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    item_code: str = Field(max_length=16)
    result: FindingResult = Field(sa_type=sa.String(16))
    workers_affected: int | None = Field(default=None, ge=0)
    devices_affected: int | None = Field(default=None, ge=0)
    note: str = Field(default="", max_length=2000)
    evidence: list[str] = json_field(list)
    # when the act was committed (for an act that ended before the visit: the day it ended) and whether it was still
    # going on at the visit; they choose the decree (NĐ 283/2026 Art.67). None: the checklist item's default kind.
    committed_on: date | None = None
    ongoing: bool | None = None


class Violation(SQLModel, table=True):
    """One sanctioned act: the provision applied (of the decree Art.67 of NĐ 283/2026 selects), its range, the
    engine's proposal and the official's decision with the circumstances named and, for another amount, the reason."""

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    finding_id: int = Field(foreign_key="finding.id", unique=True)
    provision_code: str = Field(max_length=64)
    decree: str = Field(default="12/2022/ND-CP", max_length=32, description="the decree applied (fine-table prefix)")
    act_key: str = Field(default="", max_length=64, description="the same act across decrees (repeat offences)")
    committed_on: date | None = None
    ongoing: bool = True
    act_vi: str = Field(default="", max_length=2000, description="what the establishment did, as documents print it")
    workers: int | None = Field(default=None, ge=0, description="workers affected, for a clause fined by them")
    devices: int | None = Field(default=None, ge=0, description="machines or devices, for a clause banded by them")
    proposed_amount: int = Field(ge=0)
    range_min: int = Field(ge=0)
    range_max: int = Field(ge=0)
    reasoning: list[str] = json_field(list)
    final_amount: int | None = Field(default=None, ge=0)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_on: date | None = None
    # the official's choice: circumstance codes (derived ones included) and the proposal they give
    mitigating: list[str] = json_field(list)
    aggravating: list[str] = json_field(list)
    derived: list[dict[str, Any]] = json_field(list)  # circumstances the engine derived, with their basis
    decided_proposal: int | None = Field(default=None, ge=0)
    amount_reason: str = Field(default="", max_length=2000, description="why the amount differs from the proposal")


class PriorSanction(SQLModel, table=True):
    """A sanction decision the engine did not issue (imported history): its act, dates and reference, so repeat
    offences (tái phạm) are judged from dated decisions, never from a bare counter."""

    __table_args__ = (sa.UniqueConstraint("establishment_id", "decision_ref", "act_key"),)
    id: int | None = Field(default=None, primary_key=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    act_key: str = Field(max_length=64)
    provision_code: str = Field(max_length=64)
    decision_ref: str = Field(max_length=128, description="số, ký hiệu of the decision")
    decided_on: date
    complied_on: date | None = None
    enforcement_expired_on: date | None = None
    warning_only: bool = False
    source: str = Field(max_length=500, description="where the row comes from (file, register)")
    recorded_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()


def finding_payload(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Canonical order of a findings payload, for hashing."""
    return sorted(findings, key=lambda f: f["item_code"])
