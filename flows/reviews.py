"""Reviews: the stars of the ask after a visit, an optional text, the doctor's reviews page.

The ask (bot/support_render.py) carries five score buttons for one completed
visit; pressing one saves or, within 7 days, changes the score; the text is
optional. «Отзывы» on a doctor card (RvDoctor) pages through the texts, with
the average and the number of scores; staff of the doctor's clinic see a
«Скрыть текст» button per review (the score stays). Every appointment or
review id from a button is checked (domain.reviews raises Stale).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from domain import reviews as svc
from domain.errors import Stale
from domain.models import StaffMember, User
from domain.policy import Policy
from flows.guards import Registered, Staff
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui.format import clip, fmt_day, local
from flows.ui.i18n import gettext as _
from flows.ui.review_callbacks import RvDoctor, RvHide, RvRate, RvText

router = Router(name="reviews")
PER_PAGE = 5


class ReviewSteps(StatesGroup):
    text = State()  # data: appointment_id
    hide_reason = State()  # data: review_id, doctor_id


def stars(score: int) -> str:
    return "★" * score + "☆" * (5 - score)


def rating_line(average: float | None, count: int) -> str:
    if average is None:
        return _("No scores yet.")
    return _("Rating {average} ★ · scores: {count}").format(average=average, count=count)


async def _say(query: CallbackQuery, text: str, markup: object = None) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup, parse_mode=None)  # type: ignore[arg-type]


@router.callback_query(RvRate.filter(), Registered())
async def on_rate(
    query: CallbackQuery,
    callback_data: RvRate,
    user: User,
    uow: svc.ReviewsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    review = await svc.rate(uow, user.id, callback_data.appointment_id, callback_data.score, now)
    until = local(review.created_at + timedelta(days=svc.EDIT_DAYS), policy.home_tz).date()
    text = _(
        "Thank you! Your score: {stars}. You may add a few words about the visit; the review "
        "can be changed until {day}."
    ).format(stars=stars(review.rating), day=fmt_day(until))
    a = callback_data.appointment_id
    markup = kb.inline(
        [
            [
                kb.button(_("Write a review"), RvText(appointment_id=a)),
                kb.button(_("No text"), RvText(appointment_id=a, action="skip")),
            ]
        ]
    )
    await _say(query, text, markup)


@router.callback_query(RvText.filter(F.action == "skip"), Registered())
async def on_skip(
    query: CallbackQuery, callback_data: RvText, user: User, uow: svc.ReviewsUnitOfWork
) -> None:
    await svc.own_review(uow, user.id, callback_data.appointment_id)
    await query.answer(_("Thank you!"))


@router.callback_query(RvText.filter(F.action == "text"), Registered())
async def on_write(
    query: CallbackQuery,
    callback_data: RvText,
    user: User,
    uow: svc.ReviewsUnitOfWork,
    state: FSMContext,
    now: datetime,
) -> None:
    review = await svc.own_review(uow, user.id, callback_data.appointment_id)
    if not review.editable(now):
        raise svc.ReviewLocked(str(review.id))
    await state.set_state(ReviewSteps.text)
    await state.set_data({"appointment_id": callback_data.appointment_id})
    await _say(
        query,
        _("Write your review in one message (up to {limit} characters).").format(
            limit=svc.MAX_TEXT
        ),
    )


@router.message(ReviewSteps.text, F.func(menu_ui.not_navigation), Registered())
async def on_text(
    message: Message, user: User, state: FSMContext, uow: svc.ReviewsUnitOfWork, now: datetime
) -> None:
    body = (message.text or "").strip()
    if not 0 < len(body) <= svc.MAX_TEXT:
        await message.answer(
            _("Please write the review as text, up to {limit} characters.").format(
                limit=svc.MAX_TEXT
            ),
            parse_mode=None,
        )
        return
    appointment_id = int((await state.get_data()).get("appointment_id", 0))
    await state.clear()
    review = await svc.write_text(uow, user.id, appointment_id, body, now)
    await message.answer(
        _("Your review is saved: {stars}.").format(stars=stars(review.rating)), parse_mode=None
    )


@router.callback_query(RvDoctor.filter())
async def on_doctor_reviews(
    query: CallbackQuery,
    callback_data: RvDoctor,
    uow: svc.ReviewsUnitOfWork,
    policy: Policy,
    staff: StaffMember | None = None,
) -> None:
    doctor_id, page = callback_data.doctor_id, callback_data.page
    rating = await uow.reviews.doctor_rating(doctor_id)
    if rating is None:
        raise Stale
    average, count = rating
    found, total = await uow.reviews.texts(doctor_id, PER_PAGE, page * PER_PAGE)
    moderator = staff is not None and any(
        staff.covers(c) for c in await uow.reviews.doctor_clinics(doctor_id)
    )
    lines = [rating_line(average, count)]
    rows = []
    for r in found:
        day = fmt_day(local(r.created_at, policy.home_tz).date())
        body = (
            _("(text hidden by the clinic: {reason})").format(reason=r.hidden_reason)
            if r.hidden
            else r.text
        )
        lines.append(f"\n{stars(r.rating)} · {day}\n{body}")
        if moderator and not r.hidden:
            rows.append(
                [kb.button(_("Hide text of {day}").format(day=day), RvHide(review_id=r.id))]
            )
    if not found:
        lines.append(_("No written reviews yet."))
    pages = max(1, -(-total // PER_PAGE))
    rows.append(kb.pager_row(page, pages, lambda p: RvDoctor(doctor_id=doctor_id, page=p)))
    await _say(query, clip("\n".join(lines)), kb.inline(rows))


@router.callback_query(RvHide.filter(), Staff())
async def on_hide(
    query: CallbackQuery,
    callback_data: RvHide,
    staff: StaffMember,
    uow: svc.ReviewsUnitOfWork,
    state: FSMContext,
) -> None:
    review = await uow.reviews.get(callback_data.review_id)
    clinics = await uow.reviews.doctor_clinics(review.doctor_id) if review else ()
    if review is None or not any(staff.covers(c) for c in clinics):
        raise Stale
    await state.set_state(ReviewSteps.hide_reason)
    await state.set_data({"review_id": review.id})
    await _say(query, _("Why is the text hidden? The reason is shown instead of it."))


@router.message(ReviewSteps.hide_reason, F.func(menu_ui.not_navigation), Staff())
async def on_hide_reason(
    message: Message,
    staff: StaffMember,
    state: FSMContext,
    uow: svc.ReviewsUnitOfWork,
    now: datetime,
) -> None:
    reason = (message.text or "").strip()
    if not 0 < len(reason) <= 300:
        await message.answer(_("Please type the reason, up to 300 characters."), parse_mode=None)
        return
    review_id = int((await state.get_data()).get("review_id", 0))
    await state.clear()
    assert message.from_user is not None
    review = await svc.hide_text(uow, staff, message.from_user.id, review_id, reason, now)
    await message.answer(
        _("The text is hidden; the score {stars} stays.").format(stars=stars(review.rating)),
        parse_mode=None,
    )
