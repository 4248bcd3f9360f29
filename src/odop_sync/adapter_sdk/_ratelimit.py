"""Client-side token buckets, one per (account, operation), that learn from what the marketplace
says: `x-amzn-RateLimit-Limit` (the rate Amazon applied), `Retry-After` (seconds or an HTTP date),
and token-count headers (`x-current-token-count`/`x-next-replenish-time` as Walmart sends them,
or the common `X-RateLimit-Remaining`/`X-RateLimit-Reset`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from odop_sync.adapter_sdk._clock import Clock, SystemClock

if TYPE_CHECKING:
    from odop_sync.adapter_sdk._base import OperationLimit

__all__ = ["BucketState", "RateLimiter", "parse_retry_after"]

log = logging.getLogger("odop_sync.adapter_sdk.ratelimit")


@dataclass(slots=True)
class BucketState:
    rate: float
    burst: float
    tokens: float
    updated_at: float
    blocked_until: float = 0.0


def parse_retry_after(value: str | None, clock: Clock) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - clock.utcnow()).total_seconds())


class RateLimiter:
    """Async token buckets keyed by (account_key, operation).

    `acquire(op)` waits until a token is free; operations without a known limit pass straight
    through until a response header teaches one.
    """

    def __init__(
        self,
        limits: Mapping[str, OperationLimit] | None = None,
        *,
        account_key: str = "default",
        clock: Clock | None = None,
        time_scale: float = 1.0,
    ) -> None:
        """`time_scale` > 1 only against a sandbox whose clock runs that many times faster:
        every rate (configured or learned) is multiplied by it and every wait divided by it."""
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.account_key = account_key
        self.clock: Clock = clock or SystemClock()
        self.time_scale = time_scale
        self._buckets: dict[tuple[str, str], BucketState] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        for op, limit in (limits or {}).items():
            self.configure(op, rate=limit.rate, burst=limit.burst)

    def __repr__(self) -> str:
        return f"<RateLimiter account={self.account_key!r} operations={len(self._buckets)}>"

    def _key(self, op: str) -> tuple[str, str]:
        return (self.account_key, op)

    def configure(self, op: str, *, rate: float, burst: float) -> None:
        now = self.clock.monotonic()
        self._buckets[self._key(op)] = BucketState(rate * self.time_scale, burst, float(burst), now)

    def state(self, op: str) -> BucketState | None:
        bucket = self._buckets.get(self._key(op))
        if bucket is not None:
            self._refill(bucket, self.clock.monotonic())
        return bucket

    @staticmethod
    def _refill(bucket: BucketState, now: float) -> None:
        elapsed = max(0.0, now - bucket.updated_at)
        bucket.tokens = min(bucket.burst, bucket.tokens + elapsed * bucket.rate)
        bucket.updated_at = now

    async def acquire(self, op: str, cost: float = 1.0) -> float:
        """Take `cost` tokens for `op`, waiting as long as needed; returns the seconds waited."""
        key = self._key(op)
        if key not in self._buckets:
            return 0.0
        lock = self._locks.setdefault(key, asyncio.Lock())
        waited = 0.0
        async with lock:  # FIFO: waiters queue instead of racing for the next token
            while True:
                bucket = self._buckets[key]
                now = self.clock.monotonic()
                self._refill(bucket, now)
                if now < bucket.blocked_until:
                    delay = bucket.blocked_until - now
                elif bucket.tokens >= min(cost, bucket.burst):
                    bucket.tokens -= cost
                    return waited
                else:
                    delay = (min(cost, bucket.burst) - bucket.tokens) / bucket.rate
                waited += delay
                await self.clock.sleep(delay)

    def penalise(self, op: str, retry_after: float | None) -> None:
        """The marketplace throttled us: empty the bucket and hold it for `retry_after` seconds
        (or one refill interval when the marketplace did not say)."""
        key = self._key(op)
        bucket = self._buckets.get(key)
        now = self.clock.monotonic()
        if bucket is None:
            bucket = self._buckets[key] = BucketState(1.0, 1.0, 0.0, now)
        self._refill(bucket, now)
        wait = retry_after / self.time_scale if retry_after is not None else 1.0 / bucket.rate
        bucket.tokens = 0.0
        bucket.blocked_until = max(bucket.blocked_until, now + wait)
        log.info("throttled %s/%s, holding %.3fs", self.account_key, op, wait)

    def update_from_headers(self, op: str, headers: Mapping[str, str]) -> None:
        lower = {k.lower(): v for k, v in headers.items()}
        key = self._key(op)
        now = self.clock.monotonic()

        rate_text = lower.get("x-amzn-ratelimit-limit")
        if rate_text:
            try:
                rate = float(rate_text)
            except ValueError:
                rate = 0.0
            if rate > 0:
                rate *= self.time_scale
                bucket = self._buckets.get(key)
                if bucket is None:
                    # Amazon reports the rate only; a burst of one is the safe assumption.
                    self._buckets[key] = BucketState(rate, 1.0, 1.0, now)
                elif bucket.rate != rate:
                    self._refill(bucket, now)
                    bucket.rate = rate

        remaining_text = lower.get("x-current-token-count", lower.get("x-ratelimit-remaining"))
        if remaining_text is not None:
            try:
                remaining = float(remaining_text)
            except ValueError:
                remaining = None
            if remaining is not None:
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = BucketState(1.0, max(1.0, remaining), 0.0, now)
                self._refill(bucket, now)
                bucket.tokens = min(bucket.tokens, remaining)
                if remaining < 1:
                    reset = self._reset_delay(lower)
                    if reset is not None:
                        reset /= self.time_scale
                        bucket.blocked_until = max(bucket.blocked_until, now + reset)

        retry_after = parse_retry_after(lower.get("retry-after"), self.clock)
        if retry_after is not None:
            self.penalise(op, retry_after)

    def _reset_delay(self, lower: Mapping[str, str]) -> float | None:
        replenish = lower.get("x-next-replenish-time")  # epoch milliseconds (Walmart)
        if replenish:
            try:
                at = float(replenish) / 1000.0
            except ValueError:
                return None
            return max(0.0, at - self.clock.utcnow().timestamp())
        reset = lower.get("x-ratelimit-reset")  # seconds until reset
        if reset:
            try:
                return max(0.0, float(reset))
            except ValueError:
                return None
        return None
