"""a campaign's plan (its legal basis as data): the plan's number and date

``campaign.plan_number`` (e.g. "664/KH-UBND") and ``campaign.plan_on`` (the date the plan was signed), set when the
campaign is created from the console or ``kiemtra campaign start --plan-number … --plan-date …`` (issue 15). Both
empty for campaigns created before: their legal basis lines stay as they were.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# Plain ALTER TABLE (no batch copy): SQLite adds and drops a column without an index or constraint in place since 3.35;
# a batch copy of ``campaign`` would break the foreign keys that point at it.


def upgrade() -> None:
    op.add_column("campaign", sa.Column("plan_number", sa.String(length=64), nullable=True))
    op.add_column("campaign", sa.Column("plan_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "plan_on")
    op.drop_column("campaign", "plan_number")
