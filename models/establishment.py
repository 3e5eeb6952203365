"""The registry of establishments (cơ sở lao động) with the risk attributes of DOMAIN.md section 5."""
from __future__ import annotations

from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Ownership(StrEnum):
    """The legal form (loại hình), stored in English; registry files use the Vietnamese labels
    (``services/registry/data/import_columns.json``)."""

    ENTERPRISE = "enterprise"  # doanh nghiệp (company, or a company's branch)
    COOPERATIVE = "cooperative"  # hợp tác xã
    HOUSEHOLD = "household"  # hộ kinh doanh: a household business, sanctioned as an individual


class Establishment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tax_code: str = Field(max_length=14, unique=True)
    name: str = Field(max_length=255)
    address: str = Field(max_length=500)
    province_code: str = Field(max_length=2, index=True)
    commune_code: str = Field(max_length=5, index=True)
    sector_vsic: str = Field(max_length=5, index=True)
    ownership: Ownership = Field(sa_type=sa.String(16))
    legal_representative: str = Field(max_length=255)
    representative_title: str = Field(max_length=64)
    workforce: int = Field(ge=0)
    hazardous_workers: int = Field(default=0, ge=0)
    working_condition_class_max: int = Field(default=1, ge=1, le=6)
    strict_equipment_count: int = Field(default=0, ge=0)
    strict_work_workers: int = Field(default=0, ge=0)
    last_health_exam_on: date | None = None
    last_disease_exam_on: date | None = None
    last_environment_monitoring_on: date | None = None
    monitoring_failing_ratio: float = Field(default=0.0, ge=0, le=1)
    fatal_accidents_3y: int = Field(default=0, ge=0)
    serious_accidents_3y: int = Field(default=0, ge=0)
    accidents_3y: int = Field(default=0, ge=0)
    accident_reports_late: int = Field(default=0, ge=0)
    osh_organisation_gaps: int = Field(default=0, ge=0, le=4)
    untrained_workers: int = Field(default=0, ge=0)
    vulnerable_workers: int = Field(default=0, ge=0)
    past_violations: int = Field(default=0, ge=0)
    last_inspected_on: date | None = None  # no index: the eligibility test is best done during the scan
    open_complaints: int = Field(default=0, ge=0)
    # derived at import (services.registry.fingerprint): a stable pseudo-random key for seeded ordering,
    # and a 60-bit checksum of the row's content for the registry snapshot fingerprint
    random_key: int = Field(default=0, ge=0, sa_type=sa.BigInteger, index=True)
    row_checksum: int = Field(default=0, ge=0, sa_type=sa.BigInteger)

    @property
    def is_organisation(self) -> bool:
        """Household businesses (hộ kinh doanh) are sanctioned as individuals; enterprises and co-operatives as
        organisations."""
        return self.ownership != Ownership.HOUSEHOLD


DERIVED_COLUMNS: tuple[str, ...] = ("random_key", "row_checksum")
# How ``random_key`` orders establishments for a seed, in Python (services.registry.fingerprint.seeded_order) and in
# SQL (services.rules.risk_sql): MINSTD (Lehmer) constants, (key + seed) * 48271 stays below 2^49, so SQLite and
# PostgreSQL compute it in 64-bit integers exactly, and the result is the same in Python and in SQL.
MIX_MULTIPLIER = 48271
MIX_MODULUS = 2147483647  # 2^31 - 1
ESTABLISHMENT_COLUMNS: tuple[str, ...] = tuple(c for c in Establishment.model_fields if c != "id" and c not in DERIVED_COLUMNS)
