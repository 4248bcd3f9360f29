"""Login with Amazon: cached access tokens, one refresh when SP-API says the token expired."""

from __future__ import annotations

from pathlib import Path

import pytest
from adapters.amazon.sandbox import AmazonSandbox, SandboxApp
from pydantic import SecretStr, ValidationError

from odop_sync.adapter_sdk import AdapterConfigError, AuthenticationError
from tests.adapters.amazon.conftest import TIME_SCALE, amazon_env, listing


class TestLoginWithAmazon:
    async def test_one_token_serves_many_calls(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        async with amazon_env(sandbox) as env:
            await env.adapter.check_connection()
            await env.adapter.push_listings([listing(f"T-{n}") for n in range(5)])
        assert sandbox.call_count("lwa.token") == 1

    async def test_an_expired_token_is_refreshed_once_and_the_call_replayed(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        async with amazon_env(sandbox) as env:
            await env.adapter.check_connection()
            sandbox.expire_tokens()  # Amazon-side expiry the client could not foresee
            await env.adapter.check_connection()
            assert env.adapter.auth.refresh_count == 2  # type: ignore[attr-defined]
        assert sandbox.call_count("lwa.token") == 2
        assert sandbox.call_count("searchListingsItems") == 3  # 1 + refused + replayed

    async def test_a_token_near_its_expiry_is_refreshed_before_use(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        async with amazon_env(sandbox) as env:
            await env.adapter.check_connection()
            sandbox.clock.advance(3600 - 30)  # inside the 60 s refresh margin
            await env.adapter.check_connection()
        assert sandbox.call_count("lwa.token") == 2
        assert sandbox.call_count("searchListingsItems") == 2

    async def test_a_revoked_refresh_token_is_an_authentication_error(self) -> None:
        async with amazon_env(refresh_token=SecretStr("Atzr|revoked")) as env:
            with pytest.raises(AuthenticationError) as caught:
                await env.adapter.check_connection()
        assert caught.value.code == "invalid_grant"
        assert "Atzr|revoked" not in str(caught.value) + repr(caught.value)

    async def test_invalid_config_names_fields_but_never_values(self) -> None:
        async with amazon_env() as env:
            with pytest.raises(AdapterConfigError) as caught:
                type(env.adapter)(
                    {"seller_id": "", "lwa_client_secret": "s3cret"}, env.http, env.adapter.limiter
                )
        assert "s3cret" not in str(caught.value)
        assert "refresh_token" in str(caught.value)

    async def test_an_unreadable_product_type_map_is_a_config_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The operator's own copy of the map (ODOP_CONFIG_DIR/amazon/) wins over the packaged one.
        (tmp_path / "amazon").mkdir()
        (tmp_path / "amazon" / "product_types.toml").write_text("default_product_type = [")
        sandbox = AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp())
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
        with pytest.raises(AdapterConfigError, match="product type map unreadable"):
            async with amazon_env(sandbox):
                pass

    async def test_the_operators_product_type_map_is_the_one_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "amazon").mkdir()
        (tmp_path / "amazon" / "product_types.toml").write_text(
            'default_product_type = "RUG"\n'
            '[product_types.RUG]\nitem_type_keyword = "area-rugs"\nrequired = ["item_name"]\n'
        )
        sandbox = AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp())
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
        async with amazon_env(sandbox) as env:
            assert set(env.adapter.product_types.types) == {"RUG"}  # type: ignore[attr-defined]

    async def test_a_product_type_file_is_no_credential(self) -> None:
        with pytest.raises(ValidationError, match="product_types_file"):
            async with amazon_env(product_types_file="/etc/passwd"):
                pass
