"""The sales summary: rollups summed over the range's months and edge days, folded into the
asked groups, with growth against the period just before of equal length (with day, month or
quarter, against the bucket before)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.money import paise_to_rupees
from odop_sync.kit.time import as_utc
from odop_sync.models import SalesGrain
from odop_sync.sales import repository as repo
from odop_sync.sales.repository import Filters, Segment
from odop_sync.sales.schemas import (
    PERIODS,
    Dimension,
    MarketplaceFreshness,
    SalesFigures,
    SalesRow,
    SalesSummary,
)

_CSV_LABELS = {
    Dimension.DISTRICT: ("district",),
    Dimension.PRODUCER: ("producer_id", "producer"),
    Dimension.CRAFT: ("craft",),
    Dimension.PRODUCT: ("product_id", "product"),
    Dimension.MARKETPLACE: ("marketplace",),
}
# The JSON rows also carry names for display (each follows from the group's id).
_LABELS = {
    **_CSV_LABELS,
    Dimension.PRODUCER: ("producer_id", "producer", "producer_kind", "producer_hi"),
    Dimension.PRODUCT: ("product_id", "product", "product_hi"),
}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def segments(start: date, end: date, tag: str, *, days_only: bool) -> list[Segment]:
    """[start, end] as whole months from the monthly rollup and the edge days from the daily."""
    if days_only:
        return [Segment(SalesGrain.DAY, start, end, tag)]
    first_full = start if start.day == 1 else _next_month(start)
    after_last_full = _month_start(end + timedelta(days=1))
    if first_full >= after_last_full:
        return [Segment(SalesGrain.DAY, start, end, tag)]
    out = [Segment(SalesGrain.MONTH, first_full, after_last_full - timedelta(days=1), tag)]
    if start < first_full:
        out.append(Segment(SalesGrain.DAY, start, first_full - timedelta(days=1), tag))
    if after_last_full <= end:
        out.append(Segment(SalesGrain.DAY, after_last_full, end, tag))
    return out


def bucket_of(day: date, period: Dimension) -> date:
    if period is Dimension.DAY:
        return day
    return _month_start(day) if period is Dimension.MONTH else _quarter_start(day)


def previous_bucket(start: date, period: Dimension) -> date:
    if period is Dimension.DAY:
        return start - timedelta(days=1)
    back = _month_start(start - timedelta(days=1))
    return back if period is Dimension.MONTH else _quarter_start(back)


def period_label(start: date, period: Dimension) -> str:
    if period is Dimension.DAY:
        return start.isoformat()
    if period is Dimension.MONTH:
        return start.strftime("%Y-%m")
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _growth(net: int, previous: int) -> Decimal | None:
    if previous <= 0:
        return None
    return (Decimal(net - previous) * 100 / previous).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _figures(sums: Sequence[int], previous_net: int) -> dict[str, Any]:
    named = dict(zip(repo.SUMS, sums, strict=True))
    return {
        "units": named["units"],
        "units_net": named["units_net"],
        "units_cancelled": named["units_cancelled"],
        "units_returned": named["units_returned"],
        "gross": paise_to_rupees(named["gross_paise"]),
        "net": paise_to_rupees(named["net_paise"]),
        "orders": named["orders"],
        "previous_net": paise_to_rupees(previous_net),
        "growth_percent": _growth(named["net_paise"], previous_net),
    }


async def summary(
    session: AsyncSession,
    *,
    start: date,
    end: date,
    group_by: Sequence[Dimension],
    filters: Filters,
) -> SalesSummary:
    dims = [d for d in group_by if d not in PERIODS]
    period = next((d for d in group_by if d in PERIODS), None)
    if period is None:
        length = (end - start).days + 1
        prev_start, prev_end = start - timedelta(days=length), start - timedelta(days=1)
    else:
        prev_end = start - timedelta(days=1)
        prev_start = previous_bucket(bucket_of(start, period), period)
    days_only = period is Dimension.DAY
    parts = segments(start, end, "cur", days_only=days_only)
    parts += segments(prev_start, prev_end, "prev", days_only=days_only)
    if period is not None:
        parts = [
            replace(p, one_bucket=bucket_of(p.start, period) == bucket_of(p.end, period))
            for p in parts
        ]
    rows = await repo.summary_rows(session, parts, dims, period is not None, filters)

    labels = [name for d in dims for name in _LABELS[d]]
    current: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(repo.SUMS))
    before: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        key: tuple[Any, ...] = tuple(row[name] for name in labels)
        if period is not None:
            bucket = bucket_of(row["period_start"], period)
            if row["tag"] == "cur":
                sums = current[(*key, bucket)]
                for n, name in enumerate(repo.SUMS):
                    sums[n] += int(row[name] or 0)
            before[(*key, bucket)] += int(row["net_paise"] or 0)
        elif row["tag"] == "cur":
            sums = current[key]
            for n, name in enumerate(repo.SUMS):
                sums[n] += int(row[name] or 0)
        else:
            before[key] += int(row["net_paise"] or 0)

    if not dims and period is None:
        # Ungrouped: one row, even when nothing was sold.
        current.setdefault((), [0] * len(repo.SUMS))
    out: list[SalesRow] = []
    totals = [0] * len(repo.SUMS)
    for full_key in sorted(current, key=_sort_key):
        sums = current[full_key]
        extra: dict[str, Any] = {}
        if period is not None:
            *names, bucket = full_key
            previous = before.get((*names, previous_bucket(bucket, period)), 0)
            extra["period"] = period_label(bucket, period)
        else:
            names, previous = list(full_key), before.get(full_key, 0)
        extra.update(zip(labels, names, strict=True))
        out.append(SalesRow(**extra, **_figures(sums, previous)))
        totals = [t + s for t, s in zip(totals, sums, strict=True)]
    if period is None:
        previous_total = sum(before.values())
    else:
        previous_total = sum(
            v for (*_, bucket), v in before.items() if bucket < bucket_of(start, period)
        )
    as_of = await repo.as_of(session, filters.agency_ids)
    by_marketplace = await repo.as_of_by_marketplace(session, filters.agency_ids)
    return SalesSummary(
        from_=start,
        to=end,
        group_by=list(group_by),
        as_of=None if as_of is None else as_utc(as_of),
        as_of_by_marketplace=[
            MarketplaceFreshness(marketplace=m, as_of=None if at is None else as_utc(at))
            for m, at in by_marketplace
        ],
        rows=out,
        totals=SalesFigures(**_figures(totals, previous_total)),
    )


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, value if value is not None else 0) for value in key)


CSV_FIGURES = ("units", "units_net", "units_cancelled", "units_returned", "gross_inr",
               "net_inr", "orders", "previous_net_inr", "growth_percent")  # fmt: skip


def to_csv(result: SalesSummary) -> Iterator[str]:
    """A header row, then one row per group; money in rupees."""
    labels = [name for d in result.group_by if d not in PERIODS for name in _CSV_LABELS[d]]
    period = [d for d in result.group_by if d in PERIODS]
    header = [*labels, *(["period"] if period else []), *CSV_FIGURES]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in result.rows:
        values = row.model_dump()
        writer.writerow(
            [
                *(values[name] for name in labels),
                *([row.period] if period else []),
                row.units, row.units_net, row.units_cancelled, row.units_returned,
                row.gross, row.net, row.orders, row.previous_net,
                "" if row.growth_percent is None else row.growth_percent,
            ]
        )  # fmt: skip
    yield buffer.getvalue()
