from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "odop_"


def generate_key() -> tuple[str, str, str]:
    """A new key as (plaintext, display prefix, digest); the plaintext is shown once only."""
    token = secrets.token_urlsafe(32)
    plaintext = KEY_PREFIX + token
    return plaintext, plaintext[: len(KEY_PREFIX) + 6], digest_key(plaintext)


def digest_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()
