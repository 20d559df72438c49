"""«Разрешить» / «Отклонить» on a relative request, pressed in the asked account's chat.

Only the account the request was sent to, only while it waits (anything else —
another account's forged button, a second press — is «Эта кнопка устарела» and
changes nothing, domain/family.py ``decide``). The asking account hears the
answer through the outbox.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.types import CallbackQuery

from domain import family
from domain.models import User
from flows.booking_common import show
from flows.guards import Registered
from flows.ui.i18n import gettext as _
from flows.ui.records_callbacks import FmConsent

router = Router(name="family_consent")


@router.callback_query(FmConsent.filter(), Registered())
async def on_consent(
    query: CallbackQuery,
    callback_data: FmConsent,
    user: User,
    uow: family.FamilyUoW,
    now: datetime,
) -> None:
    request = await family.decide(
        uow, now, user.id, callback_data.request_id, approve=bool(callback_data.approve)
    )
    owner = await uow.family.self_patient(request.owner_user_id)
    p = request.profile
    person = " ".join(x for x in (p.surname, p.name, p.patronymic) if x)
    asker = owner.full_name if owner else "—"
    if request.status == family.RequestStatus.APPROVED:
        text = _(
            "Done: {person} is added to the family of {asker}. They can now book visits "
            "for this person and see their visit history."
        )
    else:
        text = _("You declined: {person} is not added to the family of {asker}.")
    await show(query, text.format(person=person, asker=asker))
