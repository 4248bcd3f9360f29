"""The conformance suite judged by what it catches: each check of `AdapterConformance` is run
against the real Amazon adapter and its sandbox, once unbroken (it passes) and once with exactly
one deliberate breakage (it fails, naming the breakage).

The checks are driven directly: `AdapterConformance` methods take their fixtures (`env`,
`sample_listings`, `sample_offers`, `caplog`, the parametrized `status`/`kind`) as arguments,
so the test builds them itself, as an adapter's conftest would."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from adapters.amazon.adapter import AmazonAdapter, AmazonConfig
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp
from pydantic import SecretStr

from odop_sync.adapter_sdk import (
    AuthenticationError,
    ItemResult,
    ListingPayload,
    MarketplaceUnavailableError,
    Money,
    OfferUpdate,
    RemoteListingState,
    SubmissionStatus,
    classify_response,
)
from odop_sync.adapter_sdk.sandbox import FaultKind
from odop_sync.adapter_sdk.testing import (
    AdapterConformance,
    ConformanceEnv,
    conformance_env,
    sample_listing,
)

# Marketplace time 1000 times faster than the wall clock: a 90 s feed cycle takes 90 ms.
TIME_SCALE = 1000.0


def samples() -> list[ListingPayload]:
    """Three complete carpets (the suite asks for at least three listings)."""
    return [
        sample_listing("BHD-CARPET-RED"),
        sample_listing("BHD-CARPET-BLUE", color="Blue"),
        sample_listing("BHD-CARPET-GREEN", color="Green", size="4x6 ft"),
    ]


def offers_for(items: Sequence[ListingPayload]) -> list[OfferUpdate]:
    """A new price (one rupee less) and one more piece for each listing."""
    return [
        OfferUpdate(
            sku=i.sku,
            price=Money(amount=i.price.amount - 100),
            mrp=i.mrp,
            quantity=i.quantity + 1,
        )
        for i in items
    ]


@asynccontextmanager
async def amazon_env(adapter_cls: type[AmazonAdapter]) -> AsyncIterator[ConformanceEnv]:
    sandbox = AmazonSandbox(time_scale=TIME_SCALE, app_credentials=SandboxApp())
    creds = sandbox.credentials
    config = AmazonConfig(
        seller_id=SANDBOX_SELLER,
        lwa_client_id=creds.client_id,
        lwa_client_secret=SecretStr(creds.client_secret),
        refresh_token=SecretStr(next(iter(creds.refresh_tokens))),
    )
    async with conformance_env(
        adapter_cls, config, app=sandbox.app, sandbox=sandbox, account=SANDBOX_SELLER
    ) as env:
        yield env


async def run_check(
    check: str, env: ConformanceEnv, caplog: pytest.LogCaptureFixture, **params: Any
) -> None:
    """Call one AdapterConformance test method with the fixtures it names."""
    method = getattr(AdapterConformance(), check)
    listings = samples()
    fixtures: dict[str, Any] = {
        "env": env,
        "sample_listings": listings,
        "sample_offers": offers_for(listings),
        "caplog": caplog,
        **params,
    }
    result = method(**{name: fixtures[name] for name in inspect.signature(method).parameters})
    if inspect.isawaitable(result):
        await result


# the breakages: each subclass of the real adapter gets exactly one thing wrong ------------------


class ReversesPushResults(AmazonAdapter):
    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        return list(reversed(await super().push_listings(items)))


class ReversesOfferResults(AmazonAdapter):
    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        return list(reversed(await super().push_offers(offers)))


class ReversesListingStates(AmazonAdapter):
    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        return list(reversed(await super().fetch_listing_states(skus)))


class LosesLastPushResult(AmazonAdapter):
    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        return (await super().push_listings(items))[:-1]


class LosesLastOfferResult(AmazonAdapter):
    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        return (await super().push_offers(offers))[:-1]


class LosesLastListingState(AmazonAdapter):
    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        return (await super().fetch_listing_states(skus))[:-1]


class LosesAFeedResult(AmazonAdapter):
    """A finished feed reports one item fewer than it carried."""

    async def poll_submissions(self, submission_ids: Sequence[str]) -> list[SubmissionStatus]:
        statuses = await super().poll_submissions(submission_ids)
        return [s.model_copy(update={"results": s.results[:-1]}) for s in statuses]


class ReprShowsRefreshToken(AmazonAdapter):
    def __repr__(self) -> str:
        return f"<AmazonAdapter token={self.config.refresh_token.get_secret_value()}>"


class ReprShowsAccessToken(AmazonAdapter):
    """The repr shows the LWA access token it holds (there is one once it has made a call)."""

    def __repr__(self) -> str:
        return f"<AmazonAdapter access_token={self.auth._access_token}>"


class ErrorNamesClientSecret(AmazonAdapter):
    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        try:
            return await super().push_listings(items)
        except AuthenticationError as exc:
            secret = self.config.lwa_client_secret.get_secret_value()
            raise AuthenticationError(
                f"credentials refused for client secret {secret}", adapter=self.slug
            ) from exc


class ErrorCauseNamesRefreshToken(AmazonAdapter):
    """The message is clean, but the chained cause (in every logged traceback) is not."""

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        try:
            return await super().push_listings(items)
        except AuthenticationError as exc:
            token = self.config.refresh_token.get_secret_value()
            raise AuthenticationError(exc.message, adapter=self.slug) from ValueError(
                f"refresh token {token} refused"
            )


EVERY_STATUS = tuple(range(400, 600))


class _HandlesRefusalsItself(AmazonAdapter):
    """`_send` hands every refused answer to `refused` instead of the SDK's classify_response."""

    async def _send(
        self, operation: str, method: str, url: str, *, allow: tuple[int, ...] = (), **kw: Any
    ) -> httpx.Response:
        response = await super()._send(operation, method, url, allow=EVERY_STATUS, **kw)
        if response.is_success or response.status_code in allow:
            return response
        raise self.refused(response, operation)

    def refused(self, response: httpx.Response, operation: str) -> Exception:
        raise NotImplementedError


