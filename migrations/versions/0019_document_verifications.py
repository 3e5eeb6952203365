"""document verifications: each check of an issued document's stored file, stored

``documentverification``: one row per check (before publication, or ``kiemtra documents verify``) of a document's
stored file: whether its SHA-256 is the recorded one, how many digital signatures it carries, the lowest PAdES level
they reach, the result and a Vietnamese summary (issue 17, models/document.py).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documentverification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hash_ok', sa.Boolean(), nullable=False),
    sa.Column('signatures', sa.Integer(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('documentverification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentverification_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documentverification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentverification_document_id'))
    op.drop_table('documentverification')
