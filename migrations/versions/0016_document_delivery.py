"""electronic delivery of violation records and sanction decisions: deliveries and their attempts

``documentdelivery``: one row per (document, channel, recipient), its status (pending, sending, sent, failed, dead),
the stable Message-ID and the text sent; ``deliveryattempt``: one row per attempt with the SMTP reply (issue 17,
models/delivery.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documentdelivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('recipient_ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('delivery_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'channel', 'recipient'),
    sa.UniqueConstraint('delivery_key')
    )
    with op.batch_alter_table('documentdelivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentdelivery_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentdelivery_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentdelivery_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documentdelivery_status'), ['status'], unique=False)

    op.create_table('deliveryattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reply_code', sa.Integer(), nullable=True),
    sa.Column('reply_text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['documentdelivery.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id', 'number')
    )
    with op.batch_alter_table('deliveryattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveryattempt_delivery_id'), ['delivery_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliveryattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveryattempt_delivery_id'))
    op.drop_table('deliveryattempt')
    with op.batch_alter_table('documentdelivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentdelivery_status'))
        batch_op.drop_index(batch_op.f('ix_documentdelivery_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_documentdelivery_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_documentdelivery_document_id'))
    op.drop_table('documentdelivery')
