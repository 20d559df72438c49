"""«Профиль» → «Проверить полис»: the attachment register is asked again, now.

The same check as at registration (domain.accounts.confirm): SNILS + policy
listed, and the listed person's name, birth date and sex are the patient's.
The answer names the attached clinic and the account level; an account that
was confirmed and no longer is hears so, with what that limits (documents and
certificates need a confirmed account — their section says the same when it
refuses; booking does not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from domain import accounts
from domain.models import AccountLevel, Clinic, User
from flows.guards import Registered
from flows.ui import profile_text as pt
from flows.ui.format import esc
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback

router = Router(name="policy_check")


class PcCheck(SafeCallback, prefix="pc"):
    pass


class ClinicLookup(Protocol):
    async def clinic(self, clinic_id: int) -> Clinic | None: ...


class PolicyCheckUoW(accounts.AccountsUoW, Protocol):
    @property
    def directory(self) -> ClinicLookup: ...


@router.callback_query(PcCheck.filter(), Registered())
async def on_check(query: CallbackQuery, user: User, uow: PolicyCheckUoW, now: datetime) -> None:
    before = user.level
    result = await accounts.confirm(uow, user.id, now)
    clinic = await uow.directory.clinic(result.clinic_id) if result.clinic_id else None
    lines = [_("The policy was checked against the attachment register just now.")]
    if result.confirmed:
        lines.append(
            _("Attached clinic: {clinic}.").format(clinic=esc(clinic.name) if clinic else "—")
        )
    lines.append(
        pt.level_line(result.level, clinic.name if clinic else None, result.to_check, result.locked)
    )
    if before == AccountLevel.CONFIRMED and not result.confirmed:
        lines.append(
            _(
                "Your policy is no longer confirmed by the register, so the account is standard "
                "now: booking still works, but documents and certificates need a confirmed "
                "account again. Check the policy number in «Profile» or ask your clinic's "
                "registry."
            )
        )
    elif before != AccountLevel.CONFIRMED and result.confirmed:
        lines.append(_("The account is confirmed now."))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer("\n\n".join(lines))
