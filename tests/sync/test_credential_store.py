"""A credential the marketplace replaces (Alibaba.com rotates refresh tokens) is merged into the
account's encrypted stored credentials through the adapter factory, survives a restart, and
does not make the factory drop the live adapter; credentials entered meanwhile win."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx
from adapters.alibaba.adapter import AlibabaAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.accounts.service import check_account
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.models import MarketplaceAccount
from odop_sync.sync.clients import AdapterFactory
from tests.adapters.alibaba.fake_gop import APP_KEY, APP_SECRET, REFRESH, FakeGop, mount
from tests.conftest import MakeAgency

CREDENTIALS = {"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": REFRESH}


@pytest.fixture
def gop() -> Iterator[FakeGop]:
    fake = FakeGop(rotate_refresh=True)
    with respx.mock(assert_all_called=False) as mock:
        mount(mock, fake)
        yield fake


@pytest.fixture
def cipher(settings: Settings) -> CredentialCipher:
    return CredentialCipher(settings.encryption_key)


async def _account(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_agency: MakeAgency,
    cipher: CredentialCipher,
) -> MarketplaceAccount:
    agency = await make_agency()
    async with transaction(sessionmaker) as session:
        account = MarketplaceAccount(
            agency_id=agency.id,
            adapter="alibaba",
            name="Alibaba.com",
            credentials_encrypted=cipher.encrypt(CREDENTIALS),
        )
        session.add(account)
    return account


async def _load(sessionmaker: async_sessionmaker[AsyncSession], account_id: int) -> Any:
    async with sessionmaker() as session:
        return await session.get(MarketplaceAccount, account_id)


def _factory(cipher: CredentialCipher, sessionmaker: Any) -> AdapterFactory:
    return AdapterFactory({"alibaba": AlibabaAdapter}, cipher, sessionmaker=sessionmaker)


async def test_a_rotated_refresh_token_is_stored_and_used_after_a_restart(
    gop: FakeGop,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_agency: MakeAgency,
    cipher: CredentialCipher,
) -> None:
    account = await _account(sessionmaker, make_agency, cipher)
    factory = _factory(cipher, sessionmaker)
    adapter = await factory.adapter_for(account)
    assert isinstance(adapter, AlibabaAdapter)
    await adapter.check_connection()  # refresh: RT-1 → RT-2
    stored = await _load(sessionmaker, account.id)
    assert cipher.decrypt(stored.credentials_encrypted) == {**CREDENTIALS, "refresh_token": "RT-2"}
    # Its own change keeps the live adapter, for the fresh row and for one read before it.
    assert await factory.adapter_for(stored) is adapter
    assert await factory.adapter_for(account) is adapter
    await factory.aclose()

    gop.refresh_tokens.discard(REFRESH)  # the old one is dead now
    restarted = _factory(cipher, sessionmaker)
    again = await restarted.adapter_for(await _load(sessionmaker, account.id))
    assert isinstance(again, AlibabaAdapter)
    await again.check_connection()
    assert gop.sent("/auth/token/refresh")[-1]["refresh_token"] == "RT-2"
    await restarted.aclose()


async def test_credentials_entered_meanwhile_are_not_overwritten(
    gop: FakeGop,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_agency: MakeAgency,
    cipher: CredentialCipher,
) -> None:
    account = await _account(sessionmaker, make_agency, cipher)
    factory = _factory(cipher, sessionmaker)
    adapter = await factory.adapter_for(account)
    assert isinstance(adapter, AlibabaAdapter)
    entered = {**CREDENTIALS, "refresh_token": "RT-FROM-THE-USER"}
    async with transaction(sessionmaker) as session:
        row = await session.get(MarketplaceAccount, account.id)
        assert row is not None
        row.credentials_encrypted = cipher.encrypt(entered)
    await adapter.check_connection()  # rotates, but the user's credentials stand
    stored = await _load(sessionmaker, account.id)
    assert cipher.decrypt(stored.credentials_encrypted) == entered
    rebuilt = await factory.adapter_for(stored)
    assert rebuilt is not adapter  # the next use goes with what was entered
    await factory.aclose()


async def test_a_connection_check_stores_the_token_it_rotated(
    gop: FakeGop,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_agency: MakeAgency,
    cipher: CredentialCipher,
) -> None:
    account = await _account(sessionmaker, make_agency, cipher)
    async with transaction(sessionmaker) as session:
        row = await session.get(MarketplaceAccount, account.id)
        assert row is not None
        result = await check_account(row, adapters={"alibaba": AlibabaAdapter}, cipher=cipher)
    assert result.ok, result.detail
    stored = await _load(sessionmaker, account.id)
    assert cipher.decrypt(stored.credentials_encrypted)["refresh_token"] == "RT-2"
