"""Sellers, authorisation codes and tokens of the Alibaba.com sandbox (PROTOCOL.md §2).

- A code (the browser consent step, §2.1) is one-time and lives 30 minutes (U-GUIDE, U-REF);
  the sandbox hands them out on `POST /_sandbox/codes/{seller}`. The demo code is re-usable
  (contract note: demos can be re-run).
- `/auth/token/create` exchanges a code, `/auth/token/refresh` a refresh token, for an access
  token (default life 864000 s = 10 days, the magnitude U-GUIDE shows) and a new refresh token
  (5184000 s = 60 days). Lives run on the sandbox clock, so they are time-scaled and
  `clock.advance` expires them.
- Refresh rotates (contract note, I): a new access token AND a new refresh token; the old
  refresh token stays valid for 60 s (so a crash right after a refresh is harmless), then dies.
  An access token handed out earlier lives on until its own expiry (I). The demo's standing
  refresh token never rotates out.
- Refresh tokens carry their own grant, signed with the sandbox's key (`_sealed`): a sandbox
  started again (every `make run`) still honours the refresh tokens an earlier run handed out
  and a seller's stored credentials rotated to, as the platform does across its restarts.
- `expires_in` comes back as a numeric string and `refresh_expires_in` as a number: PROTOCOL
  §2.2 has seen both forms, and a client must parse both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import zlib
from dataclasses import dataclass
from typing import Any

from adapters.alibaba.sandbox_gateway import BAD_CODE, BAD_REFRESH_TOKEN, GopError
from odop_sync.adapter_sdk.sandbox import SandboxClock

ACCESS_LIFE = 864_000.0
REFRESH_LIFE = 5_184_000.0
CODE_LIFE = 1_800.0
ROTATION_GRACE = 60.0
# The sandbox's own sealing key for refresh tokens (no secret of any app or seller).
_SEAL_KEY = b"odop-sync alibaba sandbox refresh-token seal"


@dataclass(frozen=True)
class Seller:
    """A seller account of the sandbox (what token create tells about it, §2.2)."""

    seller_id: str
    login: str
    country: str = "IN"
    display_name: str = "ODOP Demo Exports"

    @property
    def user_id(self) -> str:
        return str(2_200_000_000_000 + zlib.crc32(self.seller_id.encode()))

    @property
    def havana_id(self) -> str:
        return str(2_100_000_000_000 + zlib.crc32(self.seller_id.encode()))


@dataclass
class _Grant:
    app_key: str
    seller: str
    expires_at: float  # sandbox clock (monotonic) seconds


class TokenDesk:
    """Codes and tokens per app key and seller."""

    def __init__(
        self,
        clock: SandboxClock,
        *,
        access_life: float = ACCESS_LIFE,
        refresh_life: float = REFRESH_LIFE,
    ) -> None:
        self.clock = clock
        self.access_life = access_life
        self.refresh_life = refresh_life
        self.sellers: dict[str, Seller] = {}
        self._codes: dict[str, _Grant] = {}
        self._standing_codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._standing_refresh: dict[str, _Grant] = {}

    # setting up -----------------------------------------------------------------------------

    def seller(self, seller_id: str) -> Seller:
        if seller_id not in self.sellers:
            self.sellers[seller_id] = Seller(seller_id, f"{seller_id.lower()}@example.test")
        return self.sellers[seller_id]

    def standing(self, app_key: str, seller_id: str, *, code: str, refresh_token: str) -> None:
        """A re-usable code and a refresh token that never rotates out (the demo's)."""
        self.seller(seller_id)
        self._standing_codes[code] = _Grant(app_key, seller_id, float("inf"))
        self._standing_refresh[refresh_token] = _Grant(app_key, seller_id, float("inf"))

    def issue_code(self, app_key: str, seller_id: str) -> str:
        self.seller(seller_id)
        code = "code-" + secrets.token_hex(12)
        self._codes[code] = _Grant(app_key, seller_id, self.clock.monotonic() + CODE_LIFE)
        return code

    # the token calls ------------------------------------------------------------------------

    def create(self, app_key: str, code: str) -> dict[str, Any]:
        """§2.2; GopError InvalidCode for a code unknown, used, expired or another app's."""
        now = self.clock.monotonic()
        grant = self._standing_codes.get(code) or self._codes.pop(code, None)
        if grant is None or grant.app_key != app_key or now >= grant.expires_at:
            raise GopError(BAD_CODE, "the authorization code is invalid, used or expired")
        return self._tokens(grant)

    def refresh(self, app_key: str, token: str) -> dict[str, Any]:
        """§2.3; GopError IllegalRefreshToken for a token unknown, expired or another app's."""
        now = self.clock.monotonic()
        grant = (
            self._standing_refresh.get(token) or self._refresh.get(token) or self._unsealed(token)
        )
        if grant is None or grant.app_key != app_key or now >= grant.expires_at:
            raise GopError(BAD_REFRESH_TOKEN, "the refresh token is invalid or expired")
        if token in self._refresh:
            grant.expires_at = min(grant.expires_at, now + ROTATION_GRACE)
        return self._tokens(grant)

    def _tokens(self, grant: _Grant) -> dict[str, Any]:
        now = self.clock.monotonic()
        access = "acc-" + secrets.token_hex(16)
        wall_life = self.refresh_life / self.clock.time_scale
        refresh = _sealed(grant.app_key, grant.seller, time.time() + wall_life)
        self._access[access] = _Grant(grant.app_key, grant.seller, now + self.access_life)
        self._refresh[refresh] = _Grant(grant.app_key, grant.seller, now + self.refresh_life)
        seller = self.seller(grant.seller)
        wall_ms = int(self.clock.utcnow().timestamp() * 1000)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": str(int(self.access_life)),
            "refresh_expires_in": int(self.refresh_life),
            "expire_time": wall_ms + int(self.access_life * 1000),
            "refresh_token_valid_time": wall_ms + int(self.refresh_life * 1000),
            "account": seller.login,
            "account_id": seller.user_id,
            "account_platform": "seller_center",
            "country": seller.country,
            "seller_id": seller.seller_id,
            "user_id": seller.user_id,
            "havana_id": seller.havana_id,
            "user_info": {
                "country": seller.country,
                "loginId": seller.login,
                "user_id": seller.user_id,
                "seller_id": seller.seller_id,
            },
        }

    def _unsealed(self, token: str) -> _Grant | None:
        """A refresh token an earlier run of the sandbox handed out (not revoked by a refresh
        in this run: those are in `_refresh`), if its seal and wall-clock expiry hold."""
        opened = _open(token)
        if opened is None:
            return None
        app_key, seller, expires_wall = opened
        left = expires_wall - time.time()
        if left <= 0:
            return None
        self.seller(seller)
        grant = _Grant(app_key, seller, self.clock.monotonic() + left * self.clock.time_scale)
        self._refresh[token] = grant
        return grant

    # the gateway's questions ----------------------------------------------------------------

    def seller_of(self, app_key: str, access_token: str) -> str | None:
        """The seller an access token speaks for; None if unknown, expired or another app's."""
        grant = self._access.get(access_token)
        if grant is None or grant.app_key != app_key:
            return None
        return grant.seller if self.clock.monotonic() < grant.expires_at else None

    def holder(self, access_token: str | None) -> str | None:
        """Whose token this is, valid or not (to match a fault to its seller)."""
        grant = self._access.get(access_token or "")
        return grant.seller if grant else None

    def expire_access(self) -> None:
        """Every access token handed out so far dies now."""
        for grant in self._access.values():
            grant.expires_at = self.clock.monotonic() - 1

    def issued(self) -> set[str]:
        return {
            *self._codes,
            *self._standing_codes,
            *self._access,
            *self._refresh,
            *self._standing_refresh,
        }


def _sealed(app_key: str, seller: str, expires_wall: float) -> str:
    body = json.dumps(
        {"a": app_key, "s": seller, "e": int(expires_wall), "n": secrets.token_hex(8)},
        separators=(",", ":"),
    ).encode()
    text = base64.urlsafe_b64encode(body).decode().rstrip("=")
    mac = hmac.new(_SEAL_KEY, text.encode(), hashlib.sha256).hexdigest()[:32]
    return f"ref-{text}.{mac}"


def _open(token: str) -> tuple[str, str, float] | None:
    if not token.startswith("ref-") or "." not in token:
        return None
    text, mac = token[4:].rsplit(".", 1)
    want = hmac.new(_SEAL_KEY, text.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, want):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return str(body["a"]), str(body["s"]), float(body["e"])
    except (ValueError, KeyError, TypeError):
        return None
