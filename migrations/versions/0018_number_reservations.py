"""number reservations: a document's number taken in its own short transaction before the PDF is rendered

``numberreservation``: one row per (type, subject, revision) with the number (issuer, type, year, seq) taken for it and
its state (reserved, used); both keys unique (issue 17, models/document.py). The documents already issued are copied
in as ``used``, so a re-issue of one of them finds its number and the listing of reserved-but-unused numbers starts
empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('numberreservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('doc_type', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('subject_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reserved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('doc_type', 'subject_key', 'revision'),
    sa.UniqueConstraint('issuer_code', 'doc_type', 'year', 'seq')
    )
    with op.batch_alter_table('numberreservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_numberreservation_state'), ['state'], unique=False)
    op.execute("INSERT INTO numberreservation (issuer_code, doc_type, year, seq, subject_key, revision, state, "
               "reserved_by, reserved_at) SELECT issuer_code, doc_type, year, seq, subject_key, revision, 'used', "
               "issued_by, issued_at FROM document")


def downgrade() -> None:
    with op.batch_alter_table('numberreservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_numberreservation_state'))
    op.drop_table('numberreservation')
