"""Request and response bodies of the intake API."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from models import FindingResult


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field(min_length=1, max_length=16)
    result: FindingResult
    workers_affected: int | None = Field(default=None, ge=0, le=1_000_000)
    devices_affected: int | None = Field(default=None, ge=0, le=100_000)
    note: str = Field(default="", max_length=2000)


class FindingsSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_submission_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    findings: list[FindingIn] = Field(min_length=1, max_length=200)


class SubmissionReceipt(BaseModel):
    submission_id: int
    client_submission_id: str
    inspection_id: int
    content_sha256: str
    findings: int
    failed_items: list[str]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decided_on: date
    amounts: dict[int, int] = Field(description="final amount (VND) per violation id")


class DecisionReceipt(BaseModel):
    inspection_id: int
    decided_by: str
    decided_on: date
    total_vnd: int


class ViolationOut(BaseModel):
    id: int
    provision_code: str
    proposed_amount: int
    range_min: int
    range_max: int
    final_amount: int | None


class InspectionOut(BaseModel):
    id: int
    campaign_code: str
    establishment_name: str
    tax_code: str
    address: str
    scheduled_on: date
    status: str
    team: str
    checklist: list[dict[str, object]]
    violations: list[ViolationOut]
    competent_signer: str | None
