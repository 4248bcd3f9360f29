"""Credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from settings.

`ODOP_ENCRYPTION_KEY` may hold several comma-separated secrets: the first encrypts, all decrypt,
so a key can be rotated by prepending a new one and re-saving the accounts.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

_INFO = b"odop-sync credentials v1"


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted with the configured key(s)."""


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class CredentialCipher:
    def __init__(self, secret: SecretStr) -> None:
        secrets = [s.strip() for s in secret.get_secret_value().split(",") if s.strip()]
        if not secrets:
            raise ValueError("no encryption key configured (ODOP_ENCRYPTION_KEY)")
        self._fernet = MultiFernet([_derive(s) for s in secrets])

    def __repr__(self) -> str:
        return "CredentialCipher(<keys hidden>)"

    def encrypt(self, credentials: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise CredentialsUnreadable(
                "stored credentials cannot be decrypted: was ODOP_ENCRYPTION_KEY changed?"
            ) from None
        return data
