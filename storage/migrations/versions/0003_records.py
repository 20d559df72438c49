"""records: relatives' consent requests, encrypted visit results, the referral's issuing
visit and doctor (issue 9: family, visit results, history, referrals)

Revision ID: 0003_records
Revises: 0002_sources
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_records'
down_revision = '0002_sources'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('relative_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_user_id', sa.BigInteger(), nullable=False),
    sa.Column('target_user_id', sa.BigInteger(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('data_enc', sa.Text(), nullable=False),
    sa.Column('snils_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relative_requests'))
    )
    op.create_index(op.f('ix_relative_requests_owner_user_id'), 'relative_requests', ['owner_user_id'], unique=False)
    op.create_index(op.f('ix_relative_requests_target_user_id'), 'relative_requests', ['target_user_id'], unique=False)
    with op.batch_alter_table('visit_results') as batch:
        batch.add_column(sa.Column('data_enc', sa.Text(), nullable=True))
    with op.batch_alter_table('referrals') as batch:
        batch.add_column(sa.Column('source_appointment_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('doctor_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('doctor_id')
        batch.drop_column('source_appointment_id')
    with op.batch_alter_table('visit_results') as batch:
        batch.drop_column('data_enc')
    op.drop_index(op.f('ix_relative_requests_target_user_id'), table_name='relative_requests')
    op.drop_index(op.f('ix_relative_requests_owner_user_id'), table_name='relative_requests')
    op.drop_table('relative_requests')
