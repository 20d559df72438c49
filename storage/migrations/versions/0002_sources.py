"""schedule sources: external ids of clinics, doctors, specialties, slots; patients' remote
ids; staff kept in the database (issue 11)

Revision ID: 0002_sources
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_sources'
down_revision = '0002_calendar'
branch_labels = None
depends_on = None

_SLOT_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('clinic_sources',
    sa.Column('clinic_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('district', sa.String(length=64), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_sources_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_clinic_sources')),
    sa.UniqueConstraint('source', 'external_id', name='uq_clinic_sources_external')
    )
    op.create_table('doctor_sources',
    sa.Column('doctor_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_doctor_sources_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_doctor_sources_doctor_id_doctors')),
    sa.PrimaryKeyConstraint('doctor_id', name=op.f('pk_doctor_sources')),
    sa.UniqueConstraint('clinic_id', 'external_id', name='uq_doctor_sources_external')
    )
    op.create_table('clinic_specialties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('fer_code', sa.String(length=16), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_specialties_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialties.id'], name=op.f('fk_clinic_specialties_specialty_id_specialties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_specialties')),
    sa.UniqueConstraint('clinic_id', 'external_id', name='uq_clinic_specialties_external')
    )
    op.create_table('slot_sources',
    sa.Column('slot_id', _SLOT_ID, nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('room', sa.String(length=64), server_default='', nullable=False),
    sa.Column('address', sa.String(length=512), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('slot_id', name=op.f('pk_slot_sources')),
    sa.UniqueConstraint('clinic_id', 'external_id', name='uq_slot_sources_external')
    )
    op.create_table('external_patients',
    sa.Column('patient_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clinic_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_external_patients_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_external_patients_patient_id_patients')),
    sa.PrimaryKeyConstraint('patient_id', 'clinic_id', name=op.f('pk_external_patients'))
    )
    op.create_table('staff_members',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('clinic_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('role', sa.String(length=16), server_default='registrar', nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_staff_members_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('user_id', 'clinic_id', name=op.f('pk_staff_members'))
    )
    op.create_table('fhir_links',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('fhir_id', sa.String(length=64), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('kind', 'fhir_id', name=op.f('pk_fhir_links'))
    )


def downgrade() -> None:
    for name in ('fhir_links', 'staff_members', 'external_patients', 'slot_sources', 'clinic_specialties',
                 'doctor_sources', 'clinic_sources'):
        op.drop_table(name)
