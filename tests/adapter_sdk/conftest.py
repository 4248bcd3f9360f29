from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class FakeClock:
    """A Clock whose time moves only when someone sleeps or the test advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.start = datetime(2025, 9, 22, 6, 30, tzinfo=UTC)
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def utcnow(self) -> datetime:
        return self.start + timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
