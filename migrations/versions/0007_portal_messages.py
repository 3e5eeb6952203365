"""portal messages; withdrawn and superseded publications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portalmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('portal_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('portalmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portalmessage_publication_id'), ['publication_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portalmessage_status'), ['status'], unique=False)

    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('superseded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_publication_superseded_by_id', 'publication', ['superseded_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_constraint('fk_publication_superseded_by_id', type_='foreignkey')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('portalmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portalmessage_status'))
        batch_op.drop_index(batch_op.f('ix_portalmessage_publication_id'))
    op.drop_table('portalmessage')
