"""Settings: environment first (``ODOP_…``), then the TOML layer of the environment, then the
defaults written here (the one source of defaults).

Precedence, strongest first: init kwargs, environment variables, ``<ODOP_ENV>.toml`` (shipped in
this package; an operator's ``ODOP_CONFIG_DIR`` may hold its own copy of any file here), the field
defaults below. A misspelt ``ODOP_…`` variable or TOML key stops start-up naming the nearest known
key. Secrets are ``SecretStr`` so they never print; production refuses a missing, short,
placeholder or committed encryption key without echoing it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

Environment = Literal["development", "testing", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "testing", "production")

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}
MIN_KEY_LENGTH = 32
PACKAGE_DIR = Path(__file__).resolve().parent
# ODOP_ variables that are not settings: where files are, the demo keys (var/demo-keys.env) and
# the test and bench harnesses' own.
PROCESS_VARIABLES = {"config_dir", "specs_dir"}
HARNESS_PREFIXES = ("test_", "bench_", "demo_")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why, never a secret's
    value. (Not a ValueError, so pydantic does not wrap it with the input it was given.)"""


def config_dir() -> Path:
    """The operator's configuration folder (``ODOP_CONFIG_DIR``), or the one shipped in this
    package. A folder that was named and does not exist is an error, not an empty configuration."""
    env = os.environ.get("ODOP_CONFIG_DIR")
    if not env:
        return PACKAGE_DIR
    folder = Path(env)
    if not folder.is_dir():
        raise ConfigError(f"ODOP_CONFIG_DIR={env} is not a folder")
    return folder


def config_file(name: str) -> Path:
    """One configuration or rule-data file: the operator's copy in ODOP_CONFIG_DIR when it has
    one, otherwise the packaged file."""
    own = config_dir() / name
    return own if own.is_file() else PACKAGE_DIR / name


def _read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _unknown_keys(
    model: type[BaseModel], data: Mapping[str, Any], prefix: str = ""
) -> Iterator[str]:
    """Dotted paths in `data` that name no field of `model` (a dict-valued field takes any key)."""
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            yield prefix + key
            continue
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(value, Mapping):
            yield from _unknown_keys(sub, value, prefix + key + ".")


def _known_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for key, field in model.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            yield from _known_keys(sub, prefix + key + ".")
        else:
            yield prefix + key


