"""slots.freed_at: when a booked slot was given back (cancel, move), for the wait list

Revision ID: 0002_booking
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_booking"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("freed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_column("freed_at")
