"""Settings: environment first (``ODOP_…``), layered over the TOML files in ``config/``.

Precedence, strongest first: init kwargs, environment variables, ``config/<ODOP_ENV>.toml``,
``config/default.toml``. Secrets are ``SecretStr`` so they never print; production refuses to
start with a missing or placeholder encryption key.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

Environment = Literal["development", "testing", "production"]

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


def config_dir() -> Path:
    """The folder with the TOML layers and rule data (overridable for installed deployments)."""
    env = os.environ.get("ODOP_CONFIG_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "config"


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


class TomlLayers(PydanticBaseSettingsSource):
    """default.toml, then the environment's own file on top."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ supplies everything

    def __call__(self) -> dict[str, Any]:
        env = os.environ.get("ODOP_ENV", "development")
        folder = config_dir()
        data = _deep_merge(_read_toml(folder / "default.toml"), _read_toml(folder / f"{env}.toml"))
        data.setdefault("env", env)
        return data


class LimitSettings(BaseModel):
    max_body_bytes: int = 20_000_000
    max_rows_per_batch: int = 50_000
    max_images_per_item: int = 10
    xlsx_max_uncompressed_bytes: int = 200_000_000
    xlsx_max_compression_ratio: int = 100


class JobSettings(BaseModel):
    workers: int = 1
    poll_interval_s: float = 1.0
    lease_ttl_s: float = 30.0
    heartbeat_s: float = 10.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    batch_chunk_rows: int = 1000
    batch_parallel_chunks: int = 2


class SyncSettings(BaseModel):
    """The sync engine's pacing. Marketplace rate limits come from each adapter's `limits`."""

    enabled: bool = True  # workers run the engine (the API-only role never does)
    max_concurrent_accounts: int = 4
    item_concurrency: int = 4  # item-API calls in flight per account
    bulk_feeds: bool = True  # large sets go as one feed where the adapter has them
    window_items: int = 100  # listings pushed (item route) between two commits
    feed_max_items: int = 20_000  # listings read into one bulk feed
    call_attempts: int = 4  # tenacity, in-process, per call
    retry_base_s: float = 0.2
    retry_max_s: float = 5.0
    backoff_base_s: float = 30.0  # then persistent backoff on the listing (next_attempt_at)
    backoff_max_s: float = 3600.0
    pause_after_failures: int = 3  # identical rejections before a listing is paused
    feed_poll_s: float = 15.0
    feed_timeout_s: float = 7200.0  # a submission unresolved this long is pushed again
    lease_ttl_s: float = 60.0
    projection_overlap_s: float = 10.0
    sweep_interval_s: float = 30.0  # scheduler: wake every account with due work
    reconcile_interval_s: float = 3600.0  # scheduler: full re-projection of every account
    run_timeout_s: float = 900.0
    http_timeout_s: float = 30.0
    # Only for sandboxes whose clocks run faster (demo mode, tests, benches): client-side rate
    # limits are multiplied, and waits divided, by this. Leave it at 1 for real marketplaces.
    rate_limit_scale: float = 1.0


class OrderSettings(BaseModel):
    """Order pulling. Each account's pull holds its own lease, apart from the sync lease."""

    enabled: bool = True
    pull_interval_s: float = 60.0  # scheduler: pull every account's new and changed orders
    # Each pass asks for orders changed since the last one ended, minus this overlap: Amazon
    # shows an order's change up to ~2 minutes late; repeats are harmless (upsert, stock once).
    overlap_s: float = 600.0
    lease_ttl_s: float = 120.0
    max_pages_per_pull: int = 200  # then the next firing goes on from the stored cursor
    max_concurrent_accounts: int = 4
    # INR per unit for orders in another currency whose marketplace does not give the rate.
    inr_rates: dict[str, Decimal] = Field(default_factory=dict)


class AccountSettings(BaseModel):
    """Accounts that cannot work (the marketplace refused their credentials, their stored
    configuration is unusable) wait this long before the next attempt, doubling per failure up to
    the cap; the sync engine and the order pull both keep to it. A change to the account (new
    credentials, re-enabling it) or a successful check ends the wait at once."""

    problem_backoff_base_s: float = 60.0
    problem_backoff_max_s: float = 3600.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ODOP_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    env: Environment = "development"
    database_url: str = "sqlite+aiosqlite:///./var/odop.sqlite3"
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    public_base_url: str = "http://127.0.0.1:8000"
    demo_mode: bool = False
    # Demo mode's marketplace sandboxes run their clocks this many times faster than real time
    # (feeds finish sooner; rate limits scale up by the same factor).
    sandbox_time_scale: float = 10.0
    allow_private_image_hosts: bool = False
    # Tests and CI: marketplace calls may go to loopback hosts only (the sandboxes).
    loopback_only: bool = False
    # Fernet-style secret used to encrypt marketplace credentials at rest.
    encryption_key: SecretStr = SecretStr("")
    limits: LimitSettings = Field(default_factory=LimitSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    orders: OrderSettings = Field(default_factory=OrderSettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlLayers(settings_cls)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env == "production":
            key = self.encryption_key.get_secret_value()
            if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < 32:
                raise ValueError(
                    "ODOP_ENCRYPTION_KEY must be set to a random value of at least 32 characters "
                    "in production (generate one with `odop-sync keys secret`)"
                )
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ValueError("an in-memory database cannot be used in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for `odop-sync config show`."""
        data = self.model_dump(mode="json")
        data["encryption_key"] = "**********" if self.encryption_key.get_secret_value() else ""
        data["database_url"] = mask_url(self.database_url)
        return data


def mask_url(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as-is minus anything after '@'
        return url.split("@")[-1]


@lru_cache
def get_settings() -> Settings:
    return Settings()
