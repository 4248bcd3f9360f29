"""sales_rollups.units_cancelled and units_returned, backfilled from the order lines

Revision ID: c4d1e8f2a7b3
Revises: b2c7e41d0a58
Create Date: 2026-12-05 10:00:00.000000

The backfill sums each priced line's cancelled and returned units per rollup key (grain, the
Indian day or month of its order's purchase, account, product) in Python, with the very
function ingest files a line under (`odop_sync.orders.lines.sales_day`), so no backend's time
zone arithmetic is involved; then one UPDATE per rollup row that has any.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from odop_sync.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "c4d1e8f2a7b3"
down_revision: str | Sequence[str] | None = "b2c7e41d0a58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_orders = sa.table(
    "orders",
    sa.column("id", sa.BigInteger),
    sa.column("account_id", sa.BigInteger),
    sa.column("purchased_at", UTCDateTime(timezone=True)),
)
_lines = sa.table(
    "order_lines",
    sa.column("order_id", sa.BigInteger),
    sa.column("variant_id", sa.BigInteger),
    sa.column("quantity_cancelled", sa.Integer),
    sa.column("quantity_returned", sa.Integer),
    sa.column("inr_rate", sa.Numeric(14, 6)),
)
_variants = sa.table("variants", sa.column("id", sa.BigInteger), sa.column("product_id"))
_rollups = sa.table(
    "sales_rollups",
    sa.column("grain", sa.String),
    sa.column("period_start", sa.Date),
    sa.column("account_id", sa.BigInteger),
    sa.column("product_key", sa.BigInteger),
    sa.column("units_cancelled", sa.Integer),
    sa.column("units_returned", sa.Integer),
)


def _backfill() -> None:
    from odop_sync.orders.lines import sales_day

    conn = op.get_bind()
    query = (
        sa.select(
            _orders.c.account_id,
            _orders.c.purchased_at,
            sa.func.coalesce(_variants.c.product_id, 0),
            _lines.c.quantity_cancelled,
            _lines.c.quantity_returned,
        )
        .select_from(_lines)
        .join(_orders, _orders.c.id == _lines.c.order_id)
        .outerjoin(_variants, _variants.c.id == _lines.c.variant_id)
        .where(
            _lines.c.inr_rate > 0,  # unpriced lines are not in the rollups
            sa.or_(_lines.c.quantity_cancelled > 0, _lines.c.quantity_returned > 0),
        )
    )
    sums: dict[tuple[str, date, int, int], list[int]] = defaultdict(lambda: [0, 0])
    # Only lines with a cancelled or returned unit are read (a few values each).
    for account_id, purchased_at, product_key, cancelled, returned in conn.execute(query):
        day = sales_day(purchased_at)
        for key in (("d", day), ("m", day.replace(day=1))):
            row = sums[(*key, int(account_id), int(product_key))]
            row[0] += cancelled
            row[1] += returned
    if not sums:
        return
    update = (
        _rollups.update()
        .where(
            _rollups.c.grain == sa.bindparam("k_grain"),
            _rollups.c.period_start == sa.bindparam("k_period_start"),
            _rollups.c.account_id == sa.bindparam("k_account_id"),
            _rollups.c.product_key == sa.bindparam("k_product_key"),
        )
        .values(units_cancelled=sa.bindparam("cancelled"), units_returned=sa.bindparam("returned"))
    )
    conn.execute(
        update,
        [
            {
                "k_grain": grain,
                "k_period_start": start,
                "k_account_id": account_id,
                "k_product_key": product_key,
                "cancelled": cancelled,
                "returned": returned,
            }
            for (grain, start, account_id, product_key), (cancelled, returned) in sorted(
                sums.items()
            )
        ],
    )


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("sales_rollups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("units_cancelled", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("units_returned", sa.Integer(), server_default="0", nullable=False)
        )
    _backfill()


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sales_rollups", schema=None) as batch_op:
        batch_op.drop_column("units_returned")
        batch_op.drop_column("units_cancelled")
