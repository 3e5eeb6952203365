"""stored values in English: an appeal's kind and an establishment's ownership

``appeal.kind``: khieu_nai → complaint, khoi_kien → lawsuit (``models.appeal.AppealKind``).
``establishment.ownership``: doanh_nghiep → enterprise, hop_tac_xa → cooperative, ho_kinh_doanh → household
(``models.establishment.Ownership``). People still read and type the Vietnamese labels; registry files keep their
Vietnamese labels. ``row_checksum`` is not recomputed: it hashes ownership under its former code
(``services.registry.fingerprint``), so the registry fingerprints recorded before stay verifiable.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# (table, column, {former Vietnamese code: English value})
_RENAMES = (
    ("appeal", "kind", {"khieu_nai": "complaint", "khoi_kien": "lawsuit"}),
    ("establishment", "ownership", {"doanh_nghiep": "enterprise", "hop_tac_xa": "cooperative",
                                    "ho_kinh_doanh": "household"}),
)


def _convert(table: str, column: str, mapping: dict[str, str]) -> None:
    """One UPDATE … SET column = CASE … END over the rows holding a value of ``mapping`` (SQLite and PostgreSQL)."""
    t = sa.table(table, sa.column(column, sa.String))
    c = t.c[column]
    op.execute(sa.update(t).where(c.in_(list(mapping))).values({column: sa.case(mapping, value=c, else_=c)}))


def upgrade() -> None:
    for table, column, mapping in _RENAMES:
        _convert(table, column, mapping)


def downgrade() -> None:
    for table, column, mapping in _RENAMES:
        _convert(table, column, {new: old for old, new in mapping.items()})
