from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from leadbridge import ConfigurationError, Settings


def test_defaults_live_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'leadbridge.db'}"
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # generated once: a second start reads the same key
    again = Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path / "data")})
    assert again.secret_key == settings.secret_key == key_file.read_text()


def test_plain_urls_get_async_drivers(tmp_path: Path) -> None:
    env = {"LEADBRIDGE_DATA_DIR": str(tmp_path), "LEADBRIDGE_DATABASE_URL": "postgresql://u@h/db"}
    assert Settings.from_env(env).database_url == "postgresql+asyncpg://u@h/db"


def test_secret_never_in_repr(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    env = {"LEADBRIDGE_DATA_DIR": str(tmp_path), "LEADBRIDGE_SECRET_KEY": key}
    settings = Settings.from_env(env)
    assert key not in repr(settings)
    assert key not in repr(settings.secret_key)


def test_invalid_secret_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="LEADBRIDGE_SECRET_KEY"):
        Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path), "LEADBRIDGE_SECRET_KEY": "nope"})
