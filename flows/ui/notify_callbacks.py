"""CallbackData of notification buttons: the reminder, clinic alternatives, wait-list offers.

The reminder's «Перенести» / «Отменить» reuse «Мои записи»'s own classes
(flows.ui.callbacks.ApMove / ApCancel), so pressing them enters that flow.
"""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class RmCome(SafeCallback, prefix="rc"):
    """«Приду» on the 24 h reminder."""

    appointment_id: int


class Rebook(SafeCallback, prefix="rbk"):
    """One tap on an alternative after a clinic cancellation: book the slot instead."""

    appointment_id: int  # the cancelled appointment
    slot_id: int  # the offered slot


class WlOffer(SafeCallback, prefix="wo"):
    """«Записаться» (go=1) / «Пропустить» (go=0) on a wait-list offer."""

    entry_id: int  # wait-list entry
    slot_id: int  # offered slot
    go: int
