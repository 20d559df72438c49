"""Accounts and their patients (self and relatives); personal data encrypted at rest.

Full name, birth date, SNILS, policy, e-mail and phone go into ``*_enc``
(Fernet) and equality lookups use ``*_hash`` (keyed HMAC), so a raw dump of the
database shows none of them. Nothing is looked up or sorted by name or birth
date in SQL. ``erase`` sets all of them to NULL for /delete_me and unlinks what
is kept (the clinic's appointment records) from the Telegram account.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, case, delete, insert, select, update

from domain.accounts import RegisterCheck
from domain.errors import Duplicate, NotFound
from domain.models import AccountLevel, Patient, Sex, User
from domain.notifications import State
from storage.memo import read_memo
from storage.prepared import Prepared
from storage.repos.base import Repository, from_db_opt, to_db
from storage.schema import (
    appointment_events,
    appointments,
    attachments,
    calendar_feeds,
    certificate_requests,
    documents,
    fsm_states,
    holds,
    meta,
    outbox,
    patients,
    reviews,
    ticket_messages,
    tickets,
    users,
    wait_list,
)
from storage.uow import current_fsm_rows

SELF = "self"
_P = "pt__"  # label prefix of the patients' columns in _USER_WITH_PATIENTS
# The account and its live patients (self first, then relatives by id) in one statement.
_USER_WITH_PATIENTS = (
    select(users, *[c.label(_P + c.name) for c in patients.c])
    .outerjoin(patients, (patients.c.owner_user_id == users.c.id) & patients.c.deleted_at.is_(None))
    .where(users.c.id == bindparam("id"))
    .order_by((patients.c.relation != SELF), patients.c.id)
)
_F = "fsm__"  # label prefix of the dialogue row's columns in _USER_PATIENTS_DIALOGUE
# The same and the user's dialogue row (storage/fsm.py), joined on its key: what every
# update reads first, in one statement (bot/middlewares/database.py).
_USER_PATIENTS_DIALOGUE = (
    select(
        users,
        *[c.label(_P + c.name) for c in patients.c],
        *[fsm_states.c[name].label(_F + name) for name in ("key", "state", "data")],
    )
    .select_from(
        users.outerjoin(
            patients, (patients.c.owner_user_id == users.c.id) & patients.c.deleted_at.is_(None)
        ).outerjoin(fsm_states, fsm_states.c.key == bindparam("dialogue"))
    )
    .where(users.c.id == bindparam("id"))
    .order_by((patients.c.relation != SELF), patients.c.id)
)


class _Layout:
    """Where a user statement's columns are in its rows (found once, at import)."""

    __slots__ = ("dialogue", "patient_fields", "patient_id", "prepared", "user")

    def __init__(self, statement: Any) -> None:
        keys = [c.key for c in statement.selected_columns]
        self.prepared = Prepared(statement)
        self.user = tuple(
            keys.index(name)
            for name in (
                "id",
                "locale",
                "level",
                "phone_enc",
                "consent_at",
                "status",
                "unreachable",
                "notify_optout",
                "no_show_count",
            )
        )
        self.patient_fields = [(i, key[len(_P) :]) for i, key in enumerate(keys) if key[:4] == _P]
        self.patient_id = keys.index(_P + "id") if _P + "id" in keys else -1
        self.dialogue = (
            tuple(keys.index(_F + name) for name in ("state", "data", "key"))
            if _F + "key" in keys
            else (-1, -1, -1)
        )


_PATIENTS = _Layout(_USER_WITH_PATIENTS)
_DIALOGUE = _Layout(_USER_PATIENTS_DIALOGUE)
_PLAIN = _Layout(select(users))
# Erased patients (and the appointments kept for the clinic) belong to this
# placeholder account: no Telegram user has id 0, so nothing links them to a person.
ERASED_OWNER = 0


