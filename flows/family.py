"""«Мои близкие»: the list of relatives, a relative's card, removal — a parent books for a child.

The list shows each relative (and anyone still «ожидает согласия»); the rules — the
limit, duplicates, consent of another account — are domain/family.py's. Removing a
relative with upcoming visits asks first and cancels them (slots return, the wait
list is offered them). Adding is flows/family_add.py, editing flows/family_edit.py,
the consent buttons flows/family_consent.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import family
from domain.models import User
from domain.policy import Policy
from flows.booking_common import show
from flows.family_text import card, family_text
from flows.guards import Registered
from flows.ui import menu as menu_ui
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback

router = Router(name="family")


class Cipher(Protocol):
    def encrypt(self, value: str | None) -> str | None: ...
    def decrypt(self, token: str | None) -> str | None: ...


class FmList(SafeCallback, prefix="fml"):
    pass


class FmAdd(SafeCallback, prefix="fma"):
    pass


class FmRel(SafeCallback, prefix="fmr"):
    relation: str


class FmOpen(SafeCallback, prefix="fmo"):
    relative_id: int


class FmEdit(SafeCallback, prefix="fme"):
    relative_id: int
    field: str  # "" = choose the field; name|birth_date|sex|snils|policy


class FmWithdraw(SafeCallback, prefix="fmw"):
    request_id: int


class FmRemove(SafeCallback, prefix="fmd"):
    relative_id: int


class FmRemoveGo(SafeCallback, prefix="fmx"):
    relative_id: int


async def render_list(event: Message | CallbackQuery, uow: family.FamilyUoW, user: User,
                       policy: Policy, prefix: str = "") -> None:  # fmt: skip
    relatives = family.relatives_of(await uow.family.patients_of(user.id))
    pending = await uow.family.pending_requests(user.id)
    builder = InlineKeyboardBuilder()
    for relative in relatives:
        builder.button(text=relative.full_name, callback_data=FmOpen(relative_id=relative.id))
    for request in pending:
        builder.button(
            text=_("Withdraw the request: {name}").format(name=request.profile.surname),
            callback_data=FmWithdraw(request_id=request.id),
        )
    if len(relatives) + len(pending) < policy.max_relatives:
        builder.button(text=_("Add a relative"), callback_data=FmAdd())
    builder.adjust(1)
    text = family_text(relatives, pending, policy.max_relatives)
    await show(event, f"{prefix}\n\n{text}" if prefix else text, builder.as_markup())


# --- the section -----------------------------------------------------------------


@router.message(F.text == menu_ui.FAMILY, Registered())
async def on_family(
    message: Message, user: User, uow: family.FamilyUoW, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await render_list(message, uow, user, policy)


@router.callback_query(FmList.filter(), Registered())
async def on_list(
    query: CallbackQuery, user: User, uow: family.FamilyUoW, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await render_list(query, uow, user, policy)


@router.callback_query(FmOpen.filter(), Registered())
async def on_open(
    query: CallbackQuery, callback_data: FmOpen, user: User, uow: family.FamilyUoW
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Edit"), callback_data=FmEdit(relative_id=relative.id, field=""))
    builder.button(text=_("Remove"), callback_data=FmRemove(relative_id=relative.id))
    builder.button(text=_("Back"), callback_data=FmList())
    builder.adjust(1)
    await show(query, card(relative), builder.as_markup())


@router.callback_query(FmRemove.filter(), Registered())
async def on_remove(
    query: CallbackQuery, callback_data: FmRemove, user: User, uow: family.FamilyUoW, now: datetime
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    visits = await family.upcoming_visits(uow, now, user.id, relative.id)
    text = _("Remove {name} from «My family»?").format(name=relative.full_name)
    if visits:
        text += "\n" + _(
            "Their upcoming visits will be cancelled ({count}): the time goes back to the clinic."
        ).format(count=len(visits))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, remove"), callback_data=FmRemoveGo(relative_id=relative.id))
    builder.button(text=_("Back"), callback_data=FmOpen(relative_id=relative.id))
    builder.adjust(1)
    await show(query, text, builder.as_markup())


@router.callback_query(FmRemoveGo.filter(), Registered())
async def on_remove_go(
    query: CallbackQuery,
    callback_data: FmRemoveGo,
    user: User,
    uow: family.FamilyUoW,
    now: datetime,
    policy: Policy,
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    removed = await family.remove_relative(uow, now, user.id, relative.id)
    text = _("{name} is removed from «My family».").format(name=relative.full_name)
    if removed.visits:
        text += " " + _("Visits cancelled: {count}.").format(count=removed.visits)
    if removed.certificates:
        text += " " + _("Certificate requests withdrawn: {count}.").format(
            count=removed.certificates
        )
    await render_list(query, uow, user, policy, prefix=text)


# --- adding ----------------------------------------------------------------------


@router.callback_query(FmWithdraw.filter(), Registered())
async def on_withdraw(
    query: CallbackQuery,
    callback_data: FmWithdraw,
    user: User,
    uow: family.FamilyUoW,
    now: datetime,
    policy: Policy,
) -> None:
    await family.withdraw(uow, now, user.id, callback_data.request_id)
    await render_list(query, uow, user, policy, prefix=_("The request is withdrawn."))
