"""Campaigns, their risk-based selection, and their inter-agency teams."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import created_at_field, json_field


class CampaignStatus(StrEnum):
    DRAFT = "draft"  # plan entered, nothing selected
    SELECTED = "selected"  # establishments proposed by risk, awaiting the lead's approval
    APPROVED = "approved"  # the lead approved the list (with any additions/removals and their reasons)
    SCHEDULED = "scheduled"  # teams formed, visits on the calendar
    FIELDWORK = "fieldwork"  # findings are coming in, records being issued
    CLOSED = "closed"  # every inspection finished and outcomes published


CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SELECTED}),
    CampaignStatus.SELECTED: frozenset({CampaignStatus.APPROVED}),
    CampaignStatus.APPROVED: frozenset({CampaignStatus.SCHEDULED}),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.FIELDWORK}),
    CampaignStatus.FIELDWORK: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset(),
}


class CampaignKind(StrEnum):
    PLANNED = "planned"  # kế hoạch: risk-based, Chỉ thị 20's once-a-year rule applies
    SURPRISE = "surprise"  # đột xuất: only establishments with a recorded trigger


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=500)
    legal_basis: list[str] = json_field(list)
    lead_agency_id: int = Field(foreign_key="agency.id")
    member_agency_codes: list[str] = json_field(list)
    kind: CampaignKind = Field(default=CampaignKind.PLANNED, sa_type=sa.String(16))
    province_code: str | None = Field(default=None, max_length=2, description="None: a national campaign")
    commune_codes: list[str] = json_field(list)  # empty: the whole province
    sector_codes: list[str] = json_field(list)  # empty: every sector
    per_commune_max: int | None = Field(default=None, gt=0)
    per_sector_max: int | None = Field(default=None, gt=0)
    period_start: date
    period_end: date
    quota: int = Field(gt=0)
    team_count: int = Field(default=1, gt=0)
    status: CampaignStatus = Field(default=CampaignStatus.DRAFT, sa_type=sa.String(16))
    risk_policy_version: str | None = Field(default=None, max_length=32)
    selection_seed: int | None = Field(default=None, sa_type=sa.BigInteger)  # 32-bit unsigned: above PostgreSQL's INTEGER
    registry_snapshot_sha256: str | None = Field(default=None, max_length=64,
                                                 description="fingerprint of the registry rows the selection saw")
    registry_snapshot_rows: int | None = None
    decision_on: date | None = Field(default=None, description="date of the decision to inspect (QĐ kiểm tra)")
    plan_number: str | None = Field(default=None, max_length=64, description="the plan it carries out, e.g. 664/KH-UBND")
    plan_on: date | None = Field(default=None, description="the date that plan was signed")
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()


class SelectionKind(StrEnum):
    RISK = "risk"  # ranked by the risk policy
    CONTROL = "control"  # random control sample of lower-risk establishments (checks the data)
    TRIGGER = "trigger"  # đột xuất: a recorded complaint, accident or referral
    LEAD_ADDED = "lead_added"  # added by the lead, with a reason


class Selection(SQLModel, table=True):
    """One establishment proposed for a campaign, with why (factor contributions)."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "establishment_id"), sa.UniqueConstraint("campaign_id", "rank"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    establishment_id: int = Field(foreign_key="establishment.id")
    rank: int
    score: float
    factors: dict[str, Any] = json_field(dict)
    kind: SelectionKind = Field(default=SelectionKind.RISK, sa_type=sa.String(16))
    removed: bool = False
    change_reason: str = Field(default="", max_length=1000, description="the lead's reason for adding or removing")
    changed_by: str | None = Field(default=None, max_length=64)


class TeamRole(StrEnum):
    HEAD = "head"  # trưởng đoàn, from the lead agency
    DEPUTY = "deputy"
    MEMBER = "member"


class Team(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("campaign_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    number: int
    name: str = Field(max_length=255)


class TeamMember(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("team_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: TeamRole = Field(sa_type=sa.String(16))


__all__ = ["CampaignKind", "SelectionKind", "Campaign", "CampaignStatus", "Selection", "Team", "TeamMember", "TeamRole"]
