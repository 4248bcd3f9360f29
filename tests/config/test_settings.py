"""Settings an operator can trust: a typo stops start-up, a bad key is refused without being
echoed, secrets in the database URL never print, and one switch does not silently turn off
another (issue 11, points 4 and 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from odop_sync.config import ConfigError, Settings, mask_url

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "Jq3v8yTb2nZr6WkD0sLm4XcHf7UeAp1G-9oRi5Vt"  # 40 characters, made up for this test


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`odop-sync …` in a process of its own, with only the given ODOP_ variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ODOP_")}
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "odop_sync.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


class TestUnknownKeys:
    def test_a_misspelt_variable_stops_start_up_naming_the_nearest_setting(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ODOP_SYNC__FEED_POL_S", "3")
        with pytest.raises(ConfigError) as caught:
            Settings()
        assert "ODOP_SYNC__FEED_POL_S" in str(caught.value)
        assert "ODOP_SYNC__FEED_POLL_S" in str(caught.value)

    def test_the_cli_says_configuration_error_and_exits_2(self) -> None:
        done = cli("config", "show", ODOP_ENV="development", ODOP_SYNC__FEED_POL_S="3")
        assert done.returncode == 2
        assert "configuration error" in done.stderr
        assert "did you mean ODOP_SYNC__FEED_POLL_S" in done.stderr
        assert "Traceback" not in done.stderr

    def test_a_misspelt_toml_key_names_the_file_and_the_nearest_key(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "testing.toml").write_text("[sync]\nfeed_max_itmes = 100\n")
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
        with pytest.raises(ConfigError) as caught:
            Settings(env="testing")
        text = str(caught.value)
        assert str(tmp_path / "testing.toml") in text
        assert "sync.feed_max_itmes" in text
        assert "did you mean sync.feed_max_items" in text

    def test_the_operators_layer_is_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "testing.toml").write_text("[sync]\nfeed_max_items = 100\n")
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
        assert Settings(env="testing").sync.feed_max_items == 100

    def test_a_missing_config_folder_is_an_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path / "nowhere"))
        with pytest.raises(ConfigError, match="is not a folder"):
            Settings()

    def test_harness_and_file_variables_are_not_settings_but_are_allowed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ODOP_DEMO_ADMIN_KEY", "x")  # what var/demo-keys.env holds
        monkeypatch.setenv("ODOP_SPECS_DIR", str(tmp_path))
        assert Settings(env="testing").env == "testing"


class TestOneSourceOfDefaults:
    @pytest.mark.parametrize("env", ["development", "testing"])
    def test_feed_size_is_the_documented_2500_in_every_environment(self, env: str) -> None:
        # README (Configuration): bulk feeds carry at most 2,500 listings unless configured.
        assert Settings(env=env).sync.feed_max_items == 2_500  # type: ignore[arg-type]

    def test_production_too(self) -> None:
        settings = Settings(env="production", encryption_key=GOOD_KEY)  # type: ignore[arg-type]
        assert settings.sync.feed_max_items == 2_500


class TestEncryptionKey:
    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            ("a" * 31, "shorter than 32 characters"),
            ("changeme", "placeholder"),
            ("development-only-key-never-use-in-production-0000", "published with odop-sync"),
            ("testing-only-key-not-for-production-use-000000000", "published with odop-sync"),
            (f"{GOOD_KEY},short-old-key", "key 2 of 2 is shorter"),
        ],
    )
    def test_production_refuses_a_weak_key_without_echoing_it(self, key: str, reason: str) -> None:
        with pytest.raises(ConfigError) as caught:
            Settings(env="production", encryption_key=key)  # type: ignore[arg-type]
        text = str(caught.value) + repr(caught.value)
        assert reason in text
        assert "odop-sync keys secret" in text
        for part in key.split(","):
            assert part not in text
            assert part[:16] not in text

    def test_config_show_never_prints_a_refused_key(self) -> None:
        key = "0123456789abcdef0123456789abcde"  # 31 characters
        done = cli("config", "show", ODOP_ENV="production", ODOP_ENCRYPTION_KEY=key)
        assert done.returncode == 2
        assert "shorter than 32 characters" in done.stderr
        assert key[:8] not in done.stdout + done.stderr

    def test_keys_secret_makes_a_key_production_accepts(self) -> None:
        made = cli("keys", "secret", ODOP_ENV="development")
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        assert len(key) >= 32
        assert cli("keys", "secret", ODOP_ENV="development").stdout.strip() != key
        shown = cli(
            "config",
            "show",
            ODOP_ENV="production",
            ODOP_ENCRYPTION_KEY=key,
            ODOP_DATABASE_URL="postgresql+asyncpg://odop:pw-1@db.internal/odop",
        )
        assert shown.returncode == 0, shown.stderr
        assert key not in shown.stdout
        assert json.loads(shown.stdout)["encryption_key"] == "**********"


class TestMaskedDatabaseUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "postgresql+asyncpg://odop:S3cretPass@db.internal:5432/odop",
            "postgresql+asyncpg://odop@db.internal/odop?password=S3cretPass",
            "postgresql+asyncpg://odop@db.internal/odop?sslmode=require&sslpassword=S3cretPass",
            "postgresql+asyncpg://odop@db.internal/odop?PASSWORD=S3cretPass&application_name=x",
        ],
    )
    def test_no_password_survives_masking(self, url: str) -> None:
        shown = mask_url(url)
        assert "S3cretPass" not in shown
        assert "db.internal" in shown

    def test_config_show_masks_a_password_given_as_a_query_parameter(self) -> None:
        url = "postgresql+asyncpg://odop@db.internal/odop?password=S3cretPass"
        done = cli("config", "show", ODOP_ENV="development", ODOP_DATABASE_URL=url)
        assert done.returncode == 0, done.stderr
        assert "S3cretPass" not in done.stdout
        assert "password=" in json.loads(done.stdout)["database_url"]


class TestSandboxHosts:
    def test_production_refuses_sandbox_hosts(self) -> None:
        with pytest.raises(ConfigError, match="marketplace_hosts"):
            Settings(
                env="production",
                encryption_key=GOOD_KEY,  # type: ignore[arg-type]
                marketplace_hosts={"amazon": "http://127.0.0.1:9000"},
            )

    @pytest.mark.parametrize(
        "base", ["https://evil.example.com", "http://10.0.0.5:8000", "file:///etc", "http://"]
    )
    def test_only_loopback_may_stand_in_for_a_marketplace(self, base: str) -> None:
        with pytest.raises(ConfigError, match=r"marketplace_hosts\.amazon"):
            Settings(env="testing", marketplace_hosts={"amazon": base})
