"""a photo per checklist item: the attachment's item, capture time and place

``attachment.item_code`` (the checklist item a photo shows), ``captured_at`` (when the phone took it, UTC),
``latitude``/``longitude`` (degrees) and ``accuracy_m`` (metres), declared by the inspectors' offline field app
(issue 16, docs/field-offline.md). All nullable: attachments declared before, and by clients that do not send them,
have none.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = ("item_code", "captured_at", "latitude", "longitude", "accuracy_m")

# Plain ALTER TABLE (no batch copy), as in 0014: SQLite adds and drops a column without an index or constraint in place
# since 3.35.


def upgrade() -> None:
    op.add_column("attachment", sa.Column("item_code", sa.String(length=16), nullable=True))
    op.add_column("attachment", sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("attachment", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("attachment", sa.Column("longitude", sa.Float(), nullable=True))
    op.add_column("attachment", sa.Column("accuracy_m", sa.Float(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("attachment", name)
