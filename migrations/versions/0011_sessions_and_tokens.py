"""sessions and tokens: API tokens as rows (issued, expiring, revocable) and server-side web sessions

Each person's existing ``person.token_hash`` becomes an ``accesstoken`` row without expiry, so deployed tokens keep
working; the column is then emptied and nothing reads it any more (it stays in the table: dropping a column of
``person`` on SQLite means copying a table other tables point at).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

MIGRATED_LABEL = 'Mã truy cập cấp trước phiên bản 0011'


def upgrade() -> None:
    op.create_table('accesstoken',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('accesstoken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accesstoken_person_id'), ['person_id'], unique=False)
    op.create_table('websession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['token_id'], ['accesstoken.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_hash')
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_websession_token_id'), ['token_id'], unique=False)

    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer()), sa.column('token_hash', sa.String(64)))
    token = sa.table('accesstoken', sa.column('person_id', sa.Integer()), sa.column('token_hash', sa.String(64)),
                     sa.column('label', sa.String(255)), sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('created_by', sa.String(64)), sa.column('revoke_reason', sa.String(1000)))
    now = datetime.now(UTC)
    rows = [{'person_id': pid, 'token_hash': digest, 'label': MIGRATED_LABEL, 'created_at': now,
             'created_by': 'migration-0011', 'revoke_reason': ''}
            for pid, digest in conn.execute(sa.select(person.c.id, person.c.token_hash)
                                            .where(person.c.token_hash.is_not(None)).order_by(person.c.id))]
    if rows:
        conn.execute(sa.insert(token), rows)
    conn.execute(sa.update(person).values(token_hash=None))


def downgrade() -> None:
    """Each person gets back the hash of their newest token still in force (0010 knows one token per person, and no
    expiry: a token that would expire later works without one again)."""
    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer()), sa.column('token_hash', sa.String(64)))
    token = sa.table('accesstoken', sa.column('id', sa.Integer()), sa.column('person_id', sa.Integer()),
                     sa.column('token_hash', sa.String(64)), sa.column('revoked_at', sa.DateTime(timezone=True)),
                     sa.column('expires_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    newest: dict[int, str] = {}
    for pid, digest, expires_at in conn.execute(sa.select(token.c.person_id, token.c.token_hash, token.c.expires_at)
                                                .where(token.c.revoked_at.is_(None)).order_by(token.c.id)):
        if expires_at is None or (expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)) > now:
            newest[pid] = digest
    for pid, digest in newest.items():
        conn.execute(sa.update(person).where(person.c.id == pid).values(token_hash=digest))
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_token_id'))
        batch_op.drop_index(batch_op.f('ix_websession_person_id'))
    op.drop_table('websession')
    with op.batch_alter_table('accesstoken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accesstoken_person_id'))
    op.drop_table('accesstoken')
