"""The sandbox's gateway: a request signed by the hand-written signer of PROTOCOL.md §4.1 is
accepted in every addressing style; one byte changed in any parameter is refused; missing sign,
unknown app key, stale timestamp, expired token each get their envelope (contract note codes)."""

from __future__ import annotations

import time

import httpx
import pytest
from adapters.alibaba.sandbox import (
    APP_KEY,
    DEMO_CODE,
    DEMO_REFRESH_TOKEN,
    SANDBOX_SELLER,
    AlibabaSandbox,
)

from tests.adapters.alibaba.gop import PHOTO, Gop, compact, gop_sign, gop_string, publish

LIST = "/alibaba/icbu/product/list"


@pytest.fixture
async def gop() -> Gop:
    client = Gop(AlibabaSandbox())
    await client.authorise()
    return client


def error_of(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    assert body["code"] != "0"
    assert body["request_id"]
    return body["type"], body["code"]


def one_byte_changed(value: str) -> str:
    """`value` with one byte of its UTF-8 form changed (still valid UTF-8)."""
    raw = bytearray(value.encode("utf-8"))
    for bit in (1, 2, 4):
        changed = raw.copy()
        changed[-1] ^= bit
        try:
            return changed.decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"no one-byte change of {value!r} is UTF-8")


class TestTheSignatureAlgorithm:
    def test_the_public_worked_example_of_section_4_2(self) -> None:
        params = {
            "app_key": "123456",
            "access_token": "test",
            "timestamp": "1517820392000",
            "sign_method": "sha256",
            "order_id": "1234",
        }
        assert gop_string("/order/get", params) == (
            "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256"
            "timestamp1517820392000"
        )
        assert gop_sign("helloworld", "/order/get", params) == (
            "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
        )

    def test_names_sort_by_byte_value(self) -> None:
        # §4.1 step 2: upper case before "_" before lower case.
        assert gop_string("/p", {"page_size": "1", "pageSize": "2", "Zeta": "3", "page": "4"}) == (
            "/pZeta3page4pageSize2page_size1"
        )


class TestSignedRequestsAreAccepted:
    @pytest.mark.parametrize("style", ["path", "bare", "get"])
    async def test_every_addressing_style(self, gop: Gop, style: str) -> None:
        body = await gop.call(LIST, style=style, page_size=5)
        assert body["code"] == "0", body
        assert body["result"]["total_item"] == 0

    async def test_the_path_alone_without_method(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {"page_size": 5})
        del fields["method"]
        fields["sign"] = gop_sign(gop.secret, LIST, fields)
        assert (await gop.send(LIST, fields)).json()["code"] == "0"

    async def test_with_or_without_x_protocol(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {"page_size": 5})
        r = await gop.http.post(f"/rest{LIST}", data=fields, headers={"X-Protocol": "GOP"})
        assert r.json()["code"] == "0"

    async def test_a_lower_case_sign_is_the_same_sign(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {"page_size": 5})
        fields["sign"] = fields["sign"].lower()
        assert (await gop.send(LIST, fields)).json()["code"] == "0"

    async def test_file_parts_are_not_signed(self, gop: Gop) -> None:
        path = "/alibaba/icbu/photobank/upload"
        fields = gop.fields(path, {"file_name": "rug.jpg"})
        files = {"image_bytes": ("rug.jpg", PHOTO)}
        assert (await gop.send(path, fields, files=files)).json()["code"] == "0"
        # Signing the file's bytes as if they were a text field is not what GOP signs.
        wrong = dict(fields)
        wrong["sign"] = gop_sign(
            gop.secret, path, {**fields, "image_bytes": PHOTO.decode("latin-1")}
        )
        refused = await gop.send(path, wrong, files=files)
        assert error_of(refused) == ("ISV", "IncompleteSignature")


async def _stocked(gop: Gop) -> int:
    image = await gop.upload()
    answer = await publish(gop, "BHD-RUG-1", image)
    assert answer["biz_success"], answer
    product: int = answer["product_id"]
    return product


def _inventory_change(product: int) -> dict[str, str]:
    change = {
        "product_id": product,
        "inventory_list": [
            {"sku_id": -1, "inventory_code": "DEFAULT", "inventory": 7, "operate": "plus"}
        ],
    }
    return {"request_param": compact(change)}


