"""`odop-sync sandbox serve <slug>` finds each adapter's sandbox, also one whose adapter is not
installed (yet), and serves it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import typer

from odop_sync.cli.sandbox import sandbox_module
from tests.processes import free_port, start_sandbox


@pytest.mark.parametrize("slug", ["amazon", "flipkart", "alibaba"])
def test_each_marketplace_has_a_sandbox_to_serve(slug: str) -> None:
    module = sandbox_module(slug)
    assert module.__name__ == f"adapters.{slug}.sandbox"
    assert callable(module.create_sandbox_app)


@pytest.mark.parametrize("slug", ["nowhere", "../amazon", "Amazon"])
def test_a_slug_without_a_sandbox_is_refused(slug: str) -> None:
    with pytest.raises(typer.BadParameter):
        sandbox_module(slug)


async def test_the_alibaba_sandbox_serves_on_its_own(tmp_path: Path) -> None:
    port = free_port()
    proc = start_sandbox(port, tmp_path / "sandbox.log", slug="alibaba")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):
                assert proc.poll() is None, (tmp_path / "sandbox.log").read_text()
                try:
                    r = await client.get("/_sandbox/state/ODOPDEMO01")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the sandbox never answered")
            assert r.status_code == 200
            assert r.json()["listings"] == []
            unsigned = await client.post("/rest/alibaba/icbu/product/list", data={"app_key": "x"})
            assert unsigned.json()["code"] == "InvalidAppKey"
    finally:
        proc.terminate()
        proc.wait(10)
