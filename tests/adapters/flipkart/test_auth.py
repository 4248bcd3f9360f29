"""Flipkart's client-credentials token: reused until it expires, refreshed once on a 401."""

from __future__ import annotations

import pytest
from adapters.flipkart.sandbox import FlipkartSandbox
from pydantic import SecretStr

from odop_sync.adapter_sdk import AdapterConfigError, AuthenticationError
from tests.adapters.flipkart.conftest import TIME_SCALE, flipkart_env, listing


class TestClientCredentials:
    async def test_one_token_serves_many_calls(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.check_connection()
            await env.adapter.push_listings([listing(f"T-{n}") for n in range(25)])
        assert sandbox.call_count("oauth.token") == 1
        assert sandbox.call_count("createListings") == 3

    async def test_an_expired_token_is_refreshed_once_and_the_call_replayed(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.check_connection()
            sandbox.expire_tokens()  # Flipkart-side expiry the client could not foresee
            await env.adapter.check_connection()
            assert env.adapter.auth.refresh_count == 2  # type: ignore[attr-defined]
        assert sandbox.call_count("oauth.token") == 2
        assert sandbox.call_count("listingSearch") == 3  # 1 + refused + replayed

    async def test_a_token_near_its_expiry_is_refreshed_before_use(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE, token_ttl=3600)
        async with flipkart_env(sandbox) as env:
            await env.adapter.check_connection()
            sandbox.clock.advance(3600 - 30)  # inside the 60 s refresh margin
            await env.adapter.check_connection()
        assert sandbox.call_count("oauth.token") == 2
        assert sandbox.call_count("listingSearch") == 2

    async def test_a_401_that_outlives_the_refresh_is_refused_credentials_not_a_loop(
        self,
    ) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.check_connection()
            sandbox.faults.fail(401, operation="listingSearch", times=None)
            with pytest.raises(AuthenticationError):
                await env.adapter.check_connection()
        assert sandbox.call_count("oauth.token") == 2  # the first, and one refresh
        assert sandbox.call_count("listingSearch") == 3  # ok, refused, replayed and refused

    async def test_a_wrong_secret_is_an_authentication_error_that_hides_it(self) -> None:
        async with flipkart_env(app_secret=SecretStr("not-the-secret")) as env:
            with pytest.raises(AuthenticationError) as caught:
                await env.adapter.check_connection()
        assert caught.value.status_code == 401
        assert "not-the-secret" not in str(caught.value) + repr(caught.value)

    async def test_invalid_config_names_fields_but_never_values(self) -> None:
        async with flipkart_env() as env:
            with pytest.raises(AdapterConfigError) as caught:
                type(env.adapter)(
                    {"app_id": "x", "app_secret": "s3cret"}, env.http, env.adapter.limiter
                )
        assert "s3cret" not in str(caught.value)
        assert "location_id" in str(caught.value)
