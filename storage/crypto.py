"""Encryption at rest for personal data and keyed hashes for lookups.

Full names, birth dates, SNILS, policy numbers, e-mail, phone, document
metadata and dialogue data are stored as Fernet ciphertext; equality lookups
(find a patient by SNILS, match the attachment register on SNILS, policy,
name, birth date and sex) use an HMAC-SHA256 of the normalised value under a
key derived from the same secret, so the database alone reveals none of them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.validators import name_key

PLAIN_MEMO_MAX = 4096  # tokens remembered per cipher (a few hundred active users' fields)
# How long a remembered text is kept: the steps of one dialogue (seconds apart), not more.
# An erased account's texts leave every process's memo within this time of its next use.
PLAIN_MEMO_SECONDS = 60.0


class PersonalDataCipher:
    """Fernet for personal data, HMAC for lookups.

    Decryptions are remembered, token → text, for the last ``PLAIN_MEMO_MAX``
    tokens: every update decrypts the account's phone, the dialogue data and the
    patients' fields again (each ~15 µs, 6–7 per booking step). A Fernet token is
    never reused (random IV) and decrypts to one text under one key, so an entry
    can never be stale. Privacy: the memo holds, in this process's memory, values
    that this process has just decrypted for the users it is serving — and the
    same memory holds the key that decrypts everything; it adds nothing readable
    to a memory dump that the key does not already give while the ciphertext
    exists, and nothing is written anywhere. Once an account is erased its
    ciphertext is gone, so a remembered text would be the last copy: the memo
    keeps a text for ``PLAIN_MEMO_SECONDS`` at most (expired entries are dropped
    at every use of the cipher), and :meth:`forget` empties it at once in the
    process that erases.
    """

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "encryption key must be 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from exc
        raw = base64.urlsafe_b64decode(key.encode())
        self._hash_key = hashlib.sha256(b"zapis-lookup:" + raw).digest()
        # The dialogue data's key (seal/unseal), derived from the same secret like the
        # lookup key: AES-256-GCM under a key of its own.
        self._aead = AESGCM(hashlib.sha256(b"zapis-dialogue:" + raw).digest())
        # token -> (text, monotonic time it was remembered) (see the class docstring)
        self._plain: dict[str, tuple[str, float]] = {}

    def forget(self) -> None:
        """Drop every remembered text (an account was erased)."""
        self._plain.clear()

    def _expire(self, now: float) -> None:
        """Drop the entries older than PLAIN_MEMO_SECONDS (insertion order is age order)."""
        plain = self._plain
        # A worker thread (the notifier's documents) may be evicting at the same moment:
        # then it did.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            while plain:
                oldest = next(iter(plain))
                if now - plain[oldest][1] < PLAIN_MEMO_SECONDS and len(plain) < PLAIN_MEMO_MAX:
                    break
                del plain[oldest]

    def _remember(self, token: str, text: str) -> None:
        now = time.monotonic()
        self._expire(now)
        self._plain[token] = (text, now)

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        token = self._fernet.encrypt(value.encode()).decode()
        self._remember(token, value)  # what is written now is read by the next update
        return token

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        known = self._plain.get(token)
        if known is not None:
            if time.monotonic() - known[1] < PLAIN_MEMO_SECONDS:
                return known[0]
            self._expire(time.monotonic())
        try:
            text = self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("ciphertext does not match the configured key") from exc
        self._remember(token, text)
        return text

    def seal(self, value: str) -> str:
        """Encrypt a text written on every update (the dialogue data): AES-256-GCM.

        Fernet (AES-128-CBC + HMAC-SHA256) builds a cipher context, a padder and an
        HMAC object per token: ~40 µs of Python and OpenSSL set-up for a few hundred
        bytes, on every dialogue write. AES-GCM encrypts and authenticates in one call
        (~4 µs) under a key derived from the same secret (``zapis-dialogue:``), with a
        random 96-bit nonce per token (NIST SP 800-38D: up to 2³² random nonces per
        key; one dialogue write is one token). Token: urlsafe base64 of
        nonce ‖ ciphertext ‖ tag, without padding. Personal data in the repositories
        stays Fernet (:meth:`encrypt`).
        """
        nonce = os.urandom(12)
        token = base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None))
        text = token.rstrip(b"=").decode()
        self._remember(text, value)  # what is written now is read by the next update
        return text

    def unseal(self, token: str) -> str:
        """The text of a :meth:`seal` token (remembered like :meth:`decrypt`'s)."""
        known = self._plain.get(token)
        if known is not None:
            if time.monotonic() - known[1] < PLAIN_MEMO_SECONDS:
                return known[0]
            self._expire(time.monotonic())
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            text = self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except (InvalidTag, ValueError) as exc:
            raise ValueError("ciphertext does not match the configured key") from exc
        self._remember(token, text)
        return text

    def lookup_hash(self, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = "".join(ch for ch in value if ch.isalnum()).lower()
        return hmac.new(self._hash_key, normalised.encode(), hashlib.sha256).hexdigest()

    def name_hash(self, surname: str, name: str, patronymic: str) -> str:
        """Keyed hash of a full name in its matching form (domain.validators.name_key)."""
        return self.lookup_hash("name:" + name_key(surname, name, patronymic)) or ""

    def tagged_hash(self, tag: str, value: str) -> str:
        """Keyed hash of a short value (birth date, sex) under its own tag."""
        return self.lookup_hash(f"{tag}:{value}") or ""

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