class RaisesHttpxStatusErrors(_HandlesRefusalsItself):
    def refused(self, response: httpx.Response, operation: str) -> Exception:
        response.raise_for_status()
        raise AssertionError("unreachable: the answer was refused")


class ReadsErrorBodyWithTheWrongShape(_HandlesRefusalsItself):
    """Reads `error.code` where Amazon sends `errors[0].code`: a KeyError."""

    def refused(self, response: httpx.Response, operation: str) -> Exception:
        code = response.json()["error"]["code"]
        return classify_response(
            response, limiter=self.limiter, marketplace="Amazon", adapter=self.slug,
            operation=operation, code=code,
        )  # fmt: skip


class ParsesAMissingRetryAfter(_HandlesRefusalsItself):
    """float() of an absent Retry-After header: a ValueError on every refusal but 429."""

    def refused(self, response: httpx.Response, operation: str) -> Exception:
        float(response.headers.get("Retry-After", ""))
        return classify_response(
            response, limiter=self.limiter, marketplace="Amazon", adapter=self.slug,
            operation=operation,
        )  # fmt: skip


class CallsEveryRefusalAnOutage(_HandlesRefusalsItself):
    """Classified, but wrongly: a refused credential would be retried for ever."""

    def refused(self, response: httpx.Response, operation: str) -> Exception:
        return MarketplaceUnavailableError("Amazon is unavailable", adapter=self.slug)


