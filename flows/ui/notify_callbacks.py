"""CallbackData of notification buttons: the reminder, clinic alternatives, wait-list offers.

The reminder's «Перенести» / «Отменить» reuse «Мои записи»'s own classes
(flows.ui.callbacks.ApMove / ApCancel), so pressing them enters that flow.
"""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class RmCome(SafeCallback, prefix="rc"):
    """«Приду» on the 24 h reminder."""

    a: int  # appointment id


class Rebook(SafeCallback, prefix="rbk"):
    """One tap on an alternative after a clinic cancellation: book slot t instead of a."""

    a: int  # the cancelled appointment
    t: int  # the offered slot


class WlOffer(SafeCallback, prefix="wo"):
    """«Записаться» (go=1) / «Пропустить» (go=0) on a wait-list offer."""

    e: int  # wait-list entry
    t: int  # offered slot
    go: int
