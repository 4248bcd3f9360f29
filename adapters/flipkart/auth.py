"""Flipkart's client-credentials flow (self-access application) as an httpx.Auth.

`GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api` with HTTP Basic
authentication of the application id and secret answers a bearer token valid for about 60 days
(docs: intro, "Generating Access Tokens"). It is reused until shortly before it expires; an
expired or revoked token gets 401 from the API, and then one fresh token is fetched and the
request replayed once."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from adapters.flipkart import wire
from odop_sync.adapter_sdk import Clock, OAuth2TokenAuth

TOKEN_OPERATION = "oauth.token"  # noqa: S105 - an operation name


class FlipkartAuth(OAuth2TokenAuth):
    def __init__(
        self,
        *,
        token_url: str,
        app_id: str,
        app_secret: SecretStr,
        scope: str = wire.DEFAULT_SCOPE,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            issuer="Flipkart",
            adapter="flipkart",
            operation=TOKEN_OPERATION,
            clock=clock,
            refresh_on=(401,),  # "If an expired Access Token is used, API requests fail with 401"
            refused="the application id and secret",
        )
        self.token_url = token_url
        self.app_id = app_id
        self.scope = scope
        self._app_secret = app_secret

    def token_request(self) -> httpx.Request:
        request = httpx.Request(
            "GET",
            self.token_url,
            params={"grant_type": "client_credentials", "scope": self.scope},
            headers={"Accept": "application/json"},
        )
        # Basic base64(appId:appSecret), as the docs' curl -u <appid>:<app-secret> sends it.
        basic = httpx.BasicAuth(self.app_id, self._app_secret.get_secret_value())
        return next(basic.auth_flow(request))
