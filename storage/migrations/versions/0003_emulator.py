"""the offline emulator's chat history leaves the production schema (issue 8.5): the
console keeps its own tables (emulator/persistence.py, created by the emulator itself)

Revision ID: 0003_emulator
Revises: 0002_sources
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_emulator'
down_revision = '0003_support'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A console database may already hold it (made by 0001): dropped with its history;
    # the emulator creates its own on its next start.
    op.execute('DROP TABLE IF EXISTS emu_messages')


def downgrade() -> None:
    op.create_table('emu_messages',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('removed_keyboard', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', name=op.f('pk_emu_messages'))
    )
