"""Request and response bodies of the intake API."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.text_policy import check_text

from models import FindingResult


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field(min_length=1, max_length=16)
    result: FindingResult
    workers_affected: int | None = Field(default=None, ge=0, le=1_000_000)
    devices_affected: int | None = Field(default=None, ge=0, le=100_000)
    note: str = Field(default="", max_length=2000)
    committed_on: date | None = Field(default=None, description="when the act was committed (an ended act: the day it ended)")

    @field_validator("note")
    @classmethod
    def _printable_note(cls, value: str) -> str:
        return check_text(value, multiline=True)
    ongoing: bool | None = Field(default=None, description="still going on at the visit; None: the checklist item's kind")


class AttachmentDecl(BaseModel):
    """A file the inspector will upload for this submission (photo, scan): announced first, sent after."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0, le=100 * 1024 * 1024)
    content_type: str = Field(min_length=3, max_length=64)


class FindingsSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_submission_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    findings: list[FindingIn] = Field(min_length=1, max_length=200)
    attachments: list[AttachmentDecl] = Field(default_factory=list, max_length=50)
    reason: str = Field(default="", max_length=1000, description="why, when this edits an earlier version")

    @field_validator("reason")
    @classmethod
    def _printable_reason(cls, value: str) -> str:
        return check_text(value, multiline=True)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "return"]
    comment: str = Field(default="", max_length=2000)

    @field_validator("comment")
    @classmethod
    def _printable_comment(cls, value: str) -> str:
        return check_text(value, multiline=True)


class ReviewReceipt(BaseModel):
    inspection_id: int
    version: int
    decision: str
    status: str


class SubmissionReceipt(BaseModel):
    submission_id: int
    client_submission_id: str
    inspection_id: int
    version: int
    complete: bool
    missing_attachments: list[str]
    content_sha256: str
    findings: int
    failed_items: list[str]


class CircumstancesIn(BaseModel):
    """The circumstances the official finds for one act (codes of Luật XLVPHC Art.9 and 10, see /api/circumstances)."""

    model_config = ConfigDict(extra="forbid")
    mitigating: list[str] = Field(default_factory=list, max_length=20)
    aggravating: list[str] = Field(default_factory=list, max_length=20)


class CircumstanceOut(BaseModel):
    code: str
    kind: str  # mitigating | aggravating
    point_vi: str
    text_vi: str
    derived: bool  # set by the engine from dated history only (tái phạm, vi phạm nhiều lần)
    selectable: bool


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decided_on: date
    amounts: dict[int, int] = Field(description="final amount (VND) per violation id")
    circumstances: dict[int, CircumstancesIn] = Field(default_factory=dict, description="per violation id")
    reasons: dict[int, str] = Field(default_factory=dict, description="per violation id: why the amount differs from "
                                                                        "the proposal the circumstances give")
    referral_reason: str = Field(default="", max_length=1000, description="why a higher official than the lowest "
                                                                         "competent one decides the file (sent up)")

    @field_validator("referral_reason")
    @classmethod
    def _printable_referral(cls, value: str) -> str:
        return check_text(value, multiline=True)

    @field_validator("reasons")
    @classmethod
    def _printable_reasons(cls, value: dict[int, str]) -> dict[int, str]:
        return {k: check_text(v, multiline=True) for k, v in value.items()}


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
    decree: str = ""
    aggravating: list[str] = Field(default_factory=list)
    derived: list[dict[str, str]] = Field(default_factory=list)


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
