"""Booking use cases: hold, book, cancel, reschedule, list, confirm attendance, mark a visit.

The public face of the booking services: callers write ``from domain import
booking`` and ``booking.book(...)``; the code lives by concern in
domain/booking_rules.py (policy, ownership, the rules, the journal),
domain/booking_take.py (hold, book, list), domain/booking_cancel.py,
domain/booking_move.py (reschedule), domain/booking_visit.py (confirm, mark)
and domain/alternatives.py (the nearest free slots).

Every mutating service checks ownership first, then the rules, then changes
rows through the given unit of work — and never commits nor rolls back: the
update is the transaction (bot/middlewares/database.py commits after the
handler; a job commits at its entrypoint). A refusal raises a domain error
(domain/errors.py) having written nothing: where a write must come before the
last check (a move, a spent referral) that part runs in ``uow.savepoint()``.
Status changes go through domain/lifecycle.py (the transition table).

The slot is the unit of contention: it is taken by one conditional UPDATE
(``status='free'`` → ``'booked'``, rowcount 1) and released by the reverse,
so two patients can never hold one slot on SQLite or PostgreSQL, and the
partial unique index on active appointments is the last line of defence.
"""

from __future__ import annotations

from domain.alternatives import alternatives
from domain.booking_cancel import (
    block_doctor_time,
    cancel,
    cancel_all_for_account,
    cancel_by_clinic,
)
from domain.booking_move import reschedule, reschedule_by_clinic
from domain.booking_ports import Hold
from domain.booking_rules import ACTIVE, BookingPolicy, get_owned_appointment, local_day
from domain.booking_take import book, book_once, hold_slot, list_appointments, release_hold
from domain.booking_visit import confirm_attendance, mark_visit

__all__ = [
    "ACTIVE",
    "BookingPolicy",
    "Hold",
    "alternatives",
    "block_doctor_time",
    "book",
    "book_once",
    "cancel",
    "cancel_all_for_account",
    "cancel_by_clinic",
    "confirm_attendance",
    "get_owned_appointment",
    "hold_slot",
    "list_appointments",
    "local_day",
    "mark_visit",
    "release_hold",
    "reschedule",
    "reschedule_by_clinic",
]
