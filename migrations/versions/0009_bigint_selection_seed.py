"""selection seed as a 64-bit integer

The seed is a 32-bit unsigned value (services.stages.selection.default_seed), above PostgreSQL's INTEGER range.
SQLite's INTEGER already holds 64 bits: nothing to change there (and no table rebuild).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("campaign", "selection_seed", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("campaign", "selection_seed", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True)
