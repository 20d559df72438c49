"""Rules of domain/family.py without a bot: who must consent, duplicates, the limit."""

from __future__ import annotations

from datetime import date

import pytest

from domain.family import AlreadyInFamily, FamilyFull, check_room, consent_holder
from domain.models import Patient, Sex


def patient(owner: int, relation: str, pid: int = 1) -> Patient:
    return Patient(
        id=pid,
        owner_user_id=owner,
        relation=relation,
        surname="Иванова",
        name="Мария",
        patronymic="",
        birth_date=date(2017, 6, 15),
        sex=Sex.FEMALE,
        snils="157-384-920 01",
        policy="7700001234567895",
        email=None,
        attached_clinic_id=None,
        confirmed=False,
    )


def test_nobody_holds_the_person_so_nobody_is_asked() -> None:
    assert consent_holder(1001, []) is None


def test_a_person_with_an_account_of_their_own_is_asked_first() -> None:
    held = [patient(2002, "child", 1), patient(3003, "self", 2)]
    assert consent_holder(1001, held) == 3003


def test_another_accounts_relative_is_asked_through_that_account() -> None:
    assert consent_holder(1001, [patient(2002, "child")]) == 2002


def test_the_same_person_twice_or_the_holder_is_a_duplicate() -> None:
    with pytest.raises(AlreadyInFamily):
        consent_holder(1001, [patient(1001, "child")])
    with pytest.raises(AlreadyInFamily):
        consent_holder(1001, [patient(1001, "self")])


def test_the_limit_counts_pending_requests() -> None:
    check_room(4, 0, 5)
    with pytest.raises(FamilyFull):
        check_room(4, 1, 5)
    with pytest.raises(FamilyFull):
        check_room(5, 0, 5)
