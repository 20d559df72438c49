"""The account's read in one statement, and where its columns are in the rows.

Every update reads the account first (with its live patients and, from the bot's
middleware, the dialogue row): storage/repos/users.py ``get`` runs one of these
prebuilt statements through storage/prepared.py and takes the columns by
position (``_Layout``, found once at import) instead of by name per row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from storage.prepared import Prepared
from storage.schema import fsm_states, patients, users

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
