"""batch_rows.warnings: what a row did that may not be meant (a product column overridden)

Revision ID: 4e1f0c2a9b7d
Revises: bfb752aafa01
Create Date: 2026-12-03 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "4e1f0c2a9b7d"
down_revision: str | Sequence[str] | None = "bfb752aafa01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "warnings",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.drop_column("warnings")
