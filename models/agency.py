"""Agencies and the people who act for them (inspectors, officials, leads)."""
from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class AgencyKind(StrEnum):
    LABOUR = "labour"  # Sở Nội vụ (Sở LĐTBXH before 2025): the lead agency
    HEALTH = "health"  # Sở Y tế: mandatory partner
    OTHER = "other"


class PersonRole(StrEnum):
    LEAD = "lead"
    INSPECTOR = "inspector"
    OFFICIAL = "official"
    ADMIN = "admin"  # people, teams and tokens in the console (issue 15); passes every console role check


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=255)
    parent_name: str = Field(max_length=255, description="e.g. UBND TỈNH CAO BẰNG")
    kind: AgencyKind = Field(sa_type=sa.String(16))
    province_code: str = Field(max_length=2)
    place: str = Field(max_length=64, description="địa danh on documents, e.g. Cao Bằng")


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    full_name: str = Field(max_length=255)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    title: str = Field(max_length=255, description="chức vụ, e.g. Thanh tra viên")
    role: PersonRole = Field(sa_type=sa.String(16))
    # API tokens are rows of models.access.AccessToken (issued, rotated, expired, revoked). The table's old
    # `token_hash` column is emptied by migration 0011 and never read: it is not mapped here on purpose.
