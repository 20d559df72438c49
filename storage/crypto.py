"""Encryption at rest for personal data and keyed hashes for lookups.

Full names, birth dates, SNILS, policy numbers, e-mail, phone, document
metadata and dialogue data are stored as Fernet ciphertext; equality lookups
(find a patient by SNILS, match the attachment register on SNILS, policy,
name, birth date and sex) use an HMAC-SHA256 of the normalised value under a
key derived from the same secret, so the database alone reveals none of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from domain.validators import name_key


class PersonalDataCipher:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "encryption key must be 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from exc
        raw = base64.urlsafe_b64decode(key.encode())
        self._hash_key = hashlib.sha256(b"zapis-lookup:" + raw).digest()

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("ciphertext does not match the configured key") from exc

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
