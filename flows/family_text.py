"""Texts of «Мои близкие»: the list, a relative's card, relation names (plain text)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import DomainError
from domain.family import AlreadyInFamily, ConsentRequest, FamilyFull
from domain.models import Patient
from domain.validators import mask_policy, mask_snils
from flows.ui import profile_text as pt
from flows.ui.i18n import gettext as _


def relation_label(relation: str) -> str:
    labels = {
        "child": _("Child"),
        "spouse": _("Spouse"),
        "parent": _("Parent"),
        "other": _("Other relative"),
        "self": _("You"),
    }
    return labels.get(relation, labels["other"])


def family_text(relatives: Sequence[Patient], pending: Sequence[ConsentRequest], limit: int) -> str:
    lines = [
        _("My family ({count} of {limit}).").format(
            count=len(relatives) + len(pending), limit=limit
        )
    ]
    if not relatives and not pending:
        lines.append(
            _(
                "Add a child, spouse or parent to book visits for them and see their "
                "history. Press «Add a relative»."
            )
        )
    for n, relative in enumerate(relatives, 1):
        lines.append(
            _("{n}. {name} — {relation}, born {born}").format(
                n=n,
                name=relative.full_name,
                relation=relation_label(relative.relation).lower(),
                born=pt.fmt_date(relative.birth_date),
            )
        )
    for n, request in enumerate(pending, len(relatives) + 1):
        p = request.profile
        name = " ".join(x for x in (p.surname, p.name, p.patronymic) if x)
        lines.append(
            _("{n}. {name} — {relation}, awaiting consent").format(
                n=n, name=name, relation=relation_label(request.relation).lower()
            )
        )
    return "\n".join(lines)


def card(relative: Patient) -> str:
    lines = [
        relative.full_name,
        _("Relation: {relation}").format(relation=relation_label(relative.relation)),
        _("Date of birth: {born}").format(born=pt.fmt_date(relative.birth_date)),
        _("Sex: {sex}").format(sex=pt.sex_label(relative.sex)),
        _("SNILS: {snils}").format(snils=mask_snils(relative.snils or "")),
        _("OMS policy: {policy}").format(policy=mask_policy(relative.policy or "")),
    ]
    if relative.confirmed:
        lines.append(_("Confirmed by the attachment register."))
    return "\n".join(lines)


def records_refusal(error: DomainError) -> str | None:
    """Words for the refusals of issue 9's sections (flows/refusals.py asks here)."""
    if isinstance(error, FamilyFull):
        return _(
            "«My family» is full: remove a relative (or wait for a pending consent) to add "
            "another one."
        )
    if isinstance(error, AlreadyInFamily):
        return _("This person is already in «My family» (or it is you).")
    return None
