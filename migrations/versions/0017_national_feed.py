"""national database feed: one message per sanction decision event, and its attempts

``nationalfeedmessage``: one row per (decision document, event) — issued, replaced, annulled, executed — with its
idempotency key, payload (contract ``kiemtra-national-feed/1``, docs/national-feed.md), state (pending, sent, dead)
and retry bookkeeping; ``nationalfeedattempt``: one row per attempt with its time and outcome (issue 17,
models/national_feed.py). The new deadline kind ``national_report`` fits ``deadline.kind`` (String(24)): no change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nationalfeedmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('receiver_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('document_id', 'event')
    )
    with op.batch_alter_table('nationalfeedmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nationalfeedmessage_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nationalfeedmessage_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nationalfeedmessage_status'), ['status'], unique=False)

    op.create_table('nationalfeedattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['nationalfeedmessage.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('nationalfeedattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nationalfeedattempt_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nationalfeedattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nationalfeedattempt_message_id'))
    op.drop_table('nationalfeedattempt')
    with op.batch_alter_table('nationalfeedmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nationalfeedmessage_status'))
        batch_op.drop_index(batch_op.f('ix_nationalfeedmessage_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_nationalfeedmessage_document_id'))
    op.drop_table('nationalfeedmessage')
