"""a findings submission's client id is unique per inspection, not across the database

A global uniqueness answered a client id another team had used with a 409, telling the caller that it exists
(issue 13, point 7). The id stays indexed: the evidence API looks a submission up by it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# SQLite's constraint has no name: the batch copy names it by this convention so that it can be dropped.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_OLD_PG = "submission_client_submission_id_key"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.drop_constraint(_OLD_PG, "submission", type_="unique")
    with op.batch_alter_table("submission", naming_convention=_CONVENTION, recreate="auto") as batch_op:
        if sqlite:
            batch_op.drop_constraint("uq_submission_client_submission_id", type_="unique")
        batch_op.create_unique_constraint("uq_submission_inspection_client_id", ["inspection_id", "client_submission_id"])
        batch_op.create_index("ix_submission_client_submission_id", ["client_submission_id"], unique=False)


def downgrade() -> None:
    old = "uq_submission_client_submission_id" if op.get_bind().dialect.name == "sqlite" else _OLD_PG
    with op.batch_alter_table("submission", naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_index("ix_submission_client_submission_id")
        batch_op.drop_constraint("uq_submission_inspection_client_id", type_="unique")
        batch_op.create_unique_constraint(old, ["client_submission_id"])
