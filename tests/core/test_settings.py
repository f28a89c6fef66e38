from __future__ import annotations

import re
import stat
import traceback
from pathlib import Path
from typing import Annotated

import pytest
from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import SettingsConfigDict

from leadbridge import ConfigurationError, Settings
from leadbridge.settings import BaseEnvironment, EnvironmentFlag, EnvironmentInt, EnvironmentList


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


def test_plugins_are_a_comma_separated_list(tmp_path: Path) -> None:
    env = {"LEADBRIDGE_DATA_DIR": str(tmp_path), "LEADBRIDGE_PLUGINS": " livestorm, ,example,"}
    assert Settings.from_env(env).plugins == ("livestorm", "example")


def test_unknown_timezone_is_named(tmp_path: Path) -> None:
    env = {"LEADBRIDGE_DATA_DIR": str(tmp_path), "LEADBRIDGE_TIMEZONE": "Mars/Olympus"}
    with pytest.raises(ConfigurationError, match=r"LEADBRIDGE_TIMEZONE='Mars/Olympus': unknown"):
        Settings.from_env(env)
    env["LEADBRIDGE_TIMEZONE"] = "Europe/Paris"
    assert Settings.from_env(env).timezone == "Europe/Paris"


def test_os_environ_is_the_default_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("LEADBRIDGE_TIMEZONE", "America/New_York")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.timezone == "America/New_York"
    # an explicit mapping is the only source: nothing leaks in from os.environ
    assert Settings.from_env({"LEADBRIDGE_DATA_DIR": str(tmp_path)}).timezone == "UTC"


class _PluginEnvironment(BaseEnvironment):
    model_config = SettingsConfigDict(env_prefix="LEADBRIDGE_EXAMPLE_")

    verbose: EnvironmentFlag = None
    max_rows: EnvironmentInt = None
    regions: EnvironmentList = None
    api_token: Annotated[SecretStr, Field(min_length=12)] | None = None


def test_environment_reads_typed_values() -> None:
    read = _PluginEnvironment.read(
        {
            "LEADBRIDGE_EXAMPLE_VERBOSE": "Yes",
            "LEADBRIDGE_EXAMPLE_MAX_ROWS": " 250 ",
            "LEADBRIDGE_EXAMPLE_REGIONS": "eu, us",
            "LEADBRIDGE_EXAMPLE_API_TOKEN": "tok-0123456789",
            "LEADBRIDGE_OTHER": "ignored",
        }
    )
    assert read.verbose is True and read.max_rows == 250 and read.regions == ("eu", "us")
    assert read.api_token is not None and read.api_token.get_secret_value() == "tok-0123456789"
    assert "tok-0123456789" not in repr(read)
    unset = _PluginEnvironment.read({"LEADBRIDGE_EXAMPLE_MAX_ROWS": ""})
    assert unset.max_rows is None and unset.verbose is None and unset.regions is None
    assert _PluginEnvironment.read({"LEADBRIDGE_EXAMPLE_VERBOSE": "off"}).verbose is False


def test_constructing_an_environment_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_EXAMPLE_MAX_ROWS", "9")
    assert _PluginEnvironment().max_rows is None
    assert _PluginEnvironment(max_rows=3).max_rows == 3
    with pytest.raises(PydanticValidationError, match="max_rowz"):
        _PluginEnvironment(max_rowz=3)  # a misspelt setting is refused, not ignored
    assert _PluginEnvironment.read().max_rows == 9


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("LEADBRIDGE_EXAMPLE_VERBOSE", "maybe", "LEADBRIDGE_EXAMPLE_VERBOSE='maybe': use 1 or 0"),
        ("LEADBRIDGE_EXAMPLE_MAX_ROWS", "many", "LEADBRIDGE_EXAMPLE_MAX_ROWS='many': not a whole"),
        ("LEADBRIDGE_EXAMPLE_MAX_ROWS", "2.5", "LEADBRIDGE_EXAMPLE_MAX_ROWS='2.5': not a whole"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        _PluginEnvironment.read({variable: raw})


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _PluginEnvironment.read(
            {"LEADBRIDGE_EXAMPLE_VERBOSE": "2", "LEADBRIDGE_EXAMPLE_MAX_ROWS": "x"}
        )
    assert "LEADBRIDGE_EXAMPLE_VERBOSE='2'" in str(caught.value)
    assert "LEADBRIDGE_EXAMPLE_MAX_ROWS='x'" in str(caught.value)


def test_a_bad_secret_is_named_but_never_shown() -> None:
    with pytest.raises(ConfigurationError, match="LEADBRIDGE_EXAMPLE_API_TOKEN") as caught:
        _PluginEnvironment.read({"LEADBRIDGE_EXAMPLE_API_TOKEN": "short-tok"})
    # neither the error nor the validation error it comes from shows the value
    for error in (caught.value, caught.value.__cause__):
        assert "short-tok" not in "".join(traceback.format_exception_only(error))
