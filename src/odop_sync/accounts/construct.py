"""Building an account's adapter with the core's services, the one way the factory (sync, order
pull) and the connection check do it."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
from pydantic import BaseModel

from odop_sync.adapter_sdk import Adapter, RateLimiter


def construct(
    cls: type[Adapter],
    config: BaseModel,
    http: httpx.AsyncClient,
    limiter: RateLimiter,
    **services: Any,
) -> Adapter:
    """The adapter, given the core's services (`images`, `on_credentials_changed`) as
    constructor keywords; an adapter whose constructor does not take them gets them as the
    attributes the SDK's base class keeps them in."""
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    given = {k: v for k, v in services.items() if takes_any or k in params}
    adapter = cls(config, http, limiter, **given)
    for name, value in services.items():
        if name not in given:
            setattr(adapter, name, value)
    return adapter


__all__ = ["construct"]
