"""Login with Amazon (LWA) as an httpx.Auth: a refresh_token grant for an access token, cached
until shortly before it expires and sent as `x-amz-access-token`.

SP-API answers 403 (sometimes 401) "The access token you provided has expired" when a cached
token died early (clock skew, revocation): the flow refreshes once and replays the request
(the caching and the one refresh are the SDK's OAuth2TokenAuth)."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from odop_sync.adapter_sdk import Clock, OAuth2TokenAuth

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name


class LwaAuth(OAuth2TokenAuth):
    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            issuer="Login with Amazon",
            adapter="amazon",
            operation="lwa.token",
            clock=clock,
            refresh_on=(401, 403),
            refused="the refresh token",
        )
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token

    def token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token.get_secret_value(),
                "client_id": self.client_id,
                "client_secret": self._client_secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
        )

    def authorize(self, request: httpx.Request, token: str) -> None:
        request.headers[ACCESS_TOKEN_HEADER] = token
