"""The conformance suite every adapter runs against its sandbox.

An adapter's test module subclasses `AdapterConformance` and provides two fixtures::

    class TestAmazonConformance(AdapterConformance):
        @pytest.fixture
        async def env(self) -> AsyncIterator[ConformanceEnv]:
            async with amazon_env() as env:   # built with conformance_env(...)
                yield env

        @pytest.fixture
        def sample_listings(self) -> list[ListingPayload]:
            return [...]   # at least three valid listings

Tests are gated by the adapter's capabilities; a capability it does not declare must raise
CapabilityNotSupportedError. A failing check names the breakage it found (results out of input
order, a lost item, a secret in some text, an unclassified or misclassified error; see
`_verdicts`); tests/adapter_sdk/test_conformance_catches_breakage.py runs each check against a
deliberately broken adapter.
"""

# ruff: noqa: S101  (a pytest suite: assert is how it speaks)
from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx
import pytest
from pydantic import BaseModel, SecretBytes, SecretStr

from odop_sync.adapter_sdk._base import Adapter
from odop_sync.adapter_sdk._capabilities import Capability
from odop_sync.adapter_sdk._dtos import (
    ItemResult,
    ItemStatus,
    ListingPayload,
    Money,
    OfferUpdate,
    RemoteOrder,
    SalesPeriod,
    Shipment,
    SubmissionState,
)
from odop_sync.adapter_sdk._errors import (
    AdapterError,
    AuthenticationError,
    CapabilityNotSupportedError,
    MarketplaceUnavailableError,
    RateLimitedError,
)
from odop_sync.adapter_sdk._ratelimit import RateLimiter
from odop_sync.adapter_sdk._sample import sample_listing
from odop_sync.adapter_sdk._verdicts import (
    assert_no_secret,
    assert_one_result_per_input,
    error_texts,
    expect_error,
    object_texts,
)
from odop_sync.adapter_sdk.http import create_http_client
from odop_sync.adapter_sdk.sandbox import FaultInjector, FaultKind, SandboxClock

__all__ = [
    "AdapterConformance",
    "ConformanceEnv",
    "HostAllowlistTransport",
    "OrderPass",
    "SandboxHandle",
    "StrayRequestError",
    "conformance_env",
    "pull_pass",
    "sample_listing",
    "secret_values",
]

E = TypeVar("E", bound=AdapterError)


class StrayRequestError(httpx.ConnectError):
    """A request to a host the test did not allow."""


