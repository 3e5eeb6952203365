"""the law in force on the day: the act's dates and decree, the official's circumstances and reason, imported history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ongoing', sa.Boolean(), nullable=True))
    with op.batch_alter_table('violation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decree', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                      server_default='12/2022/ND-CP'))
        batch_op.add_column(sa.Column('act_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('committed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ongoing', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('act_vi', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('workers', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('devices', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mitigating', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('aggravating', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('derived', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('decided_proposal', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('amount_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False,
                                      server_default=''))
    op.create_table('priorsanction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('act_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('provision_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decision_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('complied_on', sa.Date(), nullable=True),
    sa.Column('enforcement_expired_on', sa.Date(), nullable=True),
    sa.Column('warning_only', sa.Boolean(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('establishment_id', 'decision_ref', 'act_key')
    )
    with op.batch_alter_table('priorsanction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priorsanction_establishment_id'), ['establishment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('priorsanction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priorsanction_establishment_id'))
    op.drop_table('priorsanction')
    with op.batch_alter_table('violation', schema=None) as batch_op:
        for column in ('amount_reason', 'decided_proposal', 'derived', 'aggravating', 'mitigating', 'devices', 'workers',
                       'act_vi', 'ongoing', 'committed_on', 'act_key', 'decree'):
            batch_op.drop_column(column)
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('ongoing')
        batch_op.drop_column('committed_on')
