"""The whole product's tables as SQLAlchemy Core, one schema for SQLite and PostgreSQL.

Instants are stored as naive UTC ``DateTime`` (both engines compare them the
same way; asyncpg wants naive values for ``TIMESTAMP WITHOUT TIME ZONE``).
Local dates of a clinic are ``Date``. Personal data columns end in ``_enc``
(Fernet ciphertext) and lookups go through ``_hash`` columns (keyed HMAC), so
a raw dump of the database never shows a patient's name, birth date, SNILS,
policy, phone or e-mail.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# Appointment states that occupy a slot; the partial unique index below makes
# "two active appointments on one slot" impossible at the database level.
ACTIVE_APPOINTMENT_STATES = ("pending", "confirmed")
_ACTIVE_SQL = "status IN ('pending', 'confirmed')"

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram user id
    Column("created_at", DateTime, nullable=False),
    Column("locale", String(8)),
    Column("consent_at", DateTime),
    Column("phone_enc", Text),
    Column("phone_hash", String(64), index=True),
    Column("level", String(16), nullable=False, server_default="none"),  # none|standard|confirmed
    Column("status", String(16), nullable=False, server_default="active"),  # active|deleted
    Column("unreachable", Boolean, nullable=False, server_default=text("false")),
    Column("notify_optout", Text, nullable=False, server_default=""),  # comma-separated kinds
    Column("no_show_count", Integer, nullable=False, server_default="0"),
    Column("deleted_at", DateTime),
)

regions = Table(
    "regions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name_ru", String(128), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("tz", String(64), nullable=False),
)

clinics = Table(
    "clinics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region_id", ForeignKey("regions.id"), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("address", String(512), nullable=False),
    Column("district", String(128), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default="adult"),  # adult|child|mixed
    Column("phone", String(32), nullable=False, server_default=""),
    Column("hours", String(128), nullable=False, server_default=""),
    Column("tz", String(64), nullable=False),
    Column("rating", Float, nullable=False, server_default="0"),
    Column("search_text", Text, nullable=False, server_default=""),  # lower-cased name + address
    Column("fhir_id", String(64), unique=True),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    # 0 (a placeholder account row) once the owner is erased: the row stays
    # only as the anonymous patient of the clinic's appointment records.
    Column("owner_user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("relation", String(16), nullable=False),  # self|child|spouse|parent|other
    Column("name_enc", Text),  # JSON [surname, name, patronymic], encrypted
    Column("birth_date_enc", Text),  # ISO date, encrypted
    Column("sex", String(1)),  # M|F
    Column("snils_enc", Text),
    Column("snils_hash", String(64), index=True),
    Column("policy_enc", Text),
    Column("policy_hash", String(64), index=True),
    Column("email_enc", Text),
    Column("attached_clinic_id", ForeignKey("clinics.id")),
    Column("confirmed", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime, nullable=False),
    Column("deleted_at", DateTime),
)

specialties = Table(
    "specialties",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_ru", String(128), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("referral_required", Boolean, nullable=False, server_default=text("false")),
    Column("min_age", Integer),
    Column("max_age", Integer),
    Column("sex", String(1)),
    Column("prep_ru", Text, nullable=False, server_default=""),
    Column("prep_en", Text, nullable=False, server_default=""),
)

doctors = Table(
    "doctors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("surname", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("patronymic", String(128), nullable=False, server_default=""),
    Column("qualification", String(128), nullable=False, server_default=""),
    Column("experience_years", Integer, nullable=False, server_default="0"),
    Column("rating_sum", Integer, nullable=False, server_default="0"),
    Column("rating_count", Integer, nullable=False, server_default="0"),
    Column("fhir_id", String(64), unique=True),
)

# PractitionerRole: a doctor works as a specialty in a clinic.
doctor_roles = Table(
    "doctor_roles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("doctor_id", ForeignKey("doctors.id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("specialty_id", ForeignKey("specialties.id"), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Index("ix_doctor_roles_clinic_spec", "clinic_id", "specialty_id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("role_id", ForeignKey("doctor_roles.id"), nullable=False),
    Column("day", Date, nullable=False),  # the clinic's local date
    Column("start", Time, nullable=False),
    Column("end", Time, nullable=False),
    Column("break_start", Time),
    Column("break_end", Time),
    Column("slot_minutes", Integer, nullable=False),
    UniqueConstraint("role_id", "day", name="uq_schedules_role_day"),
)

# Slots carry denormalised doctor/clinic/specialty/region ids so that every
# search is one index range scan (see bench/moscow.py).
slots = Table(
    "slots",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("role_id", ForeignKey("doctor_roles.id"), nullable=False),
    Column("doctor_id", Integer, nullable=False),
    Column("clinic_id", Integer, nullable=False),
    Column("specialty_id", Integer, nullable=False),
    Column("region_id", String(16), nullable=False),
    Column("start_utc", DateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("kind", String(16), nullable=False, server_default="consultation"),
    Column("status", String(16), nullable=False, server_default="free"),  # free|booked|blocked
    # When a booked slot was last given back (a cancel or a move): the wait list offers
    # only such freed time, never time that was simply never booked.
    Column("freed_at", DateTime),
    # The nearest free times in (start_utc, id) order straight from these two (the
    # alternatives' order; many doctors share start times): migration 0005_slots_order_id.
    Index("ix_slots_spec_region_free", "specialty_id", "region_id", "status", "start_utc", "id"),
    Index("ix_slots_doctor_free", "doctor_id", "status", "start_utc", "id"),
    Index("ix_slots_clinic_spec_free", "clinic_id", "specialty_id", "status", "start_utc"),
)

# One hold per user (primary key) and per slot (unique): opening a booking
# summary reserves the slot for a few minutes so confirming rarely fails.
holds = Table(
    "holds",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("slot_id", BigInteger, nullable=False, unique=True),
    Column("patient_id", Integer, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("purpose", String(16), nullable=False, server_default="book"),  # book|waitlist
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("specialty_id", ForeignKey("specialties.id"), nullable=False),
    Column("clinic_id", ForeignKey("clinics.id")),
    Column("issued_at", DateTime, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("used_appointment_id", Integer),
    Column("issued_by_user_id", BigInteger),
    # The visit that issued it and its doctor (0003_records): «Направления» names the doctor.
    Column("source_appointment_id", Integer),
    Column("doctor_id", Integer),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False, index=True),  # account that booked
    Column("slot_id", BigInteger, nullable=False),
    Column("doctor_id", Integer, nullable=False),
    Column("clinic_id", Integer, nullable=False),
    Column("specialty_id", Integer, nullable=False),
    Column("start_utc", DateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("kind", String(16), nullable=False, server_default="consultation"),
    # pending|confirmed|cancelled|rescheduled|completed|no_show
    Column("status", String(16), nullable=False),
    Column("referral_id", Integer),
    Column("cancelled_by", String(16)),  # patient|clinic|system
    Column("cancel_reason", Text),
    Column("rescheduled_to", Integer),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # The visit's calendar event: UID kept across moves, SEQUENCE of the last publish.
    Column("calendar_uid", String(96)),
    Column("calendar_seq", Integer, nullable=False, server_default="0"),
    Index(
        "uq_appointments_active_slot",
        "slot_id",
        unique=True,
        sqlite_where=text(_ACTIVE_SQL),
        postgresql_where=text(_ACTIVE_SQL),
    ),
    Index("ix_appointments_doctor_start", "doctor_id", "start_utc"),
)

appointment_events = Table(
    "appointment_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(16), nullable=False),  # patient|staff|system
    Column("actor_user_id", BigInteger),
    Column("reason", Text),
)

visit_results = Table(
    "visit_results",
    metadata,
    Column("appointment_id", ForeignKey("appointments.id"), primary_key=True),
    Column("conclusion", Text, nullable=False, server_default=""),
    Column("prescriptions", Text, nullable=False, server_default=""),
    Column("created_at", DateTime, nullable=False),
    Column("staff_user_id", BigInteger),
    # 0003_records: conclusion, recommendations and prescriptions as encrypted JSON
    # (medical data); the plaintext columns above stay empty.
    Column("data_enc", Text),
)

# «Мои близкие»: adding a person who holds an account of their own or is another
# account's relative waits for that account's consent (0003_records). The typed
# profile waits here encrypted; the patient row is created on approval.
relative_requests = Table(
    "relative_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_user_id", BigInteger, nullable=False, index=True),
    Column("target_user_id", BigInteger, nullable=False, index=True),
    Column("relation", String(16), nullable=False),
    Column("data_enc", Text, nullable=False),  # encrypted JSON of the typed profile
    Column("snils_hash", String(64), nullable=False),
    # pending|approved|declined|withdrawn
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("patient_id", Integer),
    Column("created_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
)

# Attachment register (прикрепление): keyed hashes only, never plaintext.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("snils_hash", String(64), nullable=False),
    Column("policy_hash", String(64), nullable=False),
    # The person the register lists: a confirmed account must match these too.
    Column("name_hash", String(64)),
    Column("birth_date_hash", String(64)),
    Column("sex_hash", String(64)),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    UniqueConstraint("snils_hash", "policy_hash", name="uq_attachments_person"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("user_id", BigInteger, nullable=False),  # recipient chat
    Column("due_at", DateTime, nullable=False),
    Column("payload", Text, nullable=False, server_default="{}"),  # JSON of ids, never text
    Column("idem_key", String(128), nullable=False, unique=True),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("urgent", Boolean, nullable=False, server_default=text("false")),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime),
    Column("sent_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Index("ix_outbox_due", "state", "due_at"),
)

journal = Table(
    "journal",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("user_id", BigInteger, index=True),  # NULL once the account is erased
    Column("subject", String(64), nullable=False, server_default=""),  # anonymised tag
    Column("at", DateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("appointment_id", Integer),
    Column("doctor_id", Integer),
    Column("details", Text, nullable=False, server_default="{}"),
)

# «Документы» (storage/repos/documents.py): the file stays at Telegram (resent by
# file_id); its title and file name are personal data, in meta_enc.
documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # pdf|jpg|png, by the file's magic bytes
    Column("sent_as", String(8), nullable=False),  # document|photo: how to send it back
    Column("tg_file_id", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("meta_enc", Text, nullable=False),  # encrypted JSON: title, file name
    Column("created_at", DateTime, nullable=False),
    Column("deleted_at", DateTime),
)

# «Справки» (storage/repos/certificates.py, domain/certificates.py). Texts typed by the
# patient or the clinic and the issued certificate's data are encrypted.
certificate_requests = Table(
    "certificate_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # pool|school|work|extract
    # submitted|in_review|more_info|ready|refused
    Column("status", String(16), nullable=False, server_default="submitted"),
    Column("purpose_enc", Text, nullable=False),
    Column("document_ids", Text, nullable=False, server_default="[]"),  # JSON list
    Column("question_enc", Text),  # the clinic's latest question
    Column("answer_enc", Text),  # the patient's latest answer
    Column("refusal_enc", Text),  # the reason of a refusal
    Column("sheet_enc", Text),  # encrypted JSON: what the issued certificate says
    Column("issued_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Submitted or answered by the patient, not yet told to the clinic's staff (bot/ticket_job.py).
    Column("staff_notice_at", DateTime, index=True),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("appointment_id", Integer, nullable=False, unique=True),  # one review per visit
    Column("doctor_id", Integer, nullable=False, index=True),
    Column("patient_id", Integer, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("created_at", DateTime, nullable=False),
    # Issue 10 (migration 0003_support): who wrote it, edits, staff hiding an abusive text.
    Column("user_id", BigInteger, index=True),
    Column("updated_at", DateTime),
    Column("hidden_at", DateTime),
    Column("hidden_by", BigInteger),
    Column("hidden_reason", Text),
)

# Support tickets (issue 10): the thread lives in ticket_messages, texts encrypted.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("clinic_id", Integer, index=True),
    Column("category", String(32), nullable=False),
    # new|in_progress|answered|closed
    Column("status", String(16), nullable=False, server_default="new"),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("escalate_at", DateTime, nullable=False),
    Column("answered_at", DateTime),
    Column("escalated_at", DateTime),
    # Opened or replied to by the patient, not yet told to the clinic's staff (bot/ticket_job.py).
    Column("staff_notice_at", DateTime, index=True),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False, index=True),  # the ticket's patient (erasure)
    Column("author", String(8), nullable=False),  # patient|staff
    Column("author_id", BigInteger, nullable=False),
    Column("text_enc", Text, nullable=False),
    Column("attachments_enc", Text),  # encrypted JSON list of Telegram file ids
    Column("at", DateTime, nullable=False),
)

# A private calendar subscription URL (/calendar/<token>.ics): only the token's hash is kept.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
)

wait_list = Table(
    "wait_list",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("specialty_id", Integer, nullable=False),
    Column("region_id", String(16), nullable=False),
    Column("doctor_id", Integer),
    Column("clinic_id", Integer),
    Column("date_from", Date),
    Column("date_to", Date),
    Column("time_of_day", String(16), nullable=False, server_default="any"),
    # active|offered|booked|left|expired
    Column("status", String(16), nullable=False, server_default="active"),
    Column("offered_slot_id", BigInteger),
    Column("offer_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Index("ix_wait_list_match", "specialty_id", "status", "created_at"),
)

fsm_states = Table(
    "fsm_states",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("state", String(200)),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("updated_at", DateTime),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ----------------------------------------------------------------------------- sources
# What a remote schedule owner (St Petersburg's Gorzdrav; a clinic's FHIR export) calls
# our rows. Side tables keyed by our ids, so the directory tables and every query on
# them stay as they are for the local source (issue 11, migration 0002_sources).

clinic_sources = Table(
    "clinic_sources",
    metadata,
    Column("clinic_id", ForeignKey("clinics.id"), primary_key=True, autoincrement=False),
    Column("source", String(16), nullable=False),  # gorzdrav|fhir
    Column("external_id", String(64), nullable=False),  # Gorzdrav lpuId (an integer as text)
    Column("district", String(64), nullable=False, server_default=""),
    UniqueConstraint("source", "external_id", name="uq_clinic_sources_external"),
)

# A doctor id of Gorzdrav ("п100.136") is unique only within one clinic.
doctor_sources = Table(
    "doctor_sources",
    metadata,
    Column("doctor_id", ForeignKey("doctors.id"), primary_key=True, autoincrement=False),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("external_id", String(64), nullable=False),
    UniqueConstraint("clinic_id", "external_id", name="uq_doctor_sources_external"),
)

# Specialty ids of Gorzdrav are local to a clinic; ``fer_code`` is the federal code.
clinic_specialties = Table(
    "clinic_specialties",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("specialty_id", ForeignKey("specialties.id"), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("fer_code", String(16), nullable=False, server_default=""),
    UniqueConstraint("clinic_id", "external_id", name="uq_clinic_specialties_external"),
)

# Gorzdrav slot ids look like "17.02.2025;10:30;п100.136"; slots carry a room and address.
slot_sources = Table(
    "slot_sources",
    metadata,
    Column("slot_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("clinic_id", Integer, nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("room", String(64), nullable=False, server_default=""),
    Column("address", String(512), nullable=False, server_default=""),
    UniqueConstraint("clinic_id", "external_id", name="uq_slot_sources_external"),
)

# The patient's id in a remote clinic's register (Gorzdrav patient/search), per clinic.
external_patients = Table(
    "external_patients",
    metadata,
    Column("patient_id", ForeignKey("patients.id"), primary_key=True, autoincrement=False),
    Column("clinic_id", ForeignKey("clinics.id"), primary_key=True, autoincrement=False),
    Column("external_id", String(64), nullable=False),
    Column("found_at", DateTime, nullable=False),
)

# Staff kept by the operator CLI (python -m bot staff add|remove|list), merged with
# ZAPIS_STAFF at start.
staff_members = Table(
    "staff_members",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("clinic_id", ForeignKey("clinics.id"), primary_key=True, autoincrement=False),
    Column("role", String(16), nullable=False, server_default="registrar"),
    Column("added_at", DateTime, nullable=False),
)

# FHIR ids of imported resources that have no column of their own (Location,
# HealthcareService, PractitionerRole, Schedule), so a re-import updates, not duplicates.
fhir_links = Table(
    "fhir_links",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("fhir_id", String(64), primary_key=True),
    Column("local_id", Integer),
    Column("data", Text, nullable=False, server_default="{}"),
)