class HostAllowlistTransport(httpx.AsyncBaseTransport):
    """Passes requests for the allowed hosts to the inner transport and refuses any other."""

    def __init__(self, inner: httpx.AsyncBaseTransport, allowed_hosts: set[str]) -> None:
        self.inner = inner
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.refused: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        if host not in self.allowed_hosts:
            self.refused.append(host)
            raise StrayRequestError(f"refused request to {host}", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class SandboxHandle(Protocol):
    """What the suite needs from a sandbox besides its ASGI app."""

    faults: FaultInjector
    clock: SandboxClock

    def listing_skus(self, account: str) -> set[str]: ...

    def call_count(self, operation: str) -> int: ...

    def issued_secrets(self) -> set[str]: ...


@dataclass
class ConformanceEnv:
    adapter: Adapter
    sandbox: SandboxHandle
    account: str
    transport: HostAllowlistTransport
    http: httpx.AsyncClient


@asynccontextmanager
async def conformance_env(
    adapter_cls: type[Adapter],
    config: BaseModel | dict[str, Any],
    *,
    app: Any,
    sandbox: SandboxHandle,
    account: str,
) -> AsyncIterator[ConformanceEnv]:
    """An adapter wired to its sandbox through httpx.ASGITransport: the adapter calls its own
    marketplace hosts (`Adapter.hosts`), which reach the sandbox; no other host is reachable."""
    hosts = {httpx.URL(origin).host for origin in adapter_cls.hosts}
    transport = HostAllowlistTransport(httpx.ASGITransport(app=app), hosts)
    http = create_http_client(transport=transport, adapter_slug=adapter_cls.slug, timeout=10.0)
    limiter = RateLimiter(adapter_cls.limits, account_key=account, clock=sandbox.clock)
    try:
        yield ConformanceEnv(adapter_cls(config, http, limiter), sandbox, account, transport, http)
    finally:
        await http.aclose()


def secret_values(model: BaseModel) -> list[str]:
    out: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            out.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            out.append(value.get_secret_value().decode(errors="replace"))
        elif isinstance(value, BaseModel):
            out.extend(secret_values(value))
    return [s for s in out if s]


@dataclass
class OrderPass:
    orders: list[RemoteOrder]
    pages: int
    updated_before: datetime | None


async def pull_pass(
    adapter: Adapter, *, updated_after: datetime | None, cursor: str | None = None
) -> OrderPass:
    """pull_orders until the cursor runs out: a whole pass, or the rest of one from `cursor`."""
    orders: list[RemoteOrder] = []
    pages = 0
    while True:
        page = await adapter.pull_orders(cursor, updated_after=updated_after)
        pages += 1
        orders += page.orders
        cursor = page.cursor
        if cursor is None:
            return OrderPass(orders, pages, page.updated_before)


def _variants(items: Sequence[ListingPayload], n: int, tag: str) -> list[ListingPayload]:
    return [
        items[i % len(items)].model_copy(
            update={"sku": f"{items[i % len(items)].sku[:30]}-{tag}{i}"}
        )
        for i in range(n)
    ]


def _require(env: ConformanceEnv, capability: Capability) -> None:
    if capability not in env.adapter.capabilities:
        pytest.skip(f"{env.adapter.slug} does not declare {capability.value}")


async def _settle(env: ConformanceEnv, results: list[ItemResult]) -> list[ItemResult]:
    """Resolve SUBMITTED results through poll_submissions (advancing sandbox time)."""
    pending = {r.submission_id for r in results if r.status is ItemStatus.SUBMITTED}
    if not pending:
        return results
    resolved: dict[str, ItemResult] = {}
    for _ in range(50):
        env.sandbox.clock.advance(60)
        statuses = await env.adapter.poll_submissions(sorted(pending))  # type: ignore[arg-type]
        for status in statuses:
            if status.state is not SubmissionState.PENDING:
                pending.discard(status.submission_id)
                resolved.update({r.sku: r for r in status.results})
        if not pending:
            break
    assert not pending, f"submissions never finished: {pending}"
    lost = [r.sku for r in results if r.status is ItemStatus.SUBMITTED and r.sku not in resolved]
    if lost:
        raise AssertionError(f"poll_submissions: lost item(s): finished without a result: {lost}")
    return [resolved.get(r.sku, r) if r.status is ItemStatus.SUBMITTED else r for r in results]


class AdapterConformance:
    """Subclass with `env` and `sample_listings` fixtures; see the module docstring."""

    @pytest.fixture
    def sample_offers(self, sample_listings: list[ListingPayload]) -> list[OfferUpdate]:
        return [
            OfferUpdate(
                sku=item.sku,
                price=Money(amount=max(100, item.price.amount - 100), currency=item.price.currency),
                mrp=item.mrp,
                quantity=item.quantity + 1,
            )
            for item in sample_listings
        ]

    async def _push(self, env: ConformanceEnv, items: Sequence[ListingPayload]) -> list[ItemResult]:
        return await _settle(env, await env.adapter.push_listings(list(items)))

    # metadata -------------------------------------------------------------------------------

    def test_declares_its_metadata(self, env: ConformanceEnv) -> None:
        cls = type(env.adapter)
        assert cls.slug
        assert cls.display_name
        assert cls.capabilities
        for capability, operation in cls.operations.items():
            assert capability in cls.capabilities, f"{operation} mapped for undeclared {capability}"
            assert operation in cls.limits, f"{operation} has no documented limit"

    async def test_undeclared_capabilities_raise_not_supported(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        a = env.adapter
        offer = OfferUpdate(sku=sample_listings[0].sku, price=sample_listings[0].price)
        now = datetime.now(UTC)
        today = now.date()
        calls: dict[Capability, Callable[[], Awaitable[object]]] = {
            Capability.PUSH_LISTINGS: lambda: a.push_listings(sample_listings[:1]),
            Capability.PUSH_OFFERS: lambda: a.push_offers([offer]),
            Capability.POLL_SUBMISSIONS: lambda: a.poll_submissions(["x"]),
            Capability.FETCH_LISTING_STATES: lambda: a.fetch_listing_states(["x"]),
            Capability.PULL_ORDERS: lambda: a.pull_orders(None),
            Capability.PULL_SALES: lambda: a.pull_sales(SalesPeriod(start=today, end=today)),
            Capability.ORDER_WRITEBACK: lambda: a.ship(
                "x", Shipment(carrier="x", tracking_number="1", shipped_at=now)
            ),
        }
        for capability, call in calls.items():
            if capability in a.capabilities:
                continue
            await expect_error(CapabilityNotSupportedError, call, capability.value)

    # connection -----------------------------------------------------------------------------

    async def test_check_connection_succeeds_against_the_sandbox(self, env: ConformanceEnv) -> None:
        _require(env, Capability.CHECK_CONNECTION)
        await env.adapter.check_connection()

    # listings -------------------------------------------------------------------------------

    async def test_push_returns_one_result_per_item_in_input_order(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        _require(env, Capability.PUSH_LISTINGS)
        items = list(reversed(sample_listings))
        results = await self._push(env, items)
        assert_one_result_per_input("push_listings", items, results)
        assert all(r.status is ItemStatus.ACCEPTED for r in results), results
        assert {i.sku for i in items} <= env.sandbox.listing_skus(env.account)

    async def test_repushing_the_same_listings_creates_no_duplicates(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        _require(env, Capability.PUSH_LISTINGS)
        await self._push(env, sample_listings)
        before = env.sandbox.listing_skus(env.account)
        again = await self._push(env, sample_listings)
        assert env.sandbox.listing_skus(env.account) == before
        assert_one_result_per_input("push_listings", sample_listings, again)
        assert all(r.status in (ItemStatus.ACCEPTED, ItemStatus.UNCHANGED) for r in again)

    async def test_a_rejected_item_comes_back_rejected_with_a_field_issue(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        _require(env, Capability.PUSH_LISTINGS)
        bad = sample_listings[1].sku
        env.sandbox.faults.reject([bad], field="item_name")
        results = await self._push(env, sample_listings)
        assert_one_result_per_input("push_listings", sample_listings, results)
        for result in results:
            if result.sku == bad:
                assert result.status is ItemStatus.REJECTED
                assert result.issues
                assert result.issues[0].field
                assert bad in result.issues[0].message
            else:
                assert result.status is ItemStatus.ACCEPTED, result

    async def test_more_items_than_the_batch_maximum_go_out_in_chunks(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        _require(env, Capability.PUSH_LISTINGS)
        operation = type(env.adapter).operations[Capability.PUSH_LISTINGS]
        limit = type(env.adapter).limits[operation]
        n = 2 * limit.max_batch_size + 1
        if limit.bulk_threshold is not None and n >= limit.bulk_threshold:
            n = limit.bulk_threshold - 1
        if n <= limit.max_batch_size:
            pytest.skip("bulk threshold leaves no room for more than one item-API batch")
        items = _variants(sample_listings, n, "C")
        before = env.sandbox.call_count(operation)
        results = await self._push(env, items)
        assert_one_result_per_input("push_listings", items, results)
        assert env.sandbox.call_count(operation) - before == math.ceil(n / limit.max_batch_size)

    async def test_large_pushes_take_the_bulk_route_and_resolve_per_item(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        _require(env, Capability.BULK_FEED)
        _require(env, Capability.POLL_SUBMISSIONS)
        operation = type(env.adapter).operations[Capability.PUSH_LISTINGS]
        threshold = type(env.adapter).limits[operation].bulk_threshold
        assert threshold, "a BULK_FEED adapter declares the bulk threshold of its push operation"
        items = _variants(sample_listings, threshold, "B")
        first = await env.adapter.push_listings(items)
        assert_one_result_per_input("push_listings (bulk)", items, first)
        assert all(r.status is ItemStatus.SUBMITTED and r.submission_id for r in first)
        settled = await _settle(env, first)
        assert_one_result_per_input("poll_submissions", items, settled)
        assert all(r.status is ItemStatus.ACCEPTED for r in settled)

    # offers and states ----------------------------------------------------------------------

    async def test_offers_return_one_result_per_item_in_input_order(
        self,
        env: ConformanceEnv,
        sample_listings: list[ListingPayload],
        sample_offers: list[OfferUpdate],
    ) -> None:
        _require(env, Capability.PUSH_OFFERS)
        if Capability.PUSH_LISTINGS in env.adapter.capabilities:
            await self._push(env, sample_listings)
        offers = list(reversed(sample_offers))
        results = await _settle(env, await env.adapter.push_offers(offers))
        assert_one_result_per_input("push_offers", offers, results)
        assert all(r.status in (ItemStatus.ACCEPTED, ItemStatus.UNCHANGED) for r in results)

    async def test_listing_states_come_back_one_per_sku(
        self,
        env: ConformanceEnv,
        sample_listings: list[ListingPayload],
    ) -> None:
        _require(env, Capability.FETCH_LISTING_STATES)
        if Capability.PUSH_LISTINGS in env.adapter.capabilities:
            await self._push(env, sample_listings)
        skus = [i.sku for i in sample_listings] + ["NO-SUCH-SKU-1"]
        states = await env.adapter.fetch_listing_states(skus)
        assert_one_result_per_input("fetch_listing_states", skus, states)
        assert not states[-1].exists

    async def test_orders_come_in_pages_and_a_stored_cursor_resumes_without_repeats(
        self,
        env: ConformanceEnv,
        sample_listings: list[ListingPayload],
    ) -> None:
        """Needs a sandbox with an order book (`sandbox.orders`, see sandbox_orders)."""
        _require(env, Capability.PULL_ORDERS)
        book = getattr(env.sandbox, "orders", None)
        if book is None:
            pytest.skip("the sandbox keeps no order book")
        start = env.sandbox.clock.utcnow() - timedelta(minutes=1)
        stocked = [item.model_copy(update={"quantity": 10}) for item in sample_listings]
        await self._push(env, stocked)
        placed = {book.place(env.account, {i.sku: 1})["id"] for i in stocked for _ in range(3)}
        env.sandbox.clock.advance(600)  # past any marketplace's reporting lag
        book.page_cap = 2
        first = await env.adapter.pull_orders(updated_after=start)
        assert first.cursor is not None, "more orders than a page must come in pages"
        for _ in range(2):  # the second time repeats the pages after the stored first one
            rest = await pull_pass(env.adapter, updated_after=start, cursor=first.cursor)
            seen = [o.order_id for o in (*first.orders, *rest.orders)]
            assert sorted(seen) == sorted(placed)  # nothing lost, nothing twice
        sold = {i.sku for i in stocked}
        assert all(line.sku in sold for line in first.orders[0].lines)

    # error classification -------------------------------------------------------------------

    async def _push_one(self, env: ConformanceEnv, items: list[ListingPayload]) -> Any:
        if Capability.PUSH_LISTINGS in env.adapter.capabilities:
            return await env.adapter.push_listings(items[:1])
        return await env.adapter.check_connection()

    def _operation(self, env: ConformanceEnv) -> str:
        ops = type(env.adapter).operations
        return ops.get(Capability.PUSH_LISTINGS) or ops[Capability.CHECK_CONNECTION]

    async def _push_one_fails(
        self, env: ConformanceEnv, items: list[ListingPayload], expected: type[E], what: str
    ) -> E | None:
        """The error pushing one item (or checking the connection) raises: `expected`, and never
        one outside the SDK's error tree. Only the AdapterError base may be absent."""
        required = expected is not AdapterError
        return await expect_error(
            expected, lambda: self._push_one(env, items), what, required=required
        )

    async def test_throttling_becomes_rate_limited_with_retry_after(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        env.sandbox.faults.fail(429, operation=self._operation(env), retry_after=7)
        error = await self._push_one_fails(env, sample_listings, RateLimitedError, "a 429")
        assert error is not None
        assert error.retry_after == pytest.approx(7, abs=0.5), error.retry_after

    @pytest.mark.parametrize("status", [500, 503])
    async def test_server_errors_become_marketplace_unavailable(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload], status: int
    ) -> None:
        env.sandbox.faults.fail(status, operation=self._operation(env))
        await self._push_one_fails(env, sample_listings, MarketplaceUnavailableError, f"a {status}")

    @pytest.mark.parametrize("kind", [FaultKind.TIMEOUT, FaultKind.HANG, FaultKind.DROP])
    async def test_timeouts_and_dropped_connections_become_marketplace_unavailable(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload], kind: FaultKind
    ) -> None:
        env.sandbox.faults.inject(kind, operation=self._operation(env), delay=1.0)
        await self._push_one_fails(env, sample_listings, MarketplaceUnavailableError, f"a {kind}")

    @pytest.mark.parametrize("status", [401, 403])
    async def test_refused_credentials_become_authentication_errors(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload], status: int
    ) -> None:
        env.sandbox.faults.fail(status, operation=self._operation(env), times=None)
        await self._push_one_fails(env, sample_listings, AuthenticationError, f"a {status}")

    # hygiene --------------------------------------------------------------------------------

    async def test_no_request_leaves_for_another_host(
        self, env: ConformanceEnv, sample_listings: list[ListingPayload]
    ) -> None:
        with pytest.raises(httpx.ConnectError):
            await env.http.get("https://marketplace.invalid/")
        env.transport.refused.clear()
        if Capability.CHECK_CONNECTION in env.adapter.capabilities:
            await env.adapter.check_connection()
        await self._push_one(env, sample_listings)
        assert env.transport.refused == []

    async def test_secrets_never_appear_in_reprs_errors_or_logs(
        self,
        env: ConformanceEnv,
        sample_listings: list[ListingPayload],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        secrets = secret_values(env.adapter.config)
        assert secrets, "the config model keeps its secrets as SecretStr"
        texts = object_texts(env.adapter, "before its calls")
        await self._push_one(env, sample_listings)
        for status in (401, 429, 503):
            env.sandbox.faults.fail(status, operation=self._operation(env), times=None)
            # an error may be absent here (per-item results), but it is never unclassified
            error = await self._push_one_fails(env, sample_listings, AdapterError, f"a {status}")
            if error is not None:
                texts |= error_texts(f"error after a {status}", error)
            env.sandbox.faults.clear()
        texts |= object_texts(env.adapter, "after its calls")  # now it holds tokens
        texts["logs"] = caplog.text
        assert_no_secret(texts, [*secrets, *env.sandbox.issued_secrets()])
