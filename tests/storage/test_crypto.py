"""Encryption at rest: Fernet round trip, keyed lookup hashes, no plaintext in the raw columns."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.models import Sex
from storage.crypto import PersonalDataCipher
from storage.schema import patients, users
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW, TEST_KEY

OTHER_KEY = PersonalDataCipher.generate_key()
SNILS = "112-233-445 95"
POLICY = "8451999122899990"
EMAIL = "anna.petrova@example.org"
PHONE = "+79161234567"


def test_round_trip_and_none() -> None:
    c = PersonalDataCipher(TEST_KEY)
    for value in (SNILS, POLICY, EMAIL, "", "Ёлкина Д'Артаньян 🙂", "x" * 5000):
        token = c.encrypt(value)
        assert token is not None and token != value
        assert value == "" or value not in token
        assert c.decrypt(token) == value
    assert c.encrypt(None) is None
    assert c.decrypt(None) is None
    assert c.lookup_hash(None) is None


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=200))
def test_round_trip_property(value: str) -> None:
    c = PersonalDataCipher(TEST_KEY)
    assert c.decrypt(c.encrypt(value)) == value


def test_encryption_is_randomised() -> None:
    c = PersonalDataCipher(TEST_KEY)
    assert c.encrypt(SNILS) != c.encrypt(SNILS)  # equal values do not reveal themselves


def test_wrong_key_fails() -> None:
    token = PersonalDataCipher(TEST_KEY).encrypt(SNILS)
    with pytest.raises(ValueError, match="key"):
        PersonalDataCipher(OTHER_KEY).decrypt(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")  # type: ignore[index]
    with pytest.raises(ValueError):
        PersonalDataCipher(TEST_KEY).decrypt(tampered)


@pytest.mark.parametrize("bad", ["", "short", "not base64 at all!!", "A" * 43])
def test_malformed_key_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="encryption key"):
        PersonalDataCipher(bad)


def test_lookup_hash_is_stable_normalised_and_keyed() -> None:
    a = PersonalDataCipher(TEST_KEY)
    again = PersonalDataCipher(TEST_KEY)
    other = PersonalDataCipher(OTHER_KEY)
    h = a.lookup_hash(SNILS)
    assert h is not None and len(h) == 64
    assert again.lookup_hash(SNILS) == h  # stable across instances / restarts
    assert a.lookup_hash("11223344595") == h  # separators do not matter
    assert a.lookup_hash(" 112 233 445 95 ") == h
    assert a.lookup_hash("112-233-445 96") != h
    assert other.lookup_hash(SNILS) != h  # keyed: the database alone cannot be brute-forced
    assert "11223344595" not in h
    assert a.lookup_hash("Anna@Example.org") == a.lookup_hash("anna@example.org")


async def test_raw_columns_hold_no_plaintext(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(777, NOW)
        await uow.users.set_phone(777, PHONE)
        await uow.users.save_self_patient(
            777,
            surname="Петрова",
            name="Анна",
            patronymic="Сергеевна",
            birth_date=date(1990, 5, 17),
            sex=Sex.FEMALE,
            snils=SNILS,
            policy=POLICY,
            email=EMAIL,
            now=NOW,
        )
        await uow.commit()

    async with uow_factory.engine.connect() as conn:
        user_row = (await conn.execute(select(users).where(users.c.id == 777))).one()
        patient_row = (
            await conn.execute(select(patients).where(patients.c.owner_user_id == 777))
        ).one()
    raw = " ".join(str(v) for v in (*user_row, *patient_row))
    for secret in (SNILS, "11223344595", POLICY, EMAIL, PHONE, "9161234567"):
        assert secret not in raw

    cipher = uow_factory.cipher
    assert patient_row.snils_hash == cipher.lookup_hash(SNILS)
    assert cipher.decrypt(patient_row.snils_enc) == SNILS
    assert cipher.decrypt(patient_row.policy_enc) == POLICY
    assert cipher.decrypt(patient_row.email_enc) == EMAIL
    assert cipher.decrypt(user_row.phone_enc) == PHONE

    async with uow_factory() as uow:
        found = await uow.users.patients_with_snils("11223344595")
    assert [p.owner_user_id for p in found] == [777]
    assert found[0].snils == SNILS and found[0].policy == POLICY


def test_decryptions_are_remembered_per_key_and_bounded(monkeypatch) -> None:
    """The token → text memo: the same text without Fernet, never across keys, bounded."""
    import storage.crypto as crypto

    monkeypatch.setattr(crypto, "PLAIN_MEMO_MAX", 3)
    key = PersonalDataCipher.generate_key()
    writer, reader = PersonalDataCipher(key), PersonalDataCipher(key)
    token = writer.encrypt("Иванов")
    assert reader.decrypt(token) == "Иванов"  # decrypted by Fernet, then remembered
    calls: list[bytes] = []
    real = reader._fernet.decrypt
    monkeypatch.setattr(reader._fernet, "decrypt", lambda t: calls.append(t) or real(t))
    assert reader.decrypt(token) == "Иванов" and calls == []
    other = PersonalDataCipher(PersonalDataCipher.generate_key())
    with pytest.raises(ValueError):
        other.decrypt(token)  # another key's memo never answers for this one
    for text in ("a", "b", "c"):
        reader.decrypt(writer.encrypt(text))
    assert len(reader._plain) == 3 and token not in reader._plain  # oldest gone
    assert reader.decrypt(token) == "Иванов" and len(calls) == 4  # a, b, c and this one


def test_remembered_texts_expire_and_are_forgotten_at_erasure(monkeypatch) -> None:
    """An erased account's ciphertext is gone: the memo must not keep the last copy."""
    import storage.crypto as crypto

    clock = [1000.0]
    monkeypatch.setattr(crypto.time, "monotonic", lambda: clock[0])
    cipher = PersonalDataCipher(PersonalDataCipher.generate_key())
    token = cipher.encrypt("Иванов")
    assert any(text == "Иванов" for text, _ in cipher._plain.values())
    clock[0] += crypto.PLAIN_MEMO_SECONDS + 1
    cipher.encrypt("x")  # any use of the cipher drops what expired
    assert all(text != "Иванов" for text, _ in cipher._plain.values())
    assert cipher.decrypt(token) == "Иванов"  # decrypted again while the ciphertext exists
    cipher.forget()
    assert cipher._plain == {}


def test_sealed_texts_round_trip_and_need_the_key() -> None:
    """seal/unseal (the dialogue data, storage/fsm.py): AES-GCM under a key derived
    from the same secret; randomised, authenticated, no plaintext in the token."""
    c = PersonalDataCipher(TEST_KEY)
    for value in (SNILS, "", '{"name": "Ёлкина Д\'Артаньян 🙂"}', "x" * 5000):
        token = c.seal(value)
        assert value == "" or value not in token
        assert PersonalDataCipher(TEST_KEY).unseal(token) == value  # a fresh memo: decrypted
        assert c.unseal(token) == value
    assert c.seal(SNILS) != c.seal(SNILS)
    token = c.seal(SNILS)
    with pytest.raises(ValueError, match="key"):
        PersonalDataCipher(OTHER_KEY).unseal(token)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(ValueError):
        PersonalDataCipher(TEST_KEY).unseal(flipped)
    with pytest.raises(ValueError):
        PersonalDataCipher(TEST_KEY).unseal("not a token")
