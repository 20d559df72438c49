"""staff told of what patients do: a new or replied ticket, a new or answered certificate
request waits in ``staff_notice_at`` until the support job tells the clinic's staff

Revision ID: 0004_staff_notice
Revises: 0003_emulator
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_staff_notice'
down_revision = '0003_emulator'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('tickets', 'certificate_requests'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('staff_notice_at', sa.DateTime(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_staff_notice_at'), ['staff_notice_at'], unique=False)


def downgrade() -> None:
    for table in ('tickets', 'certificate_requests'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_staff_notice_at'))
            batch_op.drop_column('staff_notice_at')
