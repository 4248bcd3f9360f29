"""`odop-sync fx set` and `odop-sync fx list`, as an operator runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cli.test_jobs import odop_sync, plain

TODAY = datetime.now(UTC).date()


class TestFxCommands:
    # `engine`: the tables are emptied after each test (the CLI writes them from outside).
    async def test_set_then_replace_then_list(self, database_url: str, engine: Any) -> None:
        day = str(TODAY - timedelta(days=1))
        done = await odop_sync(database_url, "fx", "set", "USD", "84.10", "--source", "RBI",
                               "--date", day)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"USD rate set: 1 USD = ₹84.10 (RBI, valid on {day})" in plain(done.stderr)
        again = await odop_sync(database_url, "fx", "set", "usd", "84.12", "--source", "RBI",
                                "--date", day)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "USD rate replaced 84.10 with 84.12: 1 USD = ₹84.12" in plain(again.stderr)

        listed = await odop_sync(database_url, "fx", "list", "--currency", "USD")
        assert listed.returncode == 0, listed.stderr
        out = plain(listed.stdout)
        assert f"USD {day} 84.12 RBI" in out and " cli " in out + " "
        assert f"USD in force today: 84.12 (RBI, {day})" in out

    async def test_bad_input_exits_2_naming_the_field(self, database_url: str, engine: Any) -> None:
        inr = await odop_sync(database_url, "fx", "set", "INR", "1", "--source", "RBI")
        assert inr.returncode == 2
        assert "currency: 'INR' rates are INR per unit of another currency" in plain(inr.stderr)
        words = await odop_sync(database_url, "fx", "set", "USD", "eighty", "--source", "RBI")
        assert words.returncode == 2
        assert "rate: eighty must be a number above 0" in plain(words.stderr)
        day = await odop_sync(database_url, "fx", "set", "USD", "84.12", "--source", "RBI",
                              "--date", "2026-13-01")  # fmt: skip
        assert day.returncode == 2
        assert "'2026-13-01' is not a date" in plain(day.stderr)
        listed = await odop_sync(database_url, "fx", "list")
        assert "no rates stored" in plain(listed.stdout)
