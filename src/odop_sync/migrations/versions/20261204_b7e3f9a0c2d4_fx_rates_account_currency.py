"""fx_rates; accounts' currency; the FX rate of listings' pushes and of orders' bookings

Revision ID: b7e3f9a0c2d4
Revises: 9c4e2a7d15f3
Create Date: 2026-12-04 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import odop_sync.models.base

# revision identifiers, used by Alembic.
revision: str = "b7e3f9a0c2d4"
down_revision: str | Sequence[str] | None = "9c4e2a7d15f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "fx_rates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("valid_on", sa.Date(), nullable=False),
        sa.Column("created_at", odop_sync.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("rate > 0", name=op.f("ck_fx_rates_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "currency", "valid_on", "source", name=op.f("uq_fx_rates_currency_valid_on_source")
        ),
    )
    op.create_index("ix_fx_rates_currency_valid_on", "fx_rates", ["currency", "valid_on"])
    with op.batch_alter_table("marketplace_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), server_default="INR", nullable=False)
        )
        batch_op.add_column(sa.Column("projected_fx", sa.String(length=200), nullable=True))
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("desired_price_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("fx_rate", sa.Numeric(precision=14, scale=6), nullable=True))
        batch_op.add_column(sa.Column("fx_source", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("fx_valid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("held_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("held_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inr_rate", sa.Numeric(precision=14, scale=6), nullable=True))
        batch_op.add_column(sa.Column("inr_rate_source", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("inr_rate_date", sa.Date(), nullable=True))
    # Orders so far: INR ones are booked at 1; one in another currency at the rate its lines
    # were booked at (the marketplace's, or the old `orders.inr_rates` setting's), if any.
    op.execute("UPDATE orders SET inr_rate = 1 WHERE currency = 'INR'")
    op.execute(
        "UPDATE orders SET inr_rate = (SELECT MAX(l.inr_rate) FROM order_lines l "
        "WHERE l.order_id = orders.id AND l.inr_rate > 0), inr_rate_source = 'settings' "
        "WHERE currency <> 'INR' AND EXISTS (SELECT 1 FROM order_lines l "
        "WHERE l.order_id = orders.id AND l.inr_rate > 0)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("inr_rate_date")
        batch_op.drop_column("inr_rate_source")
        batch_op.drop_column("inr_rate")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
        batch_op.drop_column("held_code")
        batch_op.drop_column("fx_valid_on")
        batch_op.drop_column("fx_source")
        batch_op.drop_column("fx_rate")
        batch_op.drop_column("desired_price_minor")
    with op.batch_alter_table("marketplace_accounts", schema=None) as batch_op:
        batch_op.drop_column("projected_fx")
        batch_op.drop_column("currency")
    op.drop_index("ix_fx_rates_currency_valid_on", table_name="fx_rates")
    op.drop_table("fx_rates")