class UserRepository(Repository):
    # --- users -------------------------------------------------------------

    async def get(self, user_id: int, *, dialogue: str | None = None) -> User | None:
        """The account; its live patients come along in the same statement and are kept
        in the unit of work's read memo (storage/memo.py) for patients_of / patient.

        ``dialogue``: the key of the user's FSM row, read in the same statement and
        handed to the unit of work's dialogue rows (storage/fsm.py reads it from there);
        when the account does not exist the FSM storage reads the row itself.
        """
        memo = read_memo(self.conn)
        fsm_rows = current_fsm_rows.get() if dialogue is not None else None
        if memo is None:
            found = (await self.conn.execute(select(users).where(users.c.id == user_id))).first()
            return None if found is None else self._user(tuple(found), _PLAIN)
        if fsm_rows is not None:
            layout = _DIALOGUE
            rows = await layout.prepared.rows(self.conn, {"id": user_id, "dialogue": dialogue})
        else:
            layout = _PATIENTS
            rows = await layout.prepared.rows(self.conn, {"id": user_id})
        if not rows:
            return None
        row: tuple[Any, ...] = rows[0]
        if fsm_rows is not None and dialogue is not None and dialogue not in fsm_rows:
            state_at, data_at, key_at = layout.dialogue
            has_row = row[key_at] is not None
            fsm_rows[dialogue] = (row[state_at], row[data_at]) if has_row else None
        # The patients' columns by position (the same for every row): not a dict of all
        # of the row's columns per patient.
        fields = layout.patient_fields
        id_at = layout.patient_id
        memo[("patient_rows", user_id)] = [
            SimpleNamespace(**{name: r[i] for i, name in fields})
            for r in rows
            if r[id_at] is not None
        ]
        return self._user(row, layout)

    def _user(self, row: tuple[Any, ...], layout: _Layout) -> User:
        (id_, locale, level, phone_enc, consent_at, status, unreachable, optout, no_shows) = (
            row[i] for i in layout.user
        )
        return User(
            id=id_,
            locale=locale,
            level=AccountLevel(level),
            phone=self.cipher.decrypt(phone_enc),
            consent_at=from_db_opt(consent_at),
            status=status,
            unreachable=unreachable,
            notify_optout=frozenset(k for k in optout.split(",") if k),
            no_show_count=no_shows,
        )

    async def ensure(self, user_id: int, now: datetime) -> User:
        """The account row, created on first contact; an erased account starts afresh."""
        user = await self.get(user_id)
        if user is None:
            await self.conn.execute(
                insert(users).values(id=user_id, created_at=to_db(now), level="none")
            )
        elif user.status == "deleted":
            await self._update_user(user_id, status="active", deleted_at=None, level="none")
        else:
            return user
        created = await self.get(user_id)
        assert created is not None
        return created

    async def _update_user(self, user_id: int, **values: Any) -> None:
        result = await self.conn.execute(
            update(users).where(users.c.id == user_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound(f"user {user_id}")

    async def locales(self, user_ids: list[int]) -> dict[int, str]:
        """The language each of these accounts chose (staff pushes speak it); none: absent."""
        if not user_ids:
            return {}
        rows = await self.conn.execute(
            select(users.c.id, users.c.locale).where(
                users.c.id.in_(user_ids), users.c.locale.is_not(None)
            )
        )
        return {int(r.id): str(r.locale) for r in rows}

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._update_user(user_id, locale=locale)

    async def set_consent(self, user_id: int, at: datetime | None) -> None:
        await self._update_user(user_id, consent_at=None if at is None else to_db(at))

    async def set_phone(self, user_id: int, phone: str) -> None:
        await self._update_user(
            user_id, phone_enc=self.cipher.encrypt(phone), phone_hash=self.cipher.lookup_hash(phone)
        )

    async def set_level(self, user_id: int, level: AccountLevel) -> None:
        await self._update_user(user_id, level=level.value)

    # --- reachability (403 / my_chat_member) -------------------------------

    async def mark_unreachable(self, user_id: int) -> None:
        """The user blocked the bot; no such user yet is fine (nothing to mark)."""
        await self.conn.execute(update(users).where(users.c.id == user_id).values(unreachable=True))

    async def mark_reachable(self, user_id: int, now: datetime) -> int:
        """The user is back (any update, or an unblock): clear the mark and put the
        notices held while they were unreachable back in the queue, due now.
        Returns how many held notices were re-queued."""
        await self.conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.unreachable.is_(True))
            .values(unreachable=False)
        )
        result = await self.conn.execute(
            update(outbox)
            .where(outbox.c.user_id == user_id, outbox.c.state == State.HELD)
            .values(
                state=State.PENDING,
                due_at=case((outbox.c.due_at < to_db(now), to_db(now)), else_=outbox.c.due_at),
                claimed_by=None,
                claimed_until=None,
            )
        )
        return int(result.rowcount)

    # --- patients ----------------------------------------------------------

    def _patient(self, row: Any) -> Patient:
        surname, name, patronymic = json.loads(self.cipher.decrypt(row.name_enc) or '["","",""]')
        born = self.cipher.decrypt(row.birth_date_enc)
        return Patient(
            id=row.id,
            owner_user_id=row.owner_user_id,
            relation=row.relation,
            surname=surname,
            name=name,
            patronymic=patronymic,
            birth_date=date.fromisoformat(born) if born else None,
            sex=Sex(row.sex) if row.sex else None,
            snils=self.cipher.decrypt(row.snils_enc),
            policy=self.cipher.decrypt(row.policy_enc),
            email=self.cipher.decrypt(row.email_enc),
            attached_clinic_id=row.attached_clinic_id,
            confirmed=row.confirmed,
        )

    def _patient_values(
        self,
        *,
        surname: str,
        name: str,
        patronymic: str,
        birth_date: date | None,
        sex: Sex | None,
        snils: str | None,
        policy: str | None,
        email: str | None,
    ) -> dict[str, Any]:
        full_name = json.dumps([surname, name, patronymic], ensure_ascii=False)
        return {
            "name_enc": self.cipher.encrypt(full_name),
            "birth_date_enc": self.cipher.encrypt(birth_date.isoformat() if birth_date else None),
            "sex": sex.value if sex else None,
            "snils_enc": self.cipher.encrypt(snils),
            "snils_hash": self.cipher.lookup_hash(snils),
            "policy_enc": self.cipher.encrypt(policy),
            "policy_hash": self.cipher.lookup_hash(policy),
            "email_enc": self.cipher.encrypt(email),
        }

    def _memo_patients(self, user_id: int) -> list[Patient] | None:
        """The user's live patients from this unit of work's read memo, if it has them."""
        memo = read_memo(self.conn)
        if memo is None:
            return None
        decoded: list[Patient] | None = memo.get(("patients_of", user_id))
        if decoded is None and ("patient_rows", user_id) in memo:
            decoded = [self._patient(r) for r in memo[("patient_rows", user_id)]]
            memo[("patients_of", user_id)] = decoded
        return decoded

    async def patient(self, patient_id: int) -> Patient | None:
        memo = read_memo(self.conn)
        for key in list(memo or ()):
            if key[0] in ("patient_rows", "patients_of"):
                for known in self._memo_patients(key[1]) or ():
                    if known.id == patient_id:
                        return known
        row = (
            await self.conn.execute(
                select(patients).where(patients.c.id == patient_id, patients.c.deleted_at.is_(None))
            )
        ).first()
        return None if row is None else self._patient(row)

    async def patients_of(self, user_id: int) -> list[Patient]:
        """Self first, then relatives in the order they were added."""
        known = self._memo_patients(user_id)
        if known is not None:
            return list(known)
        rows = await self.conn.execute(
            select(patients)
            .where(patients.c.owner_user_id == user_id, patients.c.deleted_at.is_(None))
            .order_by((patients.c.relation != SELF), patients.c.id)
        )
        return [self._patient(r) for r in rows]

    async def self_patient(self, user_id: int) -> Patient | None:
        known = self._memo_patients(user_id)
        if known is not None:
            return next((p for p in known if p.relation == SELF), None)
        row = (
            await self.conn.execute(
                select(patients).where(
                    patients.c.owner_user_id == user_id,
                    patients.c.relation == SELF,
                    patients.c.deleted_at.is_(None),
                )
            )
        ).first()
        return None if row is None else self._patient(row)

    async def patients_with_snils(self, snils: str) -> list[Patient]:
        """Every live patient row with this SNILS (any account, self or relative)."""
        rows = await self.conn.execute(
            select(patients).where(
                patients.c.snils_hash == self.cipher.lookup_hash(snils),
                patients.c.deleted_at.is_(None),
            )
        )
        return [self._patient(r) for r in rows]

    async def save_self_patient(
        self,
        user_id: int,
        *,
        surname: str,
        name: str,
        patronymic: str,
        birth_date: date | None,
        sex: Sex | None,
        snils: str | None,
        policy: str | None,
        email: str | None,
        now: datetime,
    ) -> Patient:
        """Insert or overwrite the account holder's own patient record.

        Raises Duplicate when the SNILS is already the self patient of another account.
        """
        if snils is not None:
            for other in await self.patients_with_snils(snils):
                if other.relation == SELF and other.owner_user_id != user_id:
                    raise Duplicate("snils")
        values = self._patient_values(
            surname=surname,
            name=name,
            patronymic=patronymic,
            birth_date=birth_date,
            sex=sex,
            snils=snils,
            policy=policy,
            email=email,
        )
        existing = await self.self_patient(user_id)
        if existing is None:
            result = await self.conn.execute(
                insert(patients).values(
                    owner_user_id=user_id, relation=SELF, created_at=to_db(now), **values
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            patient_id = int(key[0])
        else:
            patient_id = existing.id
            await self.conn.execute(
                update(patients).where(patients.c.id == patient_id).values(**values)
            )
        saved = await self.patient(patient_id)
        assert saved is not None
        return saved

    async def set_confirmation(
        self, patient_id: int, *, confirmed: bool, clinic_id: int | None
    ) -> None:
        await self.conn.execute(
            update(patients)
            .where(patients.c.id == patient_id)
            .values(confirmed=confirmed, attached_clinic_id=clinic_id)
        )

    async def register_check(self, patient: Patient) -> RegisterCheck | None:
        """The register's entry for the patient's SNILS + policy, compared field by field
        with the patient (hash against hash: the register holds no plaintext)."""
        row = (
            await self.conn.execute(
                select(attachments).where(
                    attachments.c.snils_hash == self.cipher.lookup_hash(patient.snils),
                    attachments.c.policy_hash == self.cipher.lookup_hash(patient.policy),
                )
            )
        ).first()
        if row is None or row.name_hash is None:
            return None  # not listed, or a register row loaded before 0002 (no person data)
        c = self.cipher
        born = patient.birth_date.isoformat() if patient.birth_date else ""
        sex = patient.sex.value if patient.sex else ""
        return RegisterCheck(
            clinic_id=int(row.clinic_id),
            name_ok=row.name_hash == c.name_hash(patient.surname, patient.name, patient.patronymic),
            birth_date_ok=row.birth_date_hash == c.tagged_hash("birth", born),
            sex_ok=row.sex_hash == c.tagged_hash("sex", sex),
        )

    # Failed register matches per SNILS (keyed by its lookup hash, never the number),
    # kept in ``meta`` as a list of ISO instants within the window.
    def _miss_key(self, snils: str) -> str:
        return "regmiss:" + (self.cipher.lookup_hash(snils) or "")[:40]

    async def _misses(self, key: str) -> list[datetime]:
        value = (await self.conn.execute(select(meta.c.value).where(meta.c.key == key))).scalar()
        return [datetime.fromisoformat(x) for x in json.loads(value)] if value else []

    async def register_misses(self, snils: str, since: datetime) -> int:
        return sum(1 for at in await self._misses(self._miss_key(snils)) if at >= since)

    async def add_register_miss(self, snils: str, now: datetime) -> None:
        key = self._miss_key(snils)
        recent = [at for at in await self._misses(key) if at > now - timedelta(days=1)]
        value = json.dumps([at.isoformat() for at in [*recent, now]])
        await self.conn.execute(delete(meta).where(meta.c.key == key))
        await self.conn.execute(insert(meta).values(key=key, value=value))

    # --- /delete_me --------------------------------------------------------

    async def erase(self, user_id: int, now: datetime) -> None:
        """Remove every personal-data value of the account and its patients (NULL or
        row deleted) and unlink what is kept from the Telegram id.

        Kept, for the clinic's records: appointments and their history, under a
        patient row with no data owned by the placeholder account
        ERASED_OWNER (as is ``appointments.user_id``), so a new registration
        from the same Telegram account sees none of it. Documents, certificate requests,
        support tickets, holds, wait-list entries and the account's
        notifications go. The journal is anonymised by the caller.
        """
        # The texts this process remembers (storage/crypto.py) would outlive the
        # ciphertext: gone now (other processes' expire within PLAIN_MEMO_SECONDS).
        self.cipher.forget()
        moment = to_db(now)
        await self.insert_unless_conflict(
            users,
            {"id": ERASED_OWNER, "created_at": moment, "level": "none", "status": "deleted"},
        )
        await self.conn.execute(
            update(patients)
            .where(patients.c.owner_user_id == user_id)
            .values(
                owner_user_id=ERASED_OWNER,
                name_enc=None,
                birth_date_enc=None,
                sex=None,
                snils_enc=None,
                snils_hash=None,
                policy_enc=None,
                policy_hash=None,
                email_enc=None,
                attached_clinic_id=None,
                confirmed=False,
                deleted_at=moment,
            )
        )
        await self.conn.execute(
            update(appointments)
            .where(appointments.c.user_id == user_id)
            .values(user_id=ERASED_OWNER)
        )
        await self.conn.execute(
            update(appointment_events)
            .where(appointment_events.c.actor_user_id == user_id)
            .values(actor_user_id=None)
        )
        await self.conn.execute(delete(documents).where(documents.c.user_id == user_id))
        await self.conn.execute(
            delete(certificate_requests).where(certificate_requests.c.user_id == user_id)
        )
        await self.conn.execute(delete(ticket_messages).where(ticket_messages.c.user_id == user_id))
        await self.conn.execute(delete(tickets).where(tickets.c.user_id == user_id))
        await self.conn.execute(delete(calendar_feeds).where(calendar_feeds.c.user_id == user_id))
        await self.conn.execute(
            update(reviews).where(reviews.c.user_id == user_id).values(text="", user_id=None)
        )
        await self.conn.execute(delete(wait_list).where(wait_list.c.user_id == user_id))
        await self.conn.execute(delete(holds).where(holds.c.user_id == user_id))
        await self.conn.execute(delete(outbox).where(outbox.c.user_id == user_id))
        await self._update_user(
            user_id,
            phone_enc=None,
            phone_hash=None,
            consent_at=None,
            level=AccountLevel.NONE.value,
            status="deleted",
            deleted_at=moment,
            notify_optout="",
            unreachable=False,
            no_show_count=0,
        )
