"""calendar identity of a visit: .ics UID kept across moves and its SEQUENCE

Revision ID: 0002_calendar
Revises: 0001
Create Date: 2026-11-30 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_calendar'
down_revision = '0002_booking'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_uid', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('calendar_seq', sa.Integer(), server_default='0', nullable=False))
    # Files sent so far carried the appointment's own number as UID: keep that identity.
    op.execute(
        "UPDATE appointments SET calendar_uid = 'appointment-' || number || '@zapis.bot'"
        " WHERE calendar_uid IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('calendar_seq')
        batch_op.drop_column('calendar_uid')
