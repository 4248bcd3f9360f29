"""credentials name no hosts: drop endpoint, token_url and product_types_file from stored
marketplace credentials (hosts now come from the adapters; issue 11)

Accounts stored before this release carry the sandbox or marketplace URL they were created with;
the adapters' config models now refuse those fields. Each account's credentials are decrypted
with the configured ODOP_ENCRYPTION_KEY, the three fields removed (a Flipkart endpoint on
Flipkart's sandbox host becomes environment = "sandbox") and encrypted again. Rows the key cannot
decrypt are left as they are: the engine already reports them as unreadable.

Revision ID: 5a1e0c7d9b21
Revises: 4e1f0c2a9b7d
Create Date: 2026-12-03 07:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "5a1e0c7d9b21"
down_revision: str | Sequence[str] | None = "4e1f0c2a9b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = ("endpoint", "token_url", "product_types_file")
FLIPKART_SANDBOX_HOST = "sandbox-api.flipkart.net"


def upgrade() -> None:
    if context.is_offline_mode():
        return  # data migration: needs the rows and the key
    from odop_sync.accounts.crypto import CredentialCipher, CredentialsUnreadable
    from odop_sync.config import get_settings

    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, adapter, credentials_encrypted FROM marketplace_accounts")
    ).fetchall()
    if not rows:
        return
    key = get_settings().encryption_key
    if not key.get_secret_value():
        return
    cipher = CredentialCipher(key)
    for account_id, adapter, token in rows:
        try:
            credentials = cipher.decrypt(token)
        except CredentialsUnreadable:
            continue
        if not any(name in credentials for name in DROPPED):
            continue
        endpoint = str(credentials.get("endpoint") or "")
        for name in DROPPED:
            credentials.pop(name, None)
        if adapter == "flipkart" and FLIPKART_SANDBOX_HOST in endpoint:
            credentials.setdefault("environment", "sandbox")
        bind.execute(
            sa.text("UPDATE marketplace_accounts SET credentials_encrypted = :c WHERE id = :i"),
            {"c": cipher.encrypt(credentials), "i": account_id},
        )


def downgrade() -> None:
    """Nothing to restore: the dropped fields named hosts the adapters now choose themselves."""