class CallsHttpxDirectly(AmazonAdapter):
    """Skips the SDK's `send`: timeouts and dropped connections escape as httpx errors."""

    async def _send(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        await self.limiter.acquire(operation)
        response = await self.http.request(
            method, url, params=params, json=json_body, content=content, headers=headers,
            auth=self.auth if signed else None,
        )  # fmt: skip
        if response.is_success or response.status_code in allow:
            return response
        raise classify_response(
            response, limiter=self.limiter, marketplace="Amazon", adapter=self.slug,
            operation=operation,
        )  # fmt: skip


# which check catches which breakage, and the words its failure must use -------------------------


@dataclass(frozen=True)
class Case:
    broken: type[AmazonAdapter]
    check: str
    failure: str  # a regular expression the AssertionError's message matches
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        extra = "".join(f"[{v}]" for v in self.params.values())
        return f"{self.broken.__name__}-{self.check.removeprefix('test_')}{extra}"


ORDER = "out of input order"
LOST = "lost item"
SECRET = "secret"
UNCLASSIFIED = "unclassified error"
MISCLASSIFIED = "misclassified error"

PUSH_ORDER = "test_push_returns_one_result_per_item_in_input_order"
REPUSH = "test_repushing_the_same_listings_creates_no_duplicates"
REJECTED = "test_a_rejected_item_comes_back_rejected_with_a_field_issue"
CHUNKS = "test_more_items_than_the_batch_maximum_go_out_in_chunks"
BULK = "test_large_pushes_take_the_bulk_route_and_resolve_per_item"
OFFERS = "test_offers_return_one_result_per_item_in_input_order"
STATES = "test_listing_states_come_back_one_per_sku"
SECRETS = "test_secrets_never_appear_in_reprs_errors_or_logs"
THROTTLED = "test_throttling_becomes_rate_limited_with_retry_after"
SERVER = "test_server_errors_become_marketplace_unavailable"
AUTH = "test_refused_credentials_become_authentication_errors"
TIMEOUTS = "test_timeouts_and_dropped_connections_become_marketplace_unavailable"

CASES = [
    # (1) results out of input order
    *(Case(ReversesPushResults, check, ORDER) for check in (PUSH_ORDER, REPUSH, REJECTED)),
    Case(ReversesPushResults, CHUNKS, ORDER),
    Case(ReversesPushResults, BULK, ORDER),
    Case(ReversesOfferResults, OFFERS, ORDER),
    Case(ReversesListingStates, STATES, ORDER),
    # (2) a lost item
    *(Case(LosesLastPushResult, check, LOST) for check in (PUSH_ORDER, REPUSH, REJECTED)),
    Case(LosesLastPushResult, CHUNKS, LOST),
    Case(LosesLastPushResult, BULK, LOST),
    Case(LosesLastOfferResult, OFFERS, LOST),
    Case(LosesLastListingState, STATES, LOST),
    Case(LosesAFeedResult, BULK, LOST),
    # (3) a secret in a repr or an error
    Case(ReprShowsRefreshToken, SECRETS, SECRET),
    Case(ReprShowsAccessToken, SECRETS, SECRET),
    Case(ErrorNamesClientSecret, SECRETS, SECRET),
    Case(ErrorCauseNamesRefreshToken, SECRETS, SECRET),
    # (4) an unclassified error
    Case(RaisesHttpxStatusErrors, THROTTLED, UNCLASSIFIED),
    *(Case(RaisesHttpxStatusErrors, SERVER, UNCLASSIFIED, {"status": s}) for s in (500, 503)),
    *(Case(RaisesHttpxStatusErrors, AUTH, UNCLASSIFIED, {"status": s}) for s in (401, 403)),
    Case(RaisesHttpxStatusErrors, SECRETS, UNCLASSIFIED),
    Case(ReadsErrorBodyWithTheWrongShape, THROTTLED, UNCLASSIFIED),
    Case(ReadsErrorBodyWithTheWrongShape, SERVER, UNCLASSIFIED, {"status": 503}),
    Case(ReadsErrorBodyWithTheWrongShape, AUTH, UNCLASSIFIED, {"status": 401}),
    Case(ParsesAMissingRetryAfter, SERVER, UNCLASSIFIED, {"status": 503}),
    Case(ParsesAMissingRetryAfter, AUTH, UNCLASSIFIED, {"status": 403}),
    # (4b) an error in the SDK's tree, but the wrong one
    *(Case(CallsEveryRefusalAnOutage, AUTH, MISCLASSIFIED, {"status": s}) for s in (401, 403)),
    Case(CallsEveryRefusalAnOutage, THROTTLED, MISCLASSIFIED),
    *(
        Case(CallsHttpxDirectly, TIMEOUTS, UNCLASSIFIED, {"kind": k})
        for k in (FaultKind.HANG, FaultKind.DROP)
    ),
]

# What each failure names besides the kind of breakage: the exception that escaped.
ESCAPED = {
    RaisesHttpxStatusErrors: "HTTPStatusError",
    ReadsErrorBodyWithTheWrongShape: "KeyError",
    ParsesAMissingRetryAfter: "ValueError",
    CallsHttpxDirectly: "ReadTimeout|RemoteProtocolError",
    CallsEveryRefusalAnOutage: "raised MarketplaceUnavailableError",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_the_check_fails_on_the_broken_adapter(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    async with amazon_env(case.broken) as env:
        with pytest.raises(AssertionError, match=case.failure) as caught:
            await run_check(case.check, env, caplog, **case.params)
    if case.broken in ESCAPED:
        assert caught.match(ESCAPED[case.broken])


@pytest.mark.parametrize(
    "case", list({(c.check, *c.params.values()): c for c in CASES}.values()), ids=lambda c: c.id
)
async def test_the_same_check_passes_on_the_unbroken_adapter(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    async with amazon_env(AmazonAdapter) as env:
        await run_check(case.check, env, caplog, **case.params)


async def test_a_failure_never_prints_the_secret_it_found(caplog: pytest.LogCaptureFixture) -> None:
    """The failure says which kind of text held a secret, never the secret (CI logs are read)."""
    async with amazon_env(ReprShowsRefreshToken) as env:
        with pytest.raises(AssertionError) as caught:
            await run_check(SECRETS, env, caplog)
        token = env.adapter.config.refresh_token.get_secret_value()
    assert token not in str(caught.value)
    assert "repr(adapter)" in str(caught.value)
