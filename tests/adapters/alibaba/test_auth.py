"""GOP signing (PROTOCOL §4) and seller tokens (§2.2/2.3): the documented worked example, what
the adapter signs and sends, token refresh before expiry and once on IllegalAccessToken, and a
rotated refresh token handed to the core."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import pytest
from adapters.alibaba.auth import sign, string_to_sign
from pydantic import SecretStr

from odop_sync.adapter_sdk import AdapterConfigError, AuthenticationError
from tests.adapters.alibaba.conftest import config, make_rig
from tests.adapters.alibaba.fake_gop import APP_SECRET, CODE, REFRESH, FakeGop, error, gop_sign

LIST = "/alibaba/icbu/product/list"
REFRESH_PATH = "/auth/token/refresh"


class TestSignature:
    def test_the_worked_example_of_section_4_2(self) -> None:
        params = {
            "app_key": "123456",
            "access_token": "test",
            "timestamp": "1517820392000",
            "sign_method": "sha256",
            "order_id": "1234",
        }
        assert string_to_sign("/order/get", params) == (
            "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256"
            "timestamp1517820392000"
        )
        assert (
            sign("helloworld", "/order/get", params)
            == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
        )

    def test_names_sort_by_byte_value_and_sign_and_empty_values_are_left_out(self) -> None:
        params = {"page_size": "3", "pageSize": "2", "page": "1", "Zeta": "z", "sign": "X", "e": ""}
        # §4.1 step 2: upper case before "_" before lower case.
        assert string_to_sign("/p", params) == "/pZetazpage1pageSize2page_size3"

    def test_a_dotted_top_name_is_signed_without_a_prefix(self) -> None:
        assert string_to_sign("alibaba.icbu.product.list", {"a": "1"}) == "a1"

    def test_non_ascii_values_are_signed_as_utf8(self) -> None:
        params = {"subject": "भदोही कालीन"}
        expected = (
            hmac.new(b"k", "/xsubjectभदोही कालीन".encode(), hashlib.sha256).hexdigest().upper()
        )
        assert sign("k", "/x", params) == expected


class TestWhatIsSent:
    async def test_every_call_is_signed_with_system_fields_and_no_empty_value(
        self, gop: FakeGop, router: Any
    ) -> None:
        async with make_rig(gop) as rig:
            await rig.adapter.check_connection()
        (refresh,) = gop.sent(REFRESH_PATH)
        assert set(refresh) == {"app_key", "timestamp", "sign_method", "refresh_token", "sign"}
        (listed,) = gop.sent(LIST)
        assert listed["method"] == LIST
        assert listed["format"] == "json"
        assert listed["sign_method"] == "sha256"
        assert listed["access_token"] == "AT-1"
        assert len(listed["timestamp"]) == 13
        assert listed["sign"] == gop_sign(APP_SECRET, LIST, listed)
        assert all(value != "" for value in listed.values())

    async def test_the_url_carries_the_path_below_rest(self, gop: FakeGop, router: Any) -> None:
        async with make_rig(gop) as rig:
            await rig.adapter.check_connection()
        urls = [str(call.request.url) for call in router.calls]
        assert urls == [
            "https://openapi-api.alibaba.com/rest/auth/token/refresh",
            "https://openapi-api.alibaba.com/rest/alibaba/icbu/product/list",
        ]


class TestTokens:
    async def test_one_token_serves_many_calls(self, gop: FakeGop, router: Any) -> None:
        async with make_rig(gop) as rig:
            for _ in range(5):
                await rig.adapter.check_connection()
        assert gop.count(REFRESH_PATH) == 1
        assert gop.count(LIST) == 5

    async def test_a_token_is_renewed_when_less_than_a_tenth_of_its_life_is_left(
        self, gop: FakeGop, router: Any
    ) -> None:
        gop.expires_in = "1000"  # a numeric string, as some answers send it
        async with make_rig(gop) as rig:
            await rig.adapter.check_connection()
            rig.clock.advance(850)  # 150 s left: more than max(60, 100)
            await rig.adapter.check_connection()
            assert gop.count(REFRESH_PATH) == 1
            rig.clock.advance(60)  # 90 s left
            await rig.adapter.check_connection()
        assert gop.count(REFRESH_PATH) == 2
        assert gop.count(LIST) == 3

    async def test_an_expired_token_is_refreshed_once_and_the_call_replayed(
        self, gop: FakeGop, router: Any
    ) -> None:
        async with make_rig(gop) as rig:
            await rig.adapter.check_connection()
            gop.expire_tokens()  # the gateway's own expiry, which the client cannot foresee
            await rig.adapter.check_connection()
        assert gop.count(REFRESH_PATH) == 2
        assert gop.count(LIST) == 3  # ok, refused, replayed
        refused, replayed = gop.sent(LIST)[1:]
        assert refused["access_token"] != replayed["access_token"]

    async def test_a_token_refused_again_after_the_refresh_is_an_authentication_error(
        self, gop: FakeGop, router: Any
    ) -> None:
        async with make_rig(gop) as rig:
            await rig.adapter.check_connection()
            gop.expire_tokens()
            gop.script(LIST, error("IllegalAccessToken"), error("IllegalAccessToken"))
            with pytest.raises(AuthenticationError):
                await rig.adapter.check_connection()
        assert gop.count(REFRESH_PATH) == 2  # the first and ONE refresh, no loop

    async def test_a_refused_refresh_token_hides_every_secret(
        self, gop: FakeGop, router: Any
    ) -> None:
        gop.refresh_tokens.clear()
        async with make_rig(gop) as rig:
            with pytest.raises(AuthenticationError) as caught:
                await rig.adapter.check_connection()
        text = str(caught.value) + repr(caught.value) + repr(rig.adapter)
        assert "IllegalRefreshToken" in text
        assert REFRESH not in text
        assert APP_SECRET not in text
        assert gop.count(LIST) == 0


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.changes: list[dict[str, Any]] = []
        self.fail = fail

    async def __call__(self, changes: Mapping[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database away")
        self.changes.append(dict(changes))


class TestCredentialChanges:
    async def test_an_authorisation_code_is_exchanged_once_and_the_core_told(
        self, gop: FakeGop, router: Any
    ) -> None:
        listener = Recorder()
        cfg = config(refresh_token=None, authorization_code=SecretStr(CODE))
        async with make_rig(gop, config=cfg, on_credentials_changed=listener) as rig:
            await rig.adapter.check_connection()
            gop.expire_tokens()
            await rig.adapter.check_connection()
        assert gop.count("/auth/token/create") == 1
        assert gop.sent(REFRESH_PATH)[0]["refresh_token"] == "RT-2"
        assert listener.changes[0] == {"authorization_code": None, "refresh_token": "RT-2"}

    async def test_a_rotated_refresh_token_reaches_the_core(
        self, gop: FakeGop, router: Any
    ) -> None:
        gop.rotate_refresh = True
        listener = Recorder()
        async with make_rig(gop, on_credentials_changed=listener) as rig:
            await rig.adapter.check_connection()
            gop.expire_tokens()
            await rig.adapter.check_connection()
        assert listener.changes == [{"refresh_token": "RT-2"}, {"refresh_token": "RT-3"}]
        assert gop.sent(REFRESH_PATH)[1]["refresh_token"] == "RT-2"

    async def test_changes_the_core_could_not_take_are_offered_again(
        self, gop: FakeGop, router: Any
    ) -> None:
        gop.rotate_refresh = True
        listener = Recorder(fail=2)  # after the refresh, and again after the call
        async with make_rig(gop, on_credentials_changed=listener) as rig:
            await rig.adapter.check_connection()
            assert listener.changes == []
            await rig.adapter.check_connection()
        assert listener.changes == [{"refresh_token": "RT-2"}]
        assert gop.count(REFRESH_PATH) == 1

    async def test_a_used_code_falls_back_on_the_refresh_token(
        self, gop: FakeGop, router: Any
    ) -> None:
        listener = Recorder()
        cfg = config(authorization_code=SecretStr("USED-CODE"))
        async with make_rig(gop, config=cfg, on_credentials_changed=listener) as rig:
            await rig.adapter.check_connection()
        assert gop.count("/auth/token/create") == 1
        assert gop.count(REFRESH_PATH) == 1
        assert listener.changes == [{"authorization_code": None}]


def test_a_config_needs_a_refresh_token_or_a_code() -> None:
    from adapters.alibaba.adapter import AlibabaAdapter

    with pytest.raises(AdapterConfigError) as caught:
        AlibabaAdapter.parse_config({"app_key": "k", "app_secret": "s3cr3t"})
    assert "s3cr3t" not in str(caught.value)
