"""Marketplace accounts: credentials checked by the adapter, encrypted at rest, write-only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.accounts import problems
from odop_sync.accounts import repository as repo
from odop_sync.accounts.construct import construct
from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.accounts.schemas import (
    AccountCreate,
    AccountProblem,
    AccountRead,
    AccountUpdate,
    CheckResult,
)
from odop_sync.adapter_sdk import (
    Adapter,
    AdapterConfigError,
    AdapterError,
    AuthenticationError,
    CredentialsChanged,
    RateLimiter,
    RetryableAdapterError,
    create_http_client,
)
from odop_sync.kit.money import paise_to_rupees, rupees_to_paise
from odop_sync.kit.problems import Conflict, FieldIssue, NotFound, ValidationProblem
from odop_sync.kit.time import utcnow
from odop_sync.models import MarketplaceAccount

log = logging.getLogger(__name__)

CONFIG_ERROR_WORDS = {
    "missing": "is required",
    "string_type": "must be text",
    "extra_forbidden": "is not a setting of this marketplace; remove it",
    "string_too_short": "must not be empty",
    "url_parsing": "must be a URL",
}


def _secret_fields(model: type[BaseModel]) -> list[str]:
    return [
        n for n, f in model.model_fields.items() if f.annotation in (SecretStr, SecretStr | None)
    ]


def _plain(config: BaseModel) -> dict[str, Any]:
    """The config with secrets revealed, for encryption only."""
    out: dict[str, Any] = {}
    for name, value in config.model_dump().items():
        out[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return orjson.loads(orjson.dumps(out, default=str))  # type: ignore[no-any-return]


def parse_credentials(cls: type[Adapter], raw: dict[str, Any]) -> BaseModel:
    try:
        config: BaseModel = cls.parse_config(raw)
    except AdapterConfigError as exc:
        # The adapter names fields and error kinds only, never the values (they may be secrets).
        problems = str(exc).split("invalid configuration:", 1)[-1]
        issues = []
        for part in problems.split(";"):
            name, _, kind = part.strip().partition(":")
            message = CONFIG_ERROR_WORDS.get(kind.strip(), f"is invalid ({kind.strip()})")
            issues.append(FieldIssue(field=f"credentials.{name.strip()}", message=message))
        raise ValidationProblem(
            f"the credentials do not fit the {cls.display_name} adapter", errors=issues
        ) from None
    return config


async def create_account(
    session: AsyncSession,
    *,
    agency_id: int,
    body: AccountCreate,
    adapters: dict[str, type[Adapter]],
    cipher: CredentialCipher,
) -> MarketplaceAccount:
    cls = adapters.get(body.adapter)
    if cls is None:
        raise ValidationProblem(
            f"no adapter {body.adapter!r}",
            errors=[
                FieldIssue(field="adapter", message=f"use one of {', '.join(sorted(adapters))}")
            ],
        )
    config = parse_credentials(cls, body.credentials)
    account = MarketplaceAccount(
        agency_id=agency_id,
        adapter=body.adapter,
        name=body.name,
        credentials_encrypted=cipher.encrypt(_plain(config)),
        markup_percent=body.markup_percent,
        markup_fixed_paise=rupees_to_paise(body.markup_fixed),
        rounding=body.rounding,
        floor_paise=rupees_to_paise(body.floor),
        stock_buffer=body.stock_buffer,
        enabled=body.enabled,
        # The marketplace's own currency: prices are converted into it from INR.
        currency=cls.currency,
    )
    if not await repo.add_account(session, account):
        raise Conflict(f"this agency already has an account named {body.name!r}")
    return account


# Fields whose change alters every listing's desired state: the account is re-projected.
RULE_FIELDS = ("markup_percent", "markup_fixed_paise", "rounding", "floor_paise", "stock_buffer")


async def update_account(
    session: AsyncSession,
    account: MarketplaceAccount,
    body: AccountUpdate,
    *,
    adapters: dict[str, type[Adapter]],
    cipher: CredentialCipher,
) -> MarketplaceAccount:
    """Apply the fields given; the account's problem (if any) ends, so it is tried again."""
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.credentials is not None:
        cls = adapters.get(account.adapter)
        if cls is None:
            raise ValidationProblem(
                f"the {account.adapter!r} adapter is not installed",
                errors=[FieldIssue(field="credentials", message="cannot be checked now")],
            )
        try:
            stored = cipher.decrypt(account.credentials_encrypted)
        except Exception:  # unreadable: the new ones must be complete
            stored = {}
        config = parse_credentials(cls, {**stored, **body.credentials})
        changes["credentials_encrypted"] = cipher.encrypt(_plain(config))
    for name, value in (
        ("markup_percent", body.markup_percent),
        ("markup_fixed_paise", _paise(body.markup_fixed)),
        ("rounding", body.rounding),
        ("floor_paise", _paise(body.floor)),
        ("stock_buffer", body.stock_buffer),
        ("enabled", body.enabled),
    ):
        if value is not None:
            changes[name] = value
    if any(name in changes and changes[name] != getattr(account, name) for name in RULE_FIELDS):
        account.projected_at = None  # the next pass re-projects every variant
    for name, value in {**changes, **problems.CLEARED}.items():
        setattr(account, name, value)
    if not await repo.save_changes(session):
        raise Conflict(f"this agency already has an account named {body.name!r}")
    return account


