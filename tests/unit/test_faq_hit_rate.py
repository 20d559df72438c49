"""The FAQ matcher on questions patients really type: word forms, typos, no punctuation.

Each question names the entry a person answering by hand would pick. A hit is
that entry among the matcher's best three (the buttons the bot shows); the
rate must be at least 90 %, and it is printed (``pytest -s``) with the misses.
Noise («привет», a cat on the keyboard) must find nothing, so it falls through
to the menu's «Не понял сообщение».
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from domain.faq import FaqIndex
from flows.ui.faq_texts import BY_ID, entries

LOCALES = Path(__file__).resolve().parents[2] / "locales"

QUESTIONS: list[tuple[str, str]] = [
    ("Как отменить запись?", "cancel_how"),
    ("как отменить запесь к врачу", "cancel_how"),
    ("хочу отменить приём", "cancel_how"),
    ("не смогу прийти завтра что делать", "cancel_how"),
    ("отмена записи", "cancel_how"),
    ("как удалить запись к терапевту", "cancel_how"),
    ("я не приду к врачу, как сообщить", "cancel_how"),
    ("можно перенести запись на другой день?", "move_how"),
    ("как перенести прием", "move_how"),
    ("хочу поменять время приёма", "move_how"),
    ("перенос записи на попозже", "move_how"),
    ("как изменить время визита", "move_how"),
    ("перезаписаться на другое время", "move_how"),
    ("как записаться к врачу", "book_how"),
    ("как записатся к терапевту", "book_how"),
    ("запишите меня к доктору", "book_how"),
    ("где взять талон к врачу", "book_how"),
    ("как попасть на приём", "book_how"),
    ("хочу записаться на прием", "book_how"),
    ("почему нельзя записаться к кардиологу", "book_referral"),
    ("нужно ли направление к неврологу", "book_referral"),
    ("к окулисту без направления можно?", "book_referral"),
    ("где взять направление к специалисту", "book_referral"),
    ("не могу записаться пишет лимит", "book_limits"),
    ("почему мне отказали в записи", "book_limits"),
    ("бот не дает записаться второй раз к терапевту", "book_limits"),
    ("у меня ограничение на запись за пропуски", "book_limits"),
    ("нет свободных талонов", "book_no_slots"),
    ("все время занято что делать", "book_no_slots"),
    ("как встать в лист ожидания", "book_no_slots"),
    ("нет номерков к хирургу", "book_no_slots"),
    ("когда придет напоминание о приеме", "remind_when"),
    ("за сколько напоминаете", "remind_when"),
    ("будет ли напоминание ночью", "remind_when"),
    ("как отключить уведомления", "remind_off"),
    ("надоели напоминания, выключите", "remind_off"),
    ("не присылайте мне сообщения", "remind_off"),
    ("как выключить напоминалки", "remind_off"),
    ("как записать ребенка к педиатру", "family_book"),
    ("записать маму к врачу", "family_book"),
    ("можно записать дочку", "family_book"),
    ("как добавить родственника", "family_book"),
    ("хочу записать мужа", "family_book"),
    ("как зарегистрироватся", "reg_how"),
    ("регистрация в боте", "reg_how"),
    ("как начать пользоваться", "reg_how"),
    ("почему аккаунт не подтвержден", "reg_confirm"),
    ("что значит стандартный уровень", "reg_confirm"),
    ("полис не найден в регистре", "reg_confirm"),
    ("я прикреплен к поликлинике а бот не видит", "reg_confirm"),
    ("как поменять номер телефона", "reg_edit"),
    ("ошибся в фамилии как исправить", "reg_edit"),
    ("у меня новый полис", "reg_edit"),
    ("как удалить мои данные", "reg_delete"),
    ("удалите мой аккаунт", "reg_delete"),
    ("где скачать подтверждение записи", "docs_confirmation"),
    ("как добавить запись в календарь", "docs_confirmation"),
    ("нужно распечатать талон", "docs_confirmation"),
    ("как получить справку", "docs_certificate"),
    ("нужна справка для бассейна", "docs_certificate"),
    ("где мои анализы", "docs_certificate"),
    ("кнопка устарела что это", "err_button"),
    ("кнопки не работают", "err_button"),
    ("бот не отвечает", "err_bot"),
    ("ошибка при записи", "err_bot"),
    ("всё сломалось выдает ошибку", "err_bot"),
    ("хочу пожаловаться на регистратуру", "err_complaint"),
    ("как связаться с живым человеком", "err_complaint"),
    ("опоздал на прием что будет", "cancel_late"),
    ("пропустил приём", "cancel_late"),
    ("забыл прийти к врачу", "cancel_late"),
]

NOISE = ["привет", "ывапролдж", "спасибо", "ок", "12345"]


@pytest.fixture
def index() -> Iterator[FaqIndex]:
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("ru"):
        yield FaqIndex.build(entries(), "ru")


def test_top3_hit_rate_is_at_least_90_percent(index: FaqIndex) -> None:
    assert len(QUESTIONS) >= 60
    assert {expected for _, expected in QUESTIONS} <= set(BY_ID)
    misses = []
    topic_hits = 0
    for question, expected in QUESTIONS:
        found = [h.id for h in index.match(question, limit=3)]
        if expected not in found:
            misses.append((question, expected, found))
        if any(BY_ID[f].topic == BY_ID[expected].topic for f in found):
            topic_hits += 1
    rate = 1 - len(misses) / len(QUESTIONS)
    print(
        f"\nFAQ top-3 hit rate: {rate:.1%} of {len(QUESTIONS)} questions "
        f"(topic among top 3: {topic_hits / len(QUESTIONS):.1%})"
    )
    for question, expected, found in misses:
        print(f"  miss: {question!r}: expected {expected}, got {found}")
    assert rate >= 0.9


def test_noise_finds_nothing(index: FaqIndex) -> None:
    for text in NOISE:
        assert index.match(text) == [], text


def test_english_entries_match_english_questions() -> None:
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("en"):
        index = FaqIndex.build(entries(), "en")
    assert "cancel_how" in [h.id for h in index.match("how to cancel my appointment")]
    assert "remind_off" in [h.id for h in index.match("turn off notifications")]
