"""marketplace_accounts.problem*: why an account cannot work, and when it may try again

Revision ID: 9c4e2a7d15f3
Revises: 5a1e0c7d9b21
Create Date: 2026-11-30 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import odop_sync.models.base

# revision identifiers, used by Alembic.
revision: str = "9c4e2a7d15f3"
down_revision: str | Sequence[str] | None = "5a1e0c7d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("marketplace_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problem", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column(
                "problem_since", odop_sync.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("problem_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "problem_retry_at", odop_sync.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("marketplace_accounts", schema=None) as batch_op:
        batch_op.drop_column("problem_retry_at")
        batch_op.drop_column("problem_failures")
        batch_op.drop_column("problem_since")
        batch_op.drop_column("problem")
