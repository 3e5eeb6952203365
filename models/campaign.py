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
    SELECTED = "selected"  # establishments proposed by risk
    SCHEDULED = "scheduled"  # teams formed, visits on the calendar
    FIELDWORK = "fieldwork"  # findings are coming in, records being issued
    CLOSED = "closed"  # every inspection finished and outcomes published


CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SELECTED}),
    CampaignStatus.SELECTED: frozenset({CampaignStatus.SCHEDULED}),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.FIELDWORK}),
    CampaignStatus.FIELDWORK: frozenset({CampaignStatus.CLOSED}),
    CampaignStatus.CLOSED: frozenset(),
}


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=500)
    legal_basis: list[str] = json_field(list)
    lead_agency_id: int = Field(foreign_key="agency.id")
    member_agency_codes: list[str] = json_field(list)
    province_code: str = Field(max_length=2)
    commune_codes: list[str] = json_field(list)  # empty: the whole province
    period_start: date
    period_end: date
    quota: int = Field(gt=0)
    team_count: int = Field(default=1, gt=0)
    status: CampaignStatus = Field(default=CampaignStatus.DRAFT, sa_type=sa.String(16))
    risk_policy_version: str | None = Field(default=None, max_length=32)
    selection_seed: int | None = None
    registry_snapshot_sha256: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = created_at_field()


class Selection(SQLModel, table=True):
    """One establishment proposed for a campaign, with why (factor contributions)."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "establishment_id"), sa.UniqueConstraint("campaign_id", "rank"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    establishment_id: int = Field(foreign_key="establishment.id")
    rank: int
    score: float
    factors: dict[str, Any] = json_field(dict)


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


__all__ = ["Campaign", "CampaignStatus", "Selection", "Team", "TeamMember", "TeamRole"]
