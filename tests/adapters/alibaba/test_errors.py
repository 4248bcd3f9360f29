"""The GOP error envelope (PROTOCOL §5.2: `type`, `code`, `message`, `request_id`, usually with
HTTP 200) classified into the SDK's error tree as adapters/alibaba/CONTRACT.md reads the codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from odop_sync.adapter_sdk import (
    AdapterError,
    AuthenticationError,
    MarketplaceUnavailableError,
    PayloadRejectedError,
    RateLimitedError,
)
from tests.adapters.alibaba.conftest import Rig, carpet
from tests.adapters.alibaba.fake_gop import APP_SECRET, REFRESH, FakeGop

LIST = "/alibaba/icbu/product/list"


def envelope(kind: str, code: str, message: str) -> dict[str, Any]:
    return {
        "type": kind,
        "code": code,
        "message": message,
        "request_id": "0ba2887315178178017221014",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (envelope("ISV", "MissingParameter", "cat_id is required"), PayloadRejectedError),
        (envelope("ISV", "InvalidParameter", "page_size must be <= 30"), PayloadRejectedError),
        (
            envelope(
                "ISV",
                "IncompleteSignature",
                "The request signature does not conform to platform standards",
            ),
            AuthenticationError,
        ),
        (envelope("ISV", "InvalidAppKey", "app key not found"), AuthenticationError),
        (envelope("ISV", "ApiCallLimit", "The request has exceeded the limit"), RateLimitedError),
        (envelope("ISP", "ServiceUnavailable", "backend busy"), MarketplaceUnavailableError),
        (envelope("SYSTEM", "InternalError", "platform error"), MarketplaceUnavailableError),
        (envelope("ISV", "API_SCHEMA_XML_PARSE_ERROR", "xml"), PayloadRejectedError),
    ],
)
async def test_an_envelope_becomes_its_error(
    rig: Rig, gop: FakeGop, body: dict[str, Any], expected: type[AdapterError]
) -> None:
    gop.script(LIST, body)
    with pytest.raises(expected) as caught:
        await rig.adapter.check_connection()
    error = caught.value
    assert error.code == body["code"]
    assert body["message"] in error.message
    assert body["request_id"] in error.message  # for a support ticket
    assert error.operation == "productList"


async def test_throttling_waits_a_second_when_no_retry_after_comes(rig: Rig, gop: FakeGop) -> None:
    gop.script(LIST, envelope("ISV", "ApiCallLimit", "The request has exceeded the limit"))
    with pytest.raises(RateLimitedError) as caught:
        await rig.adapter.check_connection()
    assert caught.value.retry_after == 1.0


async def test_an_expired_token_after_its_refresh_is_refused_credentials(
    rig: Rig, gop: FakeGop
) -> None:
    gop.script(
        LIST,
        envelope("ISV", "IllegalAccessToken", "expired"),
        envelope("ISV", "IllegalAccessToken", "expired"),
    )
    with pytest.raises(AuthenticationError):
        await rig.adapter.check_connection()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, RateLimitedError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (500, MarketplaceUnavailableError),
        (503, MarketplaceUnavailableError),
        (400, PayloadRejectedError),
    ],
)
async def test_http_statuses_other_than_200_are_classified(
    rig: Rig, gop: FakeGop, status: int, expected: type[AdapterError]
) -> None:
    gop.raw[LIST] = [httpx.Response(status, headers={"Retry-After": "7"}, text="busy")]
    with pytest.raises(expected) as caught:
        await rig.adapter.check_connection()
    if status == 429:
        assert caught.value.retry_after == 7  # type: ignore[attr-defined]


async def test_a_body_that_is_not_json_is_unavailable(rig: Rig, gop: FakeGop) -> None:
    gop.raw[LIST] = [httpx.Response(200, text="<html>")]
    with pytest.raises(MarketplaceUnavailableError):
        await rig.adapter.check_connection()


async def test_an_envelope_that_echoes_a_secret_does_not_carry_it_on(
    rig: Rig, gop: FakeGop
) -> None:
    gop.script(
        "/icbu/product/schema/add",
        envelope("ISV", "InvalidParameter", f"bad value {APP_SECRET} / {REFRESH}"),
    )
    with pytest.raises(PayloadRejectedError) as caught:
        await rig.adapter.push_listings([carpet()])
    assert APP_SECRET not in str(caught.value)
    assert REFRESH not in str(caught.value)
