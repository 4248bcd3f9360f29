"""`odop-sync jobs list` and `odop-sync jobs run NAME`, as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from tests.api.helpers import wait_for_batch
from tests.conftest import ROOT, MakeAgency, MakeKey, bearer


async def odop_sync(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ODOP_ENV": "testing", "ODOP_DATABASE_URL": database_url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "odop_sync.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def plain(text: str) -> str:
    """Rich's tables and error boxes as one line of words."""
    return " ".join(text.replace("│", " ").split())


class TestJobsCommands:
    async def test_list_shows_the_periodic_jobs_and_the_queue(
        self,
        database_url: str,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        body = {
            "producers": [{"ref": "p1", "kind": "artisan", "name_en": "Asha Devi"}],
            "items": [
                {
                    "sku": "LKO-CHIKAN-1",
                    "producer_ref": "p1",
                    "title_en": "Chikankari kurta",
                    "district": "Lucknow",
                    "hsn_code": "6211",
                    "gst_rate": 5,
                    "mrp": "1500",
                    "price": "1200",
                    "stock": 3,
                    "images": ["https://img.example.org/k.jpg"],
                }
            ],
        }
        r = await client.post("/v1/batches", json=body, headers=bearer(key))
        assert r.status_code == 202, r.text
        await wait_for_batch(client, key, r.json()["id"])

        listed = await odop_sync(database_url, "jobs", "list")
        assert listed.returncode == 0, listed.stderr
        out = plain(listed.stdout)
        assert "sync.sweep 1 s" in out and "sync.reconcile 3600 s" in out  # testing cadences
        assert "orders.pull" in out
        assert "batches.process succeeded 1" in out

    async def test_run_names_the_jobs_when_asked_for_an_unknown_one(
        self, database_url: str
    ) -> None:
        wrong = await odop_sync(database_url, "jobs", "run", "sync.nope")
        assert wrong.returncode == 2
        assert "orders.pull, sync.reconcile, sync.sweep" in plain(wrong.stderr)

    async def test_run_reconcile_with_no_accounts_finishes(self, database_url: str) -> None:
        ran = await odop_sync(database_url, "jobs", "run", "sync.reconcile")
        assert ran.returncode == 0, ran.stderr
        assert "sync.reconcile done" in ran.stderr
