from __future__ import annotations

import logging

import httpx
import pytest

import odop_sync
from odop_sync.adapter_sdk import (
    AdapterError,
    AuthenticationError,
    MarketplaceUnavailableError,
    PermanentAdapterError,
    RateLimitedError,
    RetryableAdapterError,
    create_http_client,
)


class TestHttpClient:
    async def test_user_agent_names_the_service_and_the_adapter(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200)

        async with create_http_client(
            adapter_slug="amazon", transport=httpx.MockTransport(handler)
        ) as c:
            await c.get("https://example.invalid/x")
        assert seen[0].headers["User-Agent"] == f"odop-sync/{odop_sync.__version__} (+amazon)"

    async def test_request_logs_leave_out_query_strings_and_headers(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="odop_sync.adapter_sdk.http")
        transport = httpx.MockTransport(lambda r: httpx.Response(204))
        async with create_http_client(transport=transport) as c:
            await c.put(
                "https://bucket.example.invalid/doc?X-Amz-Signature=SIG123",
                headers={"x-amz-access-token": "Atza|TOKEN"},
            )
        assert "bucket.example.invalid/doc" in caplog.text
        assert "SIG123" not in caplog.text
        assert "TOKEN" not in caplog.text

    def test_timeouts_are_bounded_by_default(self) -> None:
        client = create_http_client()
        assert client.timeout.connect == 5.0
        assert client.timeout.read == 30.0


class TestErrors:
    def test_the_tree(self) -> None:
        assert issubclass(RateLimitedError, RetryableAdapterError)
        assert issubclass(MarketplaceUnavailableError, RetryableAdapterError)
        assert issubclass(AuthenticationError, PermanentAdapterError)
        assert RateLimitedError("x").retryable
        assert not AuthenticationError("x").retryable

    def test_str_and_repr_carry_what_the_core_needs(self) -> None:
        error = RateLimitedError(
            "throttled",
            retry_after=2.5,
            adapter="amazon",
            operation="putListingsItem",
            status_code=429,
        )
        assert str(error) == "amazon.putListingsItem: throttled (HTTP 429) retry after 2.5s"
        assert repr(error).startswith("RateLimitedError(message='throttled'")
        assert isinstance(error, AdapterError)
