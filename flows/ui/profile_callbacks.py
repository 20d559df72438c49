"""CallbackData of «Профиль» and its «Уведомления» screen.

Kept apart from both flows so each imports them at module top: the profile
opens the notification settings and the settings' «Назад» returns to the
profile (no import cycle between flows/profile.py and flows/notify_settings.py).
The buttons carry no ids: they act only on the sender's own account.
"""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class ProfileCb(SafeCallback, prefix="pf"):
    action: str  # show|edit|lang|setlang|delete|erase
    arg: str = ""  # the field to edit (edit) or the language code (setlang)


class NsOpen(SafeCallback, prefix="ns"):
    """«Уведомления» in the profile."""


class NsToggle(SafeCallback, prefix="nt"):
    kind: str  # r reminders | w wait-list offers | b booking confirmations