def _paise(value: Any) -> int | None:
    return None if value is None else rupees_to_paise(value)


def _problem(account: MarketplaceAccount) -> AccountProblem | None:
    if account.problem is None:
        return None
    return AccountProblem(
        reason=account.problem,
        since=account.problem_since or account.updated_at,
        failures=account.problem_failures,
        next_attempt_at=account.problem_retry_at,
    )


def account_read(
    account: MarketplaceAccount, adapters: dict[str, type[Adapter]], cipher: CredentialCipher
) -> AccountRead:
    cls = adapters.get(account.adapter)
    secret_names = _secret_fields(cls.config_model) if cls else []
    try:
        stored = cipher.decrypt(account.credentials_encrypted)
    except Exception:  # an unreadable credential is reported by /check, not here
        stored = {}
    return AccountRead(
        id=account.id,
        agency_id=account.agency_id,
        adapter=account.adapter,
        name=account.name,
        currency=account.currency,
        settings={k: v for k, v in stored.items() if k not in secret_names},
        secrets_set=sorted(k for k in secret_names if stored.get(k)),
        markup_percent=account.markup_percent,
        markup_fixed=str(paise_to_rupees(account.markup_fixed_paise)),
        rounding=account.rounding,
        floor=str(paise_to_rupees(account.floor_paise)),
        stock_buffer=account.stock_buffer,
        enabled=account.enabled,
        last_check_ok=account.last_check_ok,
        last_check_at=account.last_check_at,
        last_check_detail=account.last_check_detail,
        problem=_problem(account),
        created_at=account.created_at,
    )


async def get_account(
    session: AsyncSession, account_id: int, agency_scope: int | None
) -> MarketplaceAccount:
    account = await repo.account_by_id(session, account_id)
    if account is None or (agency_scope is not None and account.agency_id != agency_scope):
        raise NotFound(f"no account {account_id}")
    return account


async def list_accounts(
    session: AsyncSession, agency_scope: int | None
) -> list[MarketplaceAccount]:
    return await repo.accounts_of(session, agency_scope)


def _merger(
    account: MarketplaceAccount, cls: type[Adapter], cipher: CredentialCipher
) -> CredentialsChanged:
    """A credential the marketplace replaced during the check (a rotated refresh token) goes
    into the account's stored credentials with the check's own record of it."""

    async def changed(changes: Mapping[str, Any]) -> None:
        merged = {**cipher.decrypt(account.credentials_encrypted), **changes}
        cls.parse_config(merged)
        account.credentials_encrypted = cipher.encrypt(merged)

    return changed


async def check_account(
    account: MarketplaceAccount,
    *,
    adapters: dict[str, type[Adapter]],
    cipher: CredentialCipher,
    transport: httpx.AsyncBaseTransport | None = None,
    limiter: RateLimiter | None = None,
) -> CheckResult:
    """Ask the marketplace whether the stored credentials work; the answer is recorded.
    `limiter`: the account's rate limiter in this process (the sync's and the order pull's), so
    the check's call counts against the same marketplace limit; else one for this check."""
    cls = adapters.get(account.adapter)
    if cls is None:
        ok, detail = False, f"the {account.adapter!r} adapter is not installed"
    else:
        try:
            config = cls.parse_config(cipher.decrypt(account.credentials_encrypted))
            async with create_http_client(adapter_slug=cls.slug, transport=transport) as http:
                limits = limiter or RateLimiter(cls.limits, account_key=str(account.id))
                adapter = construct(
                    cls,
                    config,
                    http,
                    limits,
                    on_credentials_changed=_merger(account, cls, cipher),
                )
                await adapter.check_connection()
            ok, detail = True, f"connected to {cls.display_name}"
        except AuthenticationError:
            ok, detail = False, f"{cls.display_name} refused the credentials; update them"
        except RetryableAdapterError as exc:
            ok, detail = False, f"{cls.display_name} is not answering now ({type(exc).__name__})"
        except (AdapterError, httpx.HTTPError, ValueError) as exc:
            log.warning("account %s check failed: %s", account.id, type(exc).__name__)
            ok, detail = False, f"the check failed: {type(exc).__name__}"
    now = utcnow()
    account.last_check_ok, account.last_check_at, account.last_check_detail = ok, now, detail
    if ok:  # a call succeeded: whatever the account was waiting out is over
        for name, value in problems.CLEARED.items():
            setattr(account, name, value)
    return CheckResult(ok=ok, detail=detail, checked_at=now)