class TestOneChangedByteIsRefused:
    @pytest.mark.parametrize("call", ["inventory update (JSON text)", "product list (Devanagari)"])
    async def test_in_any_parameter(self, gop: Gop, call: str) -> None:
        product = await _stocked(gop)
        if call.startswith("inventory"):
            path, params = "/icbu/product/inventory/update", _inventory_change(product)
        else:
            path, params = LIST, {"subject": "भदोही कालीन", "page_size": "5"}
        fields = gop.fields(path, params)
        assert len(fields) >= 8
        for name, value in fields.items():
            tampered = {**fields, name: one_byte_changed(value)}
            refused = await gop.send(path, tampered)
            # A changed app_key names no app whose secret could check the signature.
            expected = "InvalidAppKey" if name == "app_key" else "IncompleteSignature"
            assert error_of(refused) == ("ISV", expected), name
        accepted = await gop.send(path, fields)
        assert accepted.json()["code"] == "0", accepted.text
        state = (await gop.http.get(f"/_sandbox/state/{SANDBOX_SELLER}")).json()
        expected_stock = 7 if call.startswith("inventory") else 0  # applied once, untampered
        assert state["listings"][0]["inventory"] == expected_stock


class TestRefusals:
    async def test_a_missing_sign(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {})
        del fields["sign"]
        r = await gop.send(LIST, fields)
        assert r.status_code == 200
        assert error_of(r) == ("ISV", "IncompleteSignature")
        assert "signature does not conform" in r.json()["message"]

    async def test_an_unknown_app_key(self) -> None:
        stranger = Gop(AlibabaSandbox(), app_key="SOMEONE-ELSE", secret="whatever")
        assert error_of(await stranger.send(LIST, stranger.fields(LIST, {}))) == (
            "ISV",
            "InvalidAppKey",
        )

    async def test_a_wrong_secret(self) -> None:
        wrong = Gop(AlibabaSandbox(), secret="not-the-secret")
        r = await wrong.send(
            "/auth/token/create", wrong.fields("/auth/token/create", {"code": DEMO_CODE})
        )
        assert error_of(r) == ("ISV", "IncompleteSignature")

    @pytest.mark.parametrize("hours", [-3, 3])
    async def test_a_timestamp_more_than_7200_s_off(self, gop: Gop, hours: int) -> None:
        fields = gop.fields(LIST, {})
        fields["timestamp"] = str(int((time.time() + hours * 3600) * 1000))
        fields["sign"] = gop_sign(gop.secret, LIST, fields)
        assert error_of(await gop.send(LIST, fields)) == ("ISV", "InvalidTimestamp")

    async def test_a_scaled_sandbox_takes_wall_clock_and_its_own_clock_time(self) -> None:
        gop = Gop(AlibabaSandbox(time_scale=1000))
        await gop.authorise()
        gop.sandbox.clock.advance(3 * 3600)  # its clock is now 3 h ahead of the wall clock
        assert (await gop.call(LIST))["code"] == "0"  # wall-clock timestamps
        fields = gop.fields(LIST, {})
        fields["timestamp"] = str(int(gop.sandbox.clock.utcnow().timestamp() * 1000))
        fields["sign"] = gop_sign(gop.secret, LIST, fields)
        assert (await gop.send(LIST, fields)).json()["code"] == "0"

    async def test_a_timestamp_in_seconds(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {})
        fields["timestamp"] = str(int(time.time()))
        fields["sign"] = gop_sign(gop.secret, LIST, fields)
        assert error_of(await gop.send(LIST, fields)) == ("ISV", "InvalidTimestamp")

    async def test_a_missing_access_token(self, gop: Gop) -> None:
        fields = gop.fields(LIST, {}, token=False)
        assert error_of(await gop.send(LIST, fields)) == ("ISV", "MissingParameter")

    async def test_an_unknown_access_token(self, gop: Gop) -> None:
        gop.access_token = "acc-made-up"
        assert error_of(await gop.send(LIST, gop.fields(LIST, {}))) == ("ISV", "IllegalAccessToken")

    async def test_a_path_that_differs_from_method(self, gop: Gop) -> None:
        fields = gop.fields("/icbu/product/get", {})
        r = await gop.http.post(f"/rest{LIST}", data=fields)
        assert error_of(r) == ("ISV", "InvalidApiPath")

    async def test_a_top_method_name_is_not_a_gop_path(self, gop: Gop) -> None:
        fields = gop.fields("alibaba.icbu.product.list", {})
        r = await gop.http.post("/rest", data=fields)
        assert error_of(r) == ("ISV", "InvalidApiPath")

    async def test_an_api_the_gateway_does_not_serve(self, gop: Gop) -> None:
        assert error_of(await gop.send("/no/such/api", gop.fields("/no/such/api", {}))) == (
            "ISV",
            "InvalidApiPath",
        )


