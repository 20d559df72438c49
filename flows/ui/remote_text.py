"""What the patient reads when the schedule's owner (Gorzdrav) refused or did not answer.

Each message says what happened and the way forward: another time, the wait
list, or the clinic's registry by phone (issue 11).
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from domain.schedule_source import RemoteCancelFailed, RemoteRefused


def _call(phone: str) -> str:
    if phone:
        return _("You can also call the clinic's registry: {phone}.").format(phone=phone)
    return _("You can also call the clinic's registry.")


def remote_refusal_text(error: RemoteRefused) -> str:
    if isinstance(error, RemoteCancelFailed):
        return (
            _(
                "The clinic's registry did not confirm the cancellation, so your appointment "
                "is still active. Please try again in a few minutes."
            )
            + "\n"
            + _call(error.phone)
        )
    if error.kind == "patient_not_found":
        return (
            _(
                "The clinic's registry has no patient card with this full name and date of "
                "birth, so it cannot take the booking. Check the name and date of birth in "
                "«Profile», or register at the clinic."
            )
            + "\n"
            + _call(error.phone)
        )
    if error.kind == "unavailable":
        return (
            _(
                "The clinic's registry is not answering right now, so nothing was booked. "
                "Please try again in a few minutes or join the wait list."
            )
            + "\n"
            + _call(error.phone)
        )
    text = _("The clinic's registry refused the booking.")
    if error.message:
        text += " " + _("It said: «{message}».").format(message=error.message)
    return (
        text
        + "\n"
        + _("Please choose another time or join the wait list.")
        + "\n"
        + _call(error.phone)
    )
