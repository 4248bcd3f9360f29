"""How the Amazon sandbox meters SP-API calls: the usage plans as the API models document them,
what each seller's calls of an operation looked like on arrival (peak in flight, peak burst),
and the headers every SP-API answer carries, refusals included.

The plans are read from the models' operation descriptions ("**Usage Plan:**" followed by a
table of rate and burst), not from the adapter's declared limits: the sandbox checks the
adapter against what Amazon documents.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The description's table: a header row, a rule, then "| 5 | 10 |" (rate, burst).
_USAGE_PLAN = re.compile(r"\*\*Usage Plan:\*\*.*?\n\|\s*([0-9.]+)\s*\|\s*([0-9.]+)\s*\|", re.S)
# Where a request's operation and its CallLoad are kept for the headers middleware.
OPERATION_KEY = "amzn_operation"
LOAD_KEY = "amzn_load"


def usage_plans(*models: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Every operation's default (rate per second, burst) as the models' descriptions state."""
    plans: dict[str, tuple[float, float]] = {}
    for model in models:
        for item in model.get("paths", {}).values():
            for op in item.values():
                if not isinstance(op, Mapping) or "operationId" not in op:
                    continue
                found = _USAGE_PLAN.search(op.get("description", ""))
                if found:
                    plans[op["operationId"]] = (float(found[1]), float(found[2]))
    return plans


@dataclass
class CallLoad:
    """One seller's calls of one operation as they arrived.

    `burst` is how many tokens an unbounded bucket refilling at the plan's rate would have
    lent by the latest arrival: the smallest burst the arrivals so far fit in. A client that
    keeps to a plan of (rate, b) never makes it exceed b, whatever the sandbox answered."""

    in_flight: int = 0
    peak_in_flight: int = 0
    burst: float = 0.0
    peak_burst: float = 0.0
    last_arrival: float | None = None

    def arrive(self, now: float, rate: float) -> None:
        refilled = 0.0 if self.last_arrival is None else (now - self.last_arrival) * rate
        self.burst = max(1.0, self.burst + 1.0 - refilled)
        self.peak_burst = max(self.peak_burst, self.burst)
        self.last_arrival = now
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def public(self) -> dict[str, float]:
        return {"peakInFlight": self.peak_in_flight, "peakBurst": round(self.peak_burst, 3)}


def loads_of(loads: Mapping[tuple[str, str], CallLoad], seller: str) -> dict[str, dict[str, float]]:
    return {op: load.public() for (s, op), load in loads.items() if s == seller}


class SpApiHeaders:
    """ASGI middleware: an answer to an SP-API operation (one whose handler named it in the
    request state) carries `x-amzn-RequestId` and the operation's `x-amzn-RateLimit-Limit`
    whatever its status, as successful ones do; and the call leaves the operation's in-flight
    count when its answer is done."""

    def __init__(self, app: ASGIApp, rate_of: Callable[[str], float | None]) -> None:
        self.app = app
        self.rate_of = rate_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def stamped(message: Message) -> None:
            operation = state.get(OPERATION_KEY)
            if message["type"] == "http.response.start" and operation is not None:
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
                rate = self.rate_of(operation)
                if rate is not None:
                    headers.setdefault("x-amzn-RateLimit-Limit", f"{rate:g}")
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            load = state.pop(LOAD_KEY, None)
            if isinstance(load, CallLoad):
                load.in_flight -= 1
