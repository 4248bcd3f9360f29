"""The errors an adapter raises for the core to act on.

Per-item problems are never exceptions (they come back as `ItemResult`s); these are for the
request or the account as a whole. Adapters classify, the core retries::

    AdapterError
    ├── RetryableAdapterError            retry later, same payload
    │   ├── RateLimitedError             429 / throttled; `retry_after` seconds when known
    │   └── MarketplaceUnavailableError  5xx, timeouts, dropped connections
    ├── PermanentAdapterError            retrying the same request will not help
    │   ├── AuthenticationError          credentials refused (401/403, bad refresh token)
    │   ├── PayloadRejectedError         the whole request was refused (400/413/415)
    │   └── RemoteNotFoundError          the remote object does not exist
    ├── CapabilityNotSupportedError      the adapter does not offer this operation
    └── AdapterConfigError               the account's configuration is invalid

Messages are written by adapters from marketplace error codes and our own words only: never a
token, secret, header value or request body, so `str()` and `repr()` are always safe to log.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdapterConfigError",
    "AdapterError",
    "AuthenticationError",
    "CapabilityNotSupportedError",
    "MarketplaceUnavailableError",
    "PayloadRejectedError",
    "PermanentAdapterError",
    "RateLimitedError",
    "RemoteNotFoundError",
    "RetryableAdapterError",
]


class AdapterError(Exception):
    """Base of every error an adapter raises on purpose."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        adapter: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.adapter = adapter
        self.operation = operation
        self.status_code = status_code
        self.code = code

    def __str__(self) -> str:
        where = ".".join(p for p in (self.adapter, self.operation) if p)
        bits = [f"{where}: {self.message}" if where else self.message]
        if self.status_code is not None:
            bits.append(f"(HTTP {self.status_code}{', ' + self.code if self.code else ''})")
        return " ".join(bits)

    def __repr__(self) -> str:
        fields: dict[str, Any] = {
            "message": self.message,
            "adapter": self.adapter,
            "operation": self.operation,
            "status_code": self.status_code,
            "code": self.code,
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v is not None)
        return f"{type(self).__name__}({inner})"


class RetryableAdapterError(AdapterError):
    retryable = True


class RateLimitedError(RetryableAdapterError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} retry after {self.retry_after:g}s" if self.retry_after else text


class MarketplaceUnavailableError(RetryableAdapterError):
    pass


class PermanentAdapterError(AdapterError):
    pass


class AuthenticationError(PermanentAdapterError):
    pass


class PayloadRejectedError(PermanentAdapterError):
    pass


class RemoteNotFoundError(PermanentAdapterError):
    pass


class CapabilityNotSupportedError(AdapterError):
    pass


class AdapterConfigError(AdapterError):
    pass
