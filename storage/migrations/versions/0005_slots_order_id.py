"""the free-slot indexes end with the slot id: the nearest free times are read in
(start_utc, id) order — the alternatives' order, ties by id — straight from the index,
so a scan stops at its LIMIT instead of sorting every free slot of a specialty after
the lost one (issue 12's rush: many doctors share the same start times)

Revision ID: 0005_slots_order_id
Revises: 0004_staff_notice
"""
from alembic import op


revision = '0005_slots_order_id'
down_revision = '0004_staff_notice'
branch_labels = None
depends_on = None

_INDEXES = {
    'ix_slots_spec_region_free': ['specialty_id', 'region_id', 'status', 'start_utc'],
    'ix_slots_doctor_free': ['doctor_id', 'status', 'start_utc'],
}


def upgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [*columns, 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
