"""`odop-sync fx …`: the FX rates prices in other currencies and foreign orders use."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from odop_sync.cli.common import console, load_settings

app = typer.Typer(
    help="FX rates: INR per unit of another currency, for foreign prices and orders",
    no_args_is_help=True,
)


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-02",
            param_hint="'--date'",
        ) from None


@app.command("set")
def fx_set(
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. USD")],
    rate: Annotated[str, typer.Argument(help="INR per 1 unit, e.g. 84.12")],
    source: Annotated[str, typer.Option(help="who published it: RBI, FBIL, SBI TT …")],
    date: Annotated[
        str | None, typer.Option(help="the day it is for, YYYY-MM-DD (default today, UTC)")
    ] = None,
) -> None:
    """Set the rate of a currency for a day (the same currency, date and source again replaces
    it). Orders that waited for a rate are priced; accounts selling in the currency re-project
    their prices on their next pass."""
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.fx import service
    from odop_sync.kit.problems import ProblemError
    from odop_sync.sync.notify import notify_catalog_changed

    settings = load_settings()
    valid_on = _day(date)

    async def main() -> service.SetResult:
        engine = create_engine(settings)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                result = await service.set_rate(
                    session,
                    currency=currency,
                    rate=rate,
                    source=source,
                    valid_on=valid_on,
                    actor="cli",
                )
                if not settings.is_sqlite:  # wake the workers when this commits
                    await notify_catalog_changed(session, result.agencies, f"cli:{os.getpid()}")
                return result
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(main())
    except ProblemError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        for issue in exc.errors or []:
            console.print(f"  {issue.field}: {issue.message}")
        raise typer.Exit(2) from None
    read = result.read
    what = "set" if read.replaced is None else f"replaced {read.replaced} with {read.rate}"
    console.print(
        f"[green]{read.currency} rate {what}: 1 {read.currency} = ₹{read.rate} "
        f"({read.source}, valid on {read.valid_on})[/green]"
    )
    if read.orders_priced:
        console.print(f"{read.orders_priced} {read.currency} orders that had no rate are priced")
    if result.agencies:
        console.print(
            f"accounts selling in {read.currency} re-project their prices on their next pass"
        )


@app.command("list")
def fx_list(
    currency: Annotated[str | None, typer.Option(help="only this currency, e.g. USD")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="rates shown")] = 100,
) -> None:
    """The stored rates, newest first, and per currency the rate in force today."""
    from odop_sync.db import create_engine, create_sessionmaker
    from odop_sync.fx import service
    from odop_sync.fx.rates import CURRENCY_PATTERN

    settings = load_settings()
    if currency is not None and not CURRENCY_PATTERN.match(currency.strip().upper()):
        raise typer.BadParameter(
            f"{currency!r} must be an ISO 4217 code: three letters, e.g. USD",
            param_hint="'--currency'",
        )

    async def main() -> Any:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                return await service.list_rates(
                    session,
                    currency=currency,
                    limit=limit,
                    max_age_days=settings.fx.max_age_days,
                )
        finally:
            await engine.dispose()

    listed = asyncio.run(main())
    out = Console()
    table = Table(title="FX rates (INR per 1 unit), newest first")
    for col in ("currency", "valid on", "rate", "source", "entered (UTC)", "by"):
        table.add_column(col)
    for r in listed.items:
        entered = r.created_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(r.currency, str(r.valid_on), r.rate, r.source, entered, r.created_by)
    out.print(table)
    if not listed.items:
        out.print("no rates stored; set one with `odop-sync fx set USD 84.12 --source RBI`")
    for now in listed.in_force:
        if now.fresh and now.rate is not None:
            out.print(
                f"{now.currency} in force today: {now.rate.rate} ({now.rate.source}, "
                f"{now.rate.valid_on})"
            )
        else:
            out.print(f"{now.currency}: {now.held_reason}")
