"""signing requests: drafts put to their competent person for a digital signature (issue 17)

``signingrequest``: one row per draft (document type, subject, revision, attempt): the approved draft rendered with
empty number and date fields, the person who must sign, the state (awaiting_signature, signed, issued, refused), the
signed file, the last error and the issued document (models/document.py, services/documents/signed_issuing.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signingrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=24), nullable=False),
    sa.Column('subject_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('issuer_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('issuer_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('template_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('drafted_on', sa.Date(), nullable=False),
    sa.Column('signer_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signer_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('signer_title', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('draft_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('draft_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signed_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('signed_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('remote', sa.JSON(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('refusal_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('doc_type', 'subject_key', 'revision', 'attempt')
    )
    with op.batch_alter_table('signingrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signingrequest_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signingrequest_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signingrequest_signer_code'), ['signer_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_signingrequest_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signingrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signingrequest_state'))
        batch_op.drop_index(batch_op.f('ix_signingrequest_signer_code'))
        batch_op.drop_index(batch_op.f('ix_signingrequest_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_signingrequest_campaign_id'))

    op.drop_table('signingrequest')