class TestTokens:
    async def test_an_access_token_expires_on_the_sandbox_clock_and_refresh_rotates(
        self, gop: Gop
    ) -> None:
        first = await gop.ok("/auth/token/refresh", refresh_token=gop.refresh_token)
        # expires_in may be a numeric string, refresh_expires_in a number (PROTOCOL §2.2).
        assert int(first["expires_in"]) == 864_000
        assert int(first["refresh_expires_in"]) == 5_184_000
        old_refresh, gop.access_token = gop.refresh_token, first["access_token"]
        gop.sandbox.clock.advance(864_000 + 1)
        assert error_of(await gop.send(LIST, gop.fields(LIST, {}))) == ("ISV", "IllegalAccessToken")
        # The refresh token the first refresh replaced died 60 s after it.
        stale = await gop.call("/auth/token/refresh", refresh_token=old_refresh)
        assert stale["code"] == "IllegalRefreshToken"
        second = await gop.ok("/auth/token/refresh", refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        gop.access_token = second["access_token"]
        assert (await gop.call(LIST))["code"] == "0"

    async def test_a_replaced_refresh_token_works_for_60_seconds(self, gop: Gop) -> None:
        old = gop.refresh_token
        await gop.ok("/auth/token/refresh", refresh_token=old)
        gop.sandbox.clock.advance(30)
        assert (await gop.call("/auth/token/refresh", refresh_token=old))["code"] == "0"
        gop.sandbox.clock.advance(31)
        assert (await gop.call("/auth/token/refresh", refresh_token=old))["code"] == (
            "IllegalRefreshToken"
        )

    async def test_a_code_is_good_once_and_the_demo_code_and_token_always(self) -> None:
        gop = Gop(AlibabaSandbox())
        r = await gop.http.post(f"/_sandbox/codes/{SANDBOX_SELLER}")
        code = r.json()["code"]
        created = await gop.ok("/auth/token/create", code=code)
        assert created["seller_id"] == SANDBOX_SELLER
        assert created["account"] == "odop-demo-seller@example.test"
        assert (await gop.call("/auth/token/create", code=code))["code"] == "InvalidCode"
        for _ in range(2):
            assert (await gop.call("/auth/token/create", code=DEMO_CODE))["code"] == "0"
            refreshed = await gop.call("/auth/token/refresh", refresh_token=DEMO_REFRESH_TOKEN)
            assert refreshed["code"] == "0"

    async def test_a_restarted_sandbox_honours_the_refresh_tokens_it_handed_out(
        self, gop: Gop
    ) -> None:
        # `make run` starts the sandbox afresh each time, while the account keeps the refresh
        # token it rotated to: the platform would still know it.
        rotated = (await gop.ok("/auth/token/refresh", refresh_token=gop.refresh_token))[
            "refresh_token"
        ]
        restarted = Gop(AlibabaSandbox())
        again = await restarted.call("/auth/token/refresh", refresh_token=rotated)
        assert again["code"] == "0"
        assert again["seller_id"] == SANDBOX_SELLER
        forged = rotated[:-1] + ("0" if rotated[-1] != "0" else "1")
        assert (await restarted.call("/auth/token/refresh", refresh_token=forged))["code"] == (
            "IllegalRefreshToken"
        )

    async def test_a_code_lives_30_minutes(self) -> None:
        gop = Gop(AlibabaSandbox())
        code = (await gop.http.post(f"/_sandbox/codes/{SANDBOX_SELLER}")).json()["code"]
        gop.sandbox.clock.advance(1801)
        assert (await gop.call("/auth/token/create", code=code))["code"] == "InvalidCode"

    async def test_another_apps_token_is_refused(self) -> None:
        sandbox = AlibabaSandbox(apps={APP_KEY: "one-secret", "OTHER-APP": "two-secret"})
        mine = Gop(sandbox, secret="one-secret")
        await mine.authorise()
        other = Gop(sandbox, app_key="OTHER-APP", secret="two-secret")
        other.access_token = mine.access_token
        assert error_of(await other.send(LIST, other.fields(LIST, {}))) == (
            "ISV",
            "IllegalAccessToken",
        )
