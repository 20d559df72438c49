"""Accounts and their patients (self and relatives); personal data encrypted at rest.

Full name, birth date, SNILS, policy, e-mail and phone go into ``*_enc``
(Fernet) and equality lookups use ``*_hash`` (keyed HMAC), so a raw dump of the
database shows none of them. Nothing is looked up or sorted by name or birth
date in SQL. ``erase`` sets all of them to NULL for /delete_me and unlinks what
is kept (the clinic's appointment records) from the Telegram account.

The patients' own reads and writes are storage/repos/patients.py (a mixin of
this repository), the account's one-statement read storage/repos/user_sql.py.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import case, delete, insert, select, update

from domain.errors import NotFound
from domain.models import AccountLevel, User
from domain.notifications import State
from storage.memo import read_memo
from storage.repos.base import from_db_opt, to_db
from storage.repos.patients import PatientRecords
from storage.repos.user_sql import _DIALOGUE, _PATIENTS, _PLAIN, SELF, _Layout
from storage.schema import (
    appointment_events,
    appointments,
    calendar_feeds,
    certificate_requests,
    documents,
    holds,
    outbox,
    patients,
    reviews,
    ticket_messages,
    tickets,
    users,
    wait_list,
)
from storage.uow import current_fsm_rows

__all__ = ["ERASED_OWNER", "SELF", "UserRepository"]


# Erased patients (and the appointments kept for the clinic) belong to this
# placeholder account: no Telegram user has id 0, so nothing links them to a person.
ERASED_OWNER = 0


class UserRepository(PatientRecords):
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