def _nearest(key: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return close[0] if close else None


def _env_name(key: str) -> str:
    return "ODOP_" + key.replace(".", "__").upper()


class _WholeSource(PydanticBaseSettingsSource):
    """A source that hands over all its values at once from __call__."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ supplies everything


class TomlLayer(_WholeSource):
    """The environment's own file (development.toml, testing.toml or production.toml): the
    environment given to Settings(env=…), else ODOP_ENV, else development."""

    def __init__(self, settings_cls: type[BaseSettings], env: str | None = None) -> None:
        super().__init__(settings_cls)
        self.env = env

    def __call__(self) -> dict[str, Any]:
        env = self.env or os.environ.get("ODOP_ENV", "development")
        if env not in ENVIRONMENTS:
            raise ConfigError(f"ODOP_ENV={env} is not one of {', '.join(ENVIRONMENTS)}")
        path = config_file(f"{env}.toml")
        data = _read_toml(path)
        known = list(_known_keys(self.settings_cls))
        for key in _unknown_keys(self.settings_cls, data):
            near = _nearest(key, known)
            hint = f" (did you mean {near}?)" if near else ""
            raise ConfigError(f"{path}: unknown key {key}{hint}")
        data.setdefault("env", env)
        return data


class KnownVariablesOnly(_WholeSource):
    """Contributes nothing; refuses an ``ODOP_…`` variable that names no setting, so a typo such
    as ODOP_SYNC__FEED_POL_S stops start-up instead of being ignored."""

    def __call__(self) -> dict[str, Any]:
        known = list(_known_keys(self.settings_cls))
        for name in os.environ:
            if not name.upper().startswith("ODOP_"):
                continue
            rest = name[5:].lower()
            if rest in PROCESS_VARIABLES or rest.startswith(HARNESS_PREFIXES):
                continue
            parts = rest.split("__")
            nested: dict[str, Any] = {}
            cursor = nested
            for part in parts[:-1]:
                cursor = cursor.setdefault(part, {})
            cursor[parts[-1]] = ""
            for key in _unknown_keys(self.settings_cls, nested):
                near = _nearest(key, known)
                hint = f" (did you mean {_env_name(near)}?)" if near else ""
                raise ConfigError(f"{name} names no setting{hint}")
        return {}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSettings(_Section):
    max_body_bytes: int = 20_000_000
    max_rows_per_batch: int = 50_000
    max_images_per_item: int = 10
    xlsx_max_uncompressed_bytes: int = 200_000_000
    xlsx_max_compression_ratio: int = 100


class JobSettings(_Section):
    workers: int = 1
    poll_interval_s: float = 1.0
    lease_ttl_s: float = 30.0
    heartbeat_s: float = 10.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    batch_chunk_rows: int = 1000
    batch_parallel_chunks: int = 2


class SyncSettings(_Section):
    """The sync engine's pacing. Marketplace rate limits come from each adapter's `limits`."""

    enabled: bool = True  # workers run the engine (the API-only role never does)
    max_concurrent_accounts: int = 4
    item_concurrency: int = 4  # item-API calls in flight per account
    bulk_feeds: bool = True  # large sets go as one feed where the adapter has them
    window_items: int = 100  # listings pushed (item route) between two commits
    feed_max_items: int = 2_500  # listings in one bulk feed: a pass holds them all in memory
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


class OrderSettings(_Section):
    """Order pulling. Each account's pull holds its own lease, apart from the sync lease."""

    enabled: bool = True
    pull_interval_s: float = 60.0  # scheduler: pull every account's new and changed orders
    # Each pass asks for orders changed since the last one ended, minus this overlap: Amazon
    # shows an order's change up to ~2 minutes late; repeats are harmless (upsert, stock once).
    overlap_s: float = 600.0
    lease_ttl_s: float = 120.0
    max_pages_per_pull: int = 200  # then the next firing goes on from the stored cursor
    max_concurrent_accounts: int = 4


class AccountSettings(_Section):
    """Accounts that cannot work (the marketplace refused their credentials, their stored
    configuration is unusable) wait this long before the next attempt, doubling per failure up to
    the cap; the sync engine and the order pull both keep to it. A change to the account (new
    credentials, re-enabling it) or a successful check ends the wait at once."""

    problem_backoff_base_s: float = 60.0
    problem_backoff_max_s: float = 3600.0


class FxSettings(_Section):
    """Foreign-currency prices (`odop-sync fx set`, POST /v1/fx/rates). A listing of an account
    that sells in another currency goes out only with a rate in force that is at most this many
    days old; otherwise it waits, saying why. RBI publishes its reference rates on business
    days: 5 covers a weekend and a holiday. Orders take the rate in force on their purchase day
    whatever its age."""

    max_age_days: int = Field(default=5, ge=0, le=366)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ODOP_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
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
    # Development and testing only: adapter slug -> the base URL of a sandbox that stands in for
    # every host the adapter calls (e.g. amazon = "http://127.0.0.1:8000/sandbox/amazon"). Hosts
    # come from the adapters, never from an account's credentials; this is the operator's
    # override, loopback only, refused in production. Demo mode fills it in for the sandboxes it
    # mounts (at public_base_url).
    marketplace_hosts: dict[str, str] = Field(default_factory=dict)
    # Where product images may be fetched from by the server itself, for marketplaces that take
    # image bytes rather than URLs (Alibaba.com's photobank): https origins
    # (scheme://host[:port]) the operator trusts, e.g. the agency's image CDN. An image URL on any
    # other host is refused with the reason on its listing. Demo mode adds public_base_url, which
    # serves the demo catalog's images. Plain http only for loopback and reserved test names.
    image_origins: list[str] = Field(default_factory=list)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    orders: OrderSettings = Field(default_factory=OrderSettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)
    fx: FxSettings = Field(default_factory=FxSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            KnownVariablesOnly(settings_cls),
            env_settings,
            TomlLayer(settings_cls, getattr(init_settings, "init_kwargs", {}).get("env")),
        )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            problem = encryption_key_problem(self.encryption_key)
            if problem:
                raise ConfigError(
                    f"ODOP_ENCRYPTION_KEY is refused in production: {problem}. Make a good key "
                    "with `odop-sync keys secret` (keys may be comma-separated to rotate them: "
                    "the first encrypts, every one decrypts)"
                )
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ConfigError("an in-memory database cannot be used in production")
            if self.marketplace_hosts:
                raise ConfigError(
                    "marketplace_hosts is for sandboxes in development and testing; production "
                    "calls the marketplaces' own hosts"
                )
        for origin in self.image_origins:
            problem = image_origin_problem(origin)
            if problem:
                raise ConfigError(f"image_origins: {origin!r} {problem}")
        for slug, base in self.marketplace_hosts.items():
            if not is_sandbox_base(base):
                raise ConfigError(
                    f"marketplace_hosts.{slug} must be an http(s) URL on a loopback host "
                    "(127.0.0.1, ::1, localhost) or a reserved test name (*.test, *.localhost)"
                )
        return self

    @property
    def allowed_image_origins(self) -> list[str]:
        """The origins images may be fetched from: image_origins, and in demo mode the app's
        own public_base_url (it serves /demo/images)."""
        origins = list(self.image_origins)
        if self.demo_mode:
            parts = urlsplit(self.public_base_url)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return origins

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for `odop-sync config show`."""
        data = self.model_dump(mode="json")
        data["encryption_key"] = "**********" if self.encryption_key.get_secret_value() else ""
        data["database_url"] = mask_url(self.database_url)
        return data


def is_sandbox_base(url: str) -> bool:
    """A base URL that can only reach this machine (or an in-process test transport)."""
    from odop_sync.kit.loopback import is_loopback

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    reserved = host.endswith((".test", ".localhost"))
    return parts.scheme in ("http", "https") and bool(host) and (is_loopback(host) or reserved)


def image_origin_problem(origin: str) -> str | None:
    """Why `origin` cannot be an image origin, or None: an https origin with no path, query
    or user info; plain http only where is_sandbox_base allows it."""
    parts = urlsplit(origin)
    if not parts.hostname or parts.username or parts.password:
        return "is not an origin (scheme://host[:port])"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be an origin only, without a path or query"
    if parts.scheme == "https" or (parts.scheme == "http" and is_sandbox_base(origin)):
        return None
    return "must use https (plain http only on loopback or a reserved test name)"


def encryption_key_problem(secret: SecretStr) -> str | None:
    """Why this key (or comma-separated list of keys) may not protect production credentials, in
    words that never repeat the key; None when it may."""
    keys = [k.strip() for k in secret.get_secret_value().split(",")]
    committed = _committed_keys()
    for number, key in enumerate(keys, 1):
        which = f"key {number} of {len(keys)}" if len(keys) > 1 else "the key"
        if key.lower() in PLACEHOLDER_SECRETS:
            return f"{which} is empty or a placeholder"
        if key in committed:
            return f"{which} is the development or testing key published with odop-sync"
        if len(key) < MIN_KEY_LENGTH:
            return f"{which} is shorter than {MIN_KEY_LENGTH} characters"
    return None


@lru_cache
def _committed_keys() -> frozenset[str]:
    """The encryption keys in the packaged development and testing layers: public, so never good
    enough for production."""
    found: set[str] = set()
    for env in ("development", "testing"):
        value = _read_toml(PACKAGE_DIR / f"{env}.toml").get("encryption_key", "")
        found.update(k.strip() for k in str(value).split(",") if k.strip())
    return frozenset(found)


SECRET_QUERY_PARAMETERS = re.compile(
    r"(?i)^(password|passwd|pwd|pass|sslpassword|secret|token|access_token|api_key|apikey)$"
)
_SECRET_IN_QUERY = re.compile(
    r"(?i)([?&](?:password|passwd|pwd|pass|sslpassword|secret|token|access_token|api_key|apikey)=)"
    r"[^&#]*"
)


def mask_url(url: str) -> str:
    """A database URL with every secret hidden: the password and any secret query parameter
    (``?password=…``, ``sslpassword``, tokens)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        query = {
            k: ("***" if SECRET_QUERY_PARAMETERS.match(k) else v) for k, v in parsed.query.items()
        }
        return parsed.set(query=query).render_as_string(hide_password=True)
    except Exception:  # unparsable: drop anything before '@' and mask what looks secret
        return _SECRET_IN_QUERY.sub(r"\1***", url.split("@")[-1])


@lru_cache
def get_settings() -> Settings:
    return Settings()
