"""Building blocks for marketplace sandboxes: scaled time, documented rate limits, fault
injection, per-seller state and spec validation. Each adapter's `sandbox.py` assembles them into
an ASGI app that speaks its marketplace's protocol on the real paths."""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from odop_sync.adapter_sdk._data import specs_dir
from odop_sync.adapter_sdk._schema import SchemaError, SchemaValidator

__all__ = [
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FaultSpec",
    "PackedTable",
    "Rejection",
    "SandboxBase",
    "SandboxClock",
    "SchemaError",
    "SchemaValidator",
    "StateStore",
    "Throttle",
    "TokenBucketGuard",
    "fault_admin_router",
    "fault_response",
    "simulate_transport_fault",
    "specs_dir",
]


class SandboxClock:
    """Marketplace time running `time_scale` times faster than the wall clock.

    With time_scale=1000, Amazon's createFeed refill of one token per 120 s takes 0.12 s. The
    same object is a `Clock` for the adapter's RateLimiter, so both sides agree on time.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self._real_start = time.monotonic()
        self._wall_start = datetime.now(UTC)
        self._offset = 0.0

    def monotonic(self) -> float:
        return (time.monotonic() - self._real_start) * self.time_scale + self._offset

    def utcnow(self) -> datetime:
        return self._wall_start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.time_scale)

    def advance(self, seconds: float) -> None:
        """Jump marketplace time forward (token expiry, feed processing) without waiting."""
        self._offset += seconds


@dataclass(frozen=True, slots=True)
class Throttle:
    allowed: bool
    rate: float
    burst: float
    retry_after: float  # marketplace seconds until one token is back (0 when allowed)


class TokenBucketGuard:
    """Server-side enforcement of a documented usage plan per (seller, operation)."""

    def __init__(
        self,
        plans: Mapping[str, tuple[float, float]],
        clock: SandboxClock,
        *,
        throttled_response: Callable[[str, Throttle], Response] | None = None,
    ) -> None:
        self.plans = dict(plans)
        self.clock = clock
        self.throttled_response = throttled_response
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, updated_at
        self.throttled: Counter[str] = Counter()

    def check(self, seller: str, operation: str, cost: float = 1.0) -> Throttle:
        rate, burst = self.plans.get(operation, (float("inf"), float("inf")))
        if rate == float("inf"):
            return Throttle(True, rate, burst, 0.0)
        now = self.clock.monotonic()
        tokens, updated = self._buckets.get((seller, operation), (burst, now))
        tokens = min(burst, tokens + (now - updated) * rate)
        if tokens >= cost:
            self._buckets[(seller, operation)] = (tokens - cost, now)
            return Throttle(True, rate, burst, 0.0)
        self._buckets[(seller, operation)] = (tokens, now)
        self.throttled[operation] += 1
        return Throttle(False, rate, burst, (cost - tokens) / rate)

    def enforce(self, seller: str, operation: str) -> Response | None:
        verdict = self.check(seller, operation)
        if verdict.allowed or self.throttled_response is None:
            return None
        return self.throttled_response(operation, verdict)

    def reset(self) -> None:
        self._buckets.clear()
        self.throttled.clear()


class FaultKind(StrEnum):
    STATUS = "status"  # answer with `status` (429 with Retry-After, 5xx, 401/403 ...)
    TIMEOUT = "timeout"  # wait `delay`, then answer 504
    HANG = "hang"  # wait `delay`, then the client sees a read timeout
    DROP = "drop"  # the connection drops: the client sees a transport error
    STUCK_FEED = "stuck_feed"  # async submissions created now never finish


class FaultSpec(BaseModel):
    """A fault as the admin endpoint `/_sandbox/faults` accepts it."""

    kind: FaultKind = FaultKind.STATUS
    status: int = Field(default=500, ge=400, le=599)
    operation: str | None = None
    seller: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    times: int | None = 1
    probability: float = Field(default=1.0, ge=0.0, le=1.0)


@dataclass
class Fault:
    kind: FaultKind
    status: int = 500
    operation: str | None = None  # None: any operation
    seller: str | None = None  # None: any seller
    retry_after: float | None = None  # marketplace seconds
    delay: float = 0.0  # marketplace seconds
    times: int | None = 1  # None: until cleared
    probability: float = 1.0
    id: int = 0
    fired: int = 0

    def matches(self, operation: str, seller: str | None) -> bool:
        return (self.operation in (None, operation)) and (
            self.seller is None or self.seller == seller
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    sku: str
    field: str
    message: str
    code: str = "SANDBOX_REJECTED"


@dataclass
class FaultInjector:
    """Scripted or probabilistic faults, consumed by the sandbox one request at a time."""

    seed: int | None = None
    faults: list[Fault] = field(default_factory=list)
    rejections: dict[str, Rejection] = field(default_factory=dict)
    _next_id: int = 1

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - fault dice, not cryptography

    def inject(self, kind: FaultKind | str = FaultKind.STATUS, **options: Any) -> Fault:
        fault = Fault(kind=FaultKind(kind), id=self._next_id, **options)
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def fail(
        self,
        status: int,
        *,
        operation: str | None = None,
        retry_after: float | None = None,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> Fault:
        return self.inject(
            FaultKind.STATUS,
            status=status,
            operation=operation,
            retry_after=retry_after,
            times=times,
            probability=probability,
        )

    def reject(
        self,
        skus: Iterable[str],
        *,
        field: str,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        for sku in skus:
            self.rejections[sku] = Rejection(
                sku,
                field,
                message or f"The value for '{field}' is not valid.",
                code or "SANDBOX_REJECTED",
            )

    def rejection_for(self, sku: str) -> Rejection | None:
        return self.rejections.get(sku)

    def take(self, operation: str, seller: str | None = None) -> Fault | None:
        """The fault to apply to this request, if any (request faults only, not STUCK_FEED)."""
        for fault in list(self.faults):
            if fault.kind is FaultKind.STUCK_FEED or not fault.matches(operation, seller):
                continue
            if fault.probability < 1.0 and self._random.random() >= fault.probability:
                continue
            return self._consume(fault)
        return None

    def take_stuck_feed(self, seller: str | None = None) -> bool:
        for fault in list(self.faults):
            if fault.kind is FaultKind.STUCK_FEED and fault.matches(fault.operation or "", seller):
                self._consume(fault)
                return True
        return False

    def _consume(self, fault: Fault) -> Fault:
        fault.fired += 1
        if fault.times is not None and fault.fired >= fault.times:
            self.faults.remove(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.rejections.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "faults": [{**asdict(f), "kind": f.kind.value} for f in self.faults],
            "rejections": [asdict(r) for r in self.rejections.values()],
        }


async def simulate_transport_fault(fault: Fault, clock: SandboxClock) -> bool:
    """Play out TIMEOUT/HANG/DROP inside an ASGI handler.

    Returns True when the caller should now answer 504 (TIMEOUT); HANG and DROP raise httpx
    transport errors inside the app, which an ASGI transport hands to the client as-is.
    """
    if fault.kind is FaultKind.DROP:
        raise httpx.RemoteProtocolError("sandbox dropped the connection")
    if fault.kind in (FaultKind.TIMEOUT, FaultKind.HANG):
        await clock.sleep(fault.delay)
        if fault.kind is FaultKind.HANG:
            raise httpx.ReadTimeout("sandbox never answered")
        return True
    return False


async def fault_response(
    faults: FaultInjector,
    clock: SandboxClock,
    operation: str,
    seller: str | None,
    render: Callable[[int, dict[str, str]], Response],
) -> Response | None:
    """The answer to this request if a fault is due: `render(status, headers)` builds the
    marketplace's own error body (a STATUS fault, with Retry-After when it has one, or 504 after
    a TIMEOUT); HANG and DROP raise inside the app. None: answer normally."""
    fault = faults.take(operation, seller)
    if fault is None:
        return None
    if fault.kind is FaultKind.STATUS:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        return render(fault.status, headers)
    if await simulate_transport_fault(fault, clock):
        return render(504, {})
    return None


class _RejectionSpec(BaseModel):
    skus: list[str]
    field: str
    message: str | None = None
    code: str | None = None


def fault_admin_router(faults: FaultInjector) -> APIRouter:
    """`/_sandbox/faults`: GET lists, POST adds a fault, POST /rejections adds per-SKU
    rejections, DELETE clears everything."""
    router = APIRouter(prefix="/_sandbox/faults", tags=["sandbox"])

    @router.get("")
    async def list_faults() -> dict[str, Any]:
        return faults.snapshot()

    @router.post("", status_code=201)
    async def add_fault(spec: FaultSpec) -> dict[str, Any]:
        fault = faults.inject(**spec.model_dump())
        return {"id": fault.id}

    @router.post("/rejections", status_code=201)
    async def add_rejections(spec: _RejectionSpec) -> dict[str, Any]:
        faults.reject(spec.skus, field=spec.field, message=spec.message, code=spec.code)
        return {"rejections": len(faults.rejections)}

    @router.delete("", status_code=204)
    async def clear_faults() -> Response:
        faults.clear()
        return Response(status_code=204)

    return router


class PackedTable(MutableMapping[str, Any]):
    """A table whose JSON-able records are held serialised and compressed, decoded on access.

    A marketplace's listings are many and alike: as Python objects one Amazon listing costs
    ~9 KB (20,000 of them ~180 MB of the process), packed well under 1 KB. A record read from
    the table is a fresh copy: store a changed record back instead of mutating it in place."""

    def __init__(self) -> None:
        self._rows: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> Any:
        return orjson.loads(zlib.decompress(self._rows[key]))

    def __setitem__(self, key: str, value: Any) -> None:
        self._rows[key] = zlib.compress(orjson.dumps(value), 1)

    def __delitem__(self, key: str) -> None:
        del self._rows[key]

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class StateStore:
    """In-memory state per seller: named tables of JSON-able records, plus a call counter.
    Tables named in `packed` are PackedTables (large tables of records replaced, not mutated)."""

    def __init__(self, packed: Iterable[str] = ()) -> None:
        self._sellers: dict[str, dict[str, MutableMapping[str, Any]]] = {}
        self._packed = frozenset(packed)
        self.calls: Counter[tuple[str, str]] = Counter()

    def table(self, seller: str, name: str) -> MutableMapping[str, Any]:
        tables = self._sellers.setdefault(seller, {})
        if name not in tables:
            tables[name] = PackedTable() if name in self._packed else {}
        return tables[name]

    def sellers(self) -> list[str]:
        return sorted(self._sellers)

    def record_call(self, seller: str, operation: str) -> None:
        self.calls[(seller, operation)] += 1

    def call_count(self, operation: str, seller: str | None = None) -> int:
        return sum(
            n for (s, op), n in self.calls.items() if op == operation and seller in (None, s)
        )

    def dump(self, seller: str) -> dict[str, Any]:
        return {name: dict(rows) for name, rows in self._sellers.get(seller, {}).items()}

    def clear(self) -> None:
        self._sellers.clear()
        self.calls.clear()


class SandboxBase:
    """What every marketplace sandbox holds (scaled clock, faults, per-seller state, the secrets
    it handed out) and the conformance suite's handle on it; listings live in each seller's
    "listings" table."""

    def __init__(self, *, time_scale: float = 1.0, seed: int | None = None) -> None:
        self.clock = SandboxClock(time_scale)
        self.faults = FaultInjector(seed=seed)
        self.state = StateStore()
        self._issued: set[str] = set()

    def listing_skus(self, account: str) -> set[str]:
        return set(self.state.table(account, "listings"))

    def call_count(self, operation: str) -> int:
        return self.state.call_count(operation)
