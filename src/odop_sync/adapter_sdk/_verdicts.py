"""The conformance suite's verdicts: assertions that say which breakage they found.

`testing` is library code, outside pytest's assertion rewriting, so a bare `assert` there fails
with an empty message. These raise AssertionError with a message naming the breakage (results
out of input order, a lost item, a secret in some text, an unclassified error), and never the
secret itself: CI logs are read by many."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from odop_sync.adapter_sdk._errors import AdapterError

__all__ = [
    "assert_no_secret",
    "assert_one_result_per_input",
    "error_texts",
    "expect_error",
    "object_texts",
]

E = TypeVar("E", bound=AdapterError)


class _HasSku(Protocol):
    @property
    def sku(self) -> str: ...


def _skus(items: Sequence[str | _HasSku]) -> list[str]:
    return [i if isinstance(i, str) else i.sku for i in items]


def assert_one_result_per_input(
    operation: str, inputs: Sequence[str | _HasSku], results: Sequence[_HasSku]
) -> None:
    """Exactly one result per input, in input order (the Adapter contract for batches)."""
    sent, got = _skus(inputs), _skus(results)
    lost = list((Counter(sent) - Counter(got)).elements())
    extra = list((Counter(got) - Counter(sent)).elements())
    if lost:
        raise AssertionError(
            f"{operation}: lost item(s): {len(got)} results for {len(sent)} inputs, none for {lost}"
        )
    if extra:
        raise AssertionError(f"{operation}: results for SKUs not sent, or twice: {extra}")
    if got != sent:
        raise AssertionError(f"{operation}: results out of input order: sent {sent}, got {got}")


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


async def expect_error(
    expected: type[E], call: Callable[[], Awaitable[object]], what: str, *, required: bool = True
) -> E | None:
    """The `expected` error `call` raises. Anything outside the SDK's error tree is an
    unclassified error, another AdapterError a misclassified one; no error at all fails only
    when `required`."""
    try:
        await call()
    except expected as exc:
        return exc
    except AdapterError as exc:
        raise AssertionError(
            f"misclassified error: {what} raised {type(exc).__name__}, not {expected.__name__}"
        ) from exc
    except Exception as exc:
        raise AssertionError(
            f"unclassified error: {what} let {_type_name(exc)} escape; adapters raise the SDK's "
            f"error tree (here {expected.__name__}, odop_sync.adapter_sdk._errors)"
        ) from exc
    if required:
        raise AssertionError(f"{what} raised nothing, expected {expected.__name__}")
    return None


def error_texts(label: str, exc: BaseException) -> dict[str, str]:
    """str and repr of an error and of every error chained to it: a logged traceback shows
    them all."""
    texts: dict[str, str] = {}
    seen: set[int] = set()
    current: BaseException | None = exc
    depth = 0
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = label if depth == 0 else f"{label}, chained {_type_name(current)}"
        texts[f"str({where})"] = str(current)
        texts[f"repr({where})"] = repr(current)
        current = current.__cause__ or current.__context__
        depth += 1
    return texts


def object_texts(adapter: Any, when: str) -> dict[str, str]:
    """What an adapter shows of itself and its config."""
    return {
        f"repr(adapter) {when}": repr(adapter),
        f"str(adapter) {when}": str(adapter),
        f"repr(adapter.config) {when}": repr(adapter.config),
        f"str(adapter.config) {when}": str(adapter.config),
    }


def assert_no_secret(texts: Mapping[str, str], secrets: Iterable[str]) -> None:
    """No secret inside any of `texts` (label: text); the failure names the label only."""
    values = [s for s in secrets if s]
    leaks = [label for label, text in texts.items() if any(s in text for s in values)]
    if leaks:
        raise AssertionError(f"a secret (credential or issued token) appears in: {leaks}")
