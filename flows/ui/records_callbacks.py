"""CallbackData of issue 9's sections that notices also carry (bot/notify_records.py):
the consent buttons of a relative request and a visit's «Подробнее» in history."""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class FmConsent(SafeCallback, prefix="fmc"):
    request_id: int
    approve: int  # 1 «Разрешить», 0 «Отклонить»


class HiOpen(SafeCallback, prefix="hio"):
    appointment_id: int


class HiList(SafeCallback, prefix="hil"):
    page: int = 0


class RfList(SafeCallback, prefix="rfl"):
    pass
