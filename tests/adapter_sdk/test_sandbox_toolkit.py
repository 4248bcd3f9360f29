from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from odop_sync.adapter_sdk.sandbox import (
    FaultInjector,
    FaultKind,
    SandboxClock,
    StateStore,
    TokenBucketGuard,
    fault_admin_router,
    simulate_transport_fault,
)


class TestSandboxClock:
    async def test_time_runs_faster_by_the_scale(self) -> None:
        clock = SandboxClock(time_scale=10_000)
        start = clock.monotonic()
        await clock.sleep(50)  # 5 ms of real time
        assert clock.monotonic() - start >= 50

    def test_advance_jumps_marketplace_time(self) -> None:
        clock = SandboxClock()
        before = clock.utcnow()
        clock.advance(3600)
        assert (clock.utcnow() - before).total_seconds() >= 3600


class TestTokenBucketGuard:
    def test_the_documented_burst_then_429_then_refill(self) -> None:
        clock = SandboxClock(time_scale=1.0)
        guard = TokenBucketGuard({"getFeed": (2.0, 15.0)}, clock)
        verdicts = [guard.check("A1", "getFeed").allowed for _ in range(16)]
        assert verdicts == [True] * 15 + [False]
        assert guard.check("A2", "getFeed").allowed  # another seller has its own bucket
        clock.advance(0.5)
        assert guard.check("A1", "getFeed").allowed
        assert guard.throttled["getFeed"] == 1

    def test_unknown_operations_are_not_limited(self) -> None:
        guard = TokenBucketGuard({}, SandboxClock())
        assert all(guard.check("A1", "x").allowed for _ in range(100))


class TestFaultInjector:
    def test_scripted_faults_fire_the_given_number_of_times(self) -> None:
        faults = FaultInjector()
        faults.fail(429, operation="put", retry_after=3, times=2)
        assert faults.take("get") is None
        first, second, third = (faults.take("put") for _ in range(3))
        assert first is not None
        assert first.retry_after == 3
        assert second is not None
        assert third is None

    def test_probabilistic_faults_are_reproducible_with_a_seed(self) -> None:
        def run() -> list[bool]:
            faults = FaultInjector(seed=7)
            faults.fail(503, probability=0.3, times=None)
            return [faults.take("any") is not None for _ in range(50)]

        outcome = run()
        assert outcome == run()
        assert 5 < sum(outcome) < 30

    def test_rejections_and_stuck_feeds(self) -> None:
        faults = FaultInjector()
        faults.reject(["SKU-1"], field="color")
        faults.inject(FaultKind.STUCK_FEED)
        assert faults.rejection_for("SKU-1") is not None
        assert faults.rejection_for("SKU-2") is None
        assert faults.take("createFeed") is None  # stuck feeds are not request faults
        assert faults.take_stuck_feed()
        assert not faults.take_stuck_feed()

    async def test_dropped_connections_and_hangs_raise_transport_errors(self) -> None:
        clock = SandboxClock(time_scale=1000)
        faults = FaultInjector()
        with pytest.raises(httpx.RemoteProtocolError):
            await simulate_transport_fault(faults.inject(FaultKind.DROP), clock)
        with pytest.raises(httpx.ReadTimeout):
            await simulate_transport_fault(faults.inject(FaultKind.HANG, delay=1), clock)
        assert await simulate_transport_fault(faults.inject(FaultKind.TIMEOUT, delay=1), clock)

    async def test_the_admin_endpoint_drives_the_same_injector(self) -> None:
        faults = FaultInjector()
        app = FastAPI()
        app.include_router(fault_admin_router(faults))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s"
        ) as c:
            assert (
                await c.post("/_sandbox/faults", json={"kind": "drop", "operation": "x"})
            ).status_code == 201
            assert (
                await c.post("/_sandbox/faults/rejections", json={"skus": ["A"], "field": "size"})
            ).status_code == 201
            listed = (await c.get("/_sandbox/faults")).json()
            assert listed["faults"][0]["kind"] == "drop"
            assert listed["rejections"][0]["sku"] == "A"
            assert (await c.delete("/_sandbox/faults")).status_code == 204
        assert faults.faults == []
        assert faults.rejections == {}


class TestStateStore:
    def test_tables_are_per_seller_and_calls_are_counted(self) -> None:
        store = StateStore()
        store.table("A1", "listings")["X"] = {"sku": "X"}
        store.record_call("A1", "put")
        store.record_call("A2", "put")
        assert store.table("A2", "listings") == {}
        assert store.call_count("put") == 2
        assert store.call_count("put", "A1") == 1
        assert store.dump("A1") == {"listings": {"X": {"sku": "X"}}}
