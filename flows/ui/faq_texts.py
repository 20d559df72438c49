"""The FAQ of «Поддержка»: topics and entries, every text from the message catalogues.

The keywords line of an entry is not shown: it is what patients call the thing
(«талон», «номерок», «отменить», «не приду»), translated per language like the
rest, so the matcher (domain/faq.py) finds the entry in the patient's words.
Texts are functions: they are translated at call time, in the update's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.faq import Entry
from flows.ui.i18n import gettext as _


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: Callable[[], str]


@dataclass(frozen=True, slots=True)
class FaqItem:
    id: str
    topic: str
    question: Callable[[], str]
    keywords: Callable[[], str]
    answer: Callable[[], str]

    def entry(self) -> Entry:
        return Entry(self.id, self.question(), self.keywords(), self.answer())


TOPICS = (
    Topic("reg", lambda: _("Registration and confirmation")),
    Topic("book", lambda: _("Booking")),
    Topic("cancel", lambda: _("Cancelling and rescheduling")),
    Topic("remind", lambda: _("Reminders")),
    Topic("family", lambda: _("Family")),
    Topic("docs", lambda: _("Documents and certificates")),
    Topic("errors", lambda: _("Errors")),
)

ITEMS = (
    FaqItem(
        "reg_how",
        "reg",
        lambda: _("How do I register?"),
        lambda: _("faq-kw: register sign up start account create new profile begin"),
        lambda: _(
            "Send /start, choose the language, agree to the processing of personal data, share "
            "your phone with the button and type your full name, date of birth, sex, SNILS and "
            "OMS policy. It takes about two minutes."
        ),
    ),
    FaqItem(
        "reg_confirm",
        "reg",
        lambda: _("Why is my account not confirmed?"),
        lambda: _(
            "faq-kw: confirmed standard level verification check register attachment policy "
            "SNILS mismatch not confirmed"
        ),
        lambda: _(
            "An account is confirmed when your SNILS and OMS policy are listed in the clinic's "
            "attachment register with the same full name, date of birth and sex. Otherwise it "
            "is standard: you can book, but some specialists need confirmation. Check the data "
            "in «Profile», or use «Check policy» there."
        ),
    ),
    FaqItem(
        "reg_edit",
        "reg",
        lambda: _("How do I change my name, phone, SNILS or policy?"),
        lambda: _(
            "faq-kw: change edit correct mistake wrong data name surname phone number SNILS "
            "policy e-mail new"
        ),
        lambda: _(
            "Open «Profile» and press the field you want to change. A new phone, SNILS or policy "
            "is checked against the register again."
        ),
    ),
    FaqItem(
        "reg_delete",
        "reg",
        lambda: _("How do I delete my data?"),
        lambda: _("faq-kw: delete remove erase account data personal forget unsubscribe"),
        lambda: _(
            "«Profile» → «Delete my data» (or /delete_me) erases your personal data. The clinic "
            "keeps the anonymous record of past visits."
        ),
    ),
    FaqItem(
        "book_how",
        "book",
        lambda: _("How do I book a doctor?"),
        lambda: _(
            "faq-kw: book appointment make doctor visit ticket slot time therapist get an "
            "appointment see a doctor"
        ),
        lambda: _(
            "Press «Book a doctor», then choose the specialty, the clinic, the doctor, the day "
            "and the time, and confirm. The confirmation and a calendar file come in the chat."
        ),
    ),
    FaqItem(
        "book_referral",
        "book",
        lambda: _("Why does a specialist need a referral?"),
        lambda: _(
            "faq-kw: referral specialist cardiologist neurologist surgeon oculist ENT "
            "direction not available"
        ),
        lambda: _(
            "Some specialists take patients only with a referral from a therapist or a "
            "paediatrician (OMS rules). Book a therapist first; the referral they issue appears "
            "when you book the specialist."
        ),
    ),
    FaqItem(
        "book_limits",
        "book",
        lambda: _("Why can't I book?"),
        lambda: _(
            "faq-kw: cannot book refused limit restriction already booked one active per "
            "specialty daily limit blocked missed visits"
        ),
        lambda: _(
            "The bot says why when it refuses: you may already have an active appointment with "
            "this specialty, have reached the daily limit of bookings, or have missed several "
            "visits. Cancel an appointment you do not need in «My appointments» and try again."
        ),
    ),
    FaqItem(
        "book_no_slots",
        "book",
        lambda: _("There are no free times. What can I do?"),
        lambda: _(
            "faq-kw: no free slots times available nothing free busy wait list queue all taken"
        ),
        lambda: _(
            "Try another doctor or clinic, or join the wait list: when a time frees up, the bot "
            "offers it to you first."
        ),
    ),
    FaqItem(
        "cancel_how",
        "cancel",
        lambda: _("How do I cancel an appointment?"),
        lambda: _(
            "faq-kw: cancel appointment visit will not come not going refuse remove delete "
            "booking cancellation"
        ),
        lambda: _(
            "Open «My appointments», choose the visit and press «Cancel appointment». "
            "Please cancel in advance: the time goes to another patient."
        ),
    ),
    FaqItem(
        "move_how",
        "cancel",
        lambda: _("How do I reschedule an appointment?"),
        lambda: _(
            "faq-kw: reschedule move change time another day postpone transfer shift later earlier"
        ),
        lambda: _(
            "Open «My appointments», choose the visit and press «Reschedule»: pick a new time; "
            "the old one is freed only when the new one is booked."
        ),
    ),
    FaqItem(
        "cancel_late",
        "cancel",
        lambda: _("I am late or missed the visit. What happens?"),
        lambda: _("faq-kw: late missed no-show did not come forgot too late cancel window penalty"),
        lambda: _(
            "An appointment can be cancelled until it begins; less than a day before "
            "it, you are asked to confirm once more. A missed visit is counted; after "
            "several, booking may be limited. Call the clinic if you are late."
        ),
    ),
    FaqItem(
        "remind_when",
        "remind",
        lambda: _("When do reminders come?"),
        lambda: _("faq-kw: reminder remind notification message when before day hours night"),
        lambda: _(
            "A day and two hours before the visit, never at night (quiet hours). The day-ahead "
            "reminder has buttons to confirm, reschedule or cancel."
        ),
    ),
    FaqItem(
        "remind_off",
        "remind",
        lambda: _("How do I switch notifications off?"),
        lambda: _(
            "faq-kw: switch off turn off disable notifications reminders stop messages spam "
            "mute settings"
        ),
        lambda: _(
            "«Profile» → «Notifications»: choose which messages you want. A clinic's "
            "cancellation or move always comes."
        ),
    ),
    FaqItem(
        "family_book",
        "family",
        lambda: _("How do I book for a child or a relative?"),
        lambda: _(
            "faq-kw: child children son daughter relative family mother father wife husband "
            "kid parent for another person"
        ),
        lambda: _(
            "Add the relative in «My family» (their full name, date of birth, sex, "
            "SNILS and OMS policy are needed), then choose them as the patient when "
            "you book."
        ),
    ),
    FaqItem(
        "docs_confirmation",
        "docs",
        lambda: _("Where is my appointment confirmation or calendar file?"),
        lambda: _(
            "faq-kw: confirmation PDF print calendar ics file coupon voucher document of the "
            "appointment"
        ),
        lambda: _(
            "It comes right after booking. Later: «My appointments» → the visit → "
            "«PDF» or «Calendar (.ics)»; «All visits to calendar» gives one file with "
            "every upcoming visit."
        ),
    ),
    FaqItem(
        "docs_certificate",
        "docs",
        lambda: _("How do I get a medical certificate?"),
        lambda: _(
            "faq-kw: certificate medical certificate sick leave extract medical record "
            "analysis results documents upload"
        ),
        lambda: _(
            "Certificates and documents are in «Documents». If something is missing, write to "
            "support with the category «Documents»."
        ),
    ),
    FaqItem(
        "err_button",
        "errors",
        lambda: _("The bot says a button is out of date"),
        lambda: _("faq-kw: button out of date old does not work press nothing happens stale"),
        lambda: _(
            "The message with that button is old: things have changed since. Open the section "
            "again from the menu and use the new buttons."
        ),
    ),
    FaqItem(
        "err_bot",
        "errors",
        lambda: _("Something went wrong or the bot does not answer"),
        lambda: _(
            "faq-kw: error bug broken failure not working does not answer freezes crash code "
            "something went wrong"
        ),
        lambda: _(
            "Send /menu and try again. If the error repeats, write to support with the "
            "category «Technical problem» and the error code the bot showed."
        ),
    ),
    FaqItem(
        "err_complaint",
        "errors",
        lambda: _("How do I complain or contact the clinic?"),
        lambda: _(
            "faq-kw: complaint complain rude staff operator human person contact support "
            "write clinic phone call"
        ),
        lambda: _(
            "Write to support: choose the category, describe the problem; the clinic's staff "
            "answer here in the chat, usually within a working day."
        ),
    ),
)

BY_ID = {item.id: item for item in ITEMS}


def topic_title(topic_id: str) -> str:
    for topic in TOPICS:
        if topic.id == topic_id:
            return topic.title()
    return ""


def items_of(topic_id: str) -> list[FaqItem]:
    return [item for item in ITEMS if item.topic == topic_id]


def entries() -> list[Entry]:
    """Every entry in the current language (the matcher's input)."""
    return [item.entry() for item in ITEMS]
