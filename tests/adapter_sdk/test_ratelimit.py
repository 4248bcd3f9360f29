from __future__ import annotations

from email.utils import format_datetime

import pytest

from odop_sync.adapter_sdk import OperationLimit, RateLimiter
from tests.adapter_sdk.conftest import FakeClock

LIMITS = {
    "putListingsItem": OperationLimit(rate=5, burst=10),
    "createFeed": OperationLimit(rate=0.0083, burst=15),
}


class TestRateLimiter:
    async def test_the_burst_goes_out_at_once_then_calls_wait_for_the_rate(
        self, clock: FakeClock
    ) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        for _ in range(10):
            assert await limiter.acquire("putListingsItem") == 0
        waited = await limiter.acquire("putListingsItem")
        assert waited == pytest.approx(0.2)

    async def test_it_learns_the_rate_amazon_reports(self, clock: FakeClock) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        for _ in range(10):
            await limiter.acquire("putListingsItem")
        limiter.update_from_headers("putListingsItem", {"x-amzn-RateLimit-Limit": "2.0"})
        assert await limiter.acquire("putListingsItem") == pytest.approx(0.5)

    async def test_a_rate_header_teaches_an_operation_it_did_not_know(
        self, clock: FakeClock
    ) -> None:
        limiter = RateLimiter({}, clock=clock)
        assert await limiter.acquire("getFeed") == 0  # unknown: unlimited
        limiter.update_from_headers("getFeed", {"X-Amzn-RateLimit-Limit": "0.5"})
        assert await limiter.acquire("getFeed") == 0
        assert await limiter.acquire("getFeed") == pytest.approx(2.0)

    async def test_retry_after_in_seconds_holds_the_bucket(self, clock: FakeClock) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        limiter.update_from_headers("putListingsItem", {"Retry-After": "7"})
        assert await limiter.acquire("putListingsItem") == pytest.approx(7.0)

    async def test_retry_after_as_an_http_date_holds_until_then(self, clock: FakeClock) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        when = clock.utcnow().replace(microsecond=0)
        from datetime import timedelta

        header = format_datetime(when + timedelta(seconds=30), usegmt=True)
        limiter.update_from_headers("putListingsItem", {"retry-after": header})
        assert await limiter.acquire("putListingsItem") == pytest.approx(30.0, abs=1)

    async def test_an_empty_token_count_waits_for_the_replenish_time(
        self, clock: FakeClock
    ) -> None:
        limiter = RateLimiter({"feeds": OperationLimit(rate=10, burst=10)}, clock=clock)
        replenish_ms = (clock.utcnow().timestamp() + 12) * 1000
        limiter.update_from_headers(
            "feeds", {"x-current-token-count": "0", "x-next-replenish-time": f"{replenish_ms:.0f}"}
        )
        assert await limiter.acquire("feeds") == pytest.approx(12.0, abs=0.01)

    async def test_penalise_without_retry_after_waits_one_refill(self, clock: FakeClock) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        limiter.penalise("createFeed", None)
        assert await limiter.acquire("createFeed") == pytest.approx(1 / 0.0083)

    async def test_accounts_have_separate_buckets(self, clock: FakeClock) -> None:
        a = RateLimiter(LIMITS, account_key="seller-a", clock=clock)
        b = RateLimiter(LIMITS, account_key="seller-b", clock=clock)
        a.penalise("putListingsItem", 60)
        assert await b.acquire("putListingsItem") == 0
        assert "seller-a" in repr(a)

    async def test_tokens_refill_with_time(self, clock: FakeClock) -> None:
        limiter = RateLimiter(LIMITS, clock=clock)
        for _ in range(10):
            await limiter.acquire("putListingsItem")
        clock.advance(1.0)
        state = limiter.state("putListingsItem")
        assert state is not None
        assert state.tokens == pytest.approx(5.0)
