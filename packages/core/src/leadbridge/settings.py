"""Settings read from the environment.

``LEADBRIDGE_DATABASE_URL``  SQLAlchemy URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``);
                             default: ``leadbridge.db`` in the data dir.
``LEADBRIDGE_DATA_DIR``      where LeadBridge keeps local files (default ``./.leadbridge``).
``LEADBRIDGE_SECRET_KEY``    Fernet key that encrypts stored credentials; default: generated once
                             into ``<data dir>/secret.key`` with mode 0600.
``LEADBRIDGE_TIMEZONE``      IANA timezone where a segment's day starts (default ``UTC``).
``LEADBRIDGE_PLUGINS``       comma-separated integration plugins to load; empty: all installed.

:meth:`Settings.from_env` reads them (with pydantic-settings, through
:class:`BaseEnvironment`, which plugins and the gateway use for their own variables too); a bad
value is a :class:`~leadbridge.ConfigurationError` naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import AfterValidator, SecretStr
from pydantic_settings import SettingsConfigDict

from ._environment import BaseEnvironment, EnvironmentFlag, EnvironmentInt, EnvironmentList
from ._errors import ConfigurationError
from ._secret_key import SECRET_FILE, load_or_create_secret

__all__ = [
    "BaseEnvironment",
    "EnvironmentFlag",
    "EnvironmentInt",
    "EnvironmentList",
    "Settings",
    "normalize_database_url",
]


def normalize_database_url(url: str) -> str:
    """Give a plain ``sqlite://`` or ``postgresql://`` URL its async driver."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class _Secret(str):
    """A str that never shows itself in a repr."""

    def __repr__(self) -> str:
        return "'**********'"


def _known_timezone(name: str) -> str:
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown timezone; use an IANA name like 'Europe/Paris'") from None
    return name


class _CoreEnvironment(BaseEnvironment):
    model_config = SettingsConfigDict(env_prefix="LEADBRIDGE_")

    database_url: str = ""
    data_dir: str = ""
    secret_key: SecretStr = SecretStr("")
    timezone: Annotated[str, AfterValidator(_known_timezone)] = "UTC"
    plugins: EnvironmentList = None


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: str = field(repr=False)
    timezone: str = "UTC"
    #: Integration plugins to load by name; ``None`` loads every installed one.
    plugins: tuple[str, ...] | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the ``LEADBRIDGE_*`` variables of ``environ`` (default: ``os.environ``)."""
        environment = _CoreEnvironment.read(environ)
        data_dir = Path(environment.data_dir or ".leadbridge").expanduser().resolve()
        url = environment.database_url
        if not url:
            data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite+aiosqlite:///{data_dir / 'leadbridge.db'}"
        secret = environment.secret_key.get_secret_value()
        source = "LEADBRIDGE_SECRET_KEY"
        if not secret:
            secret = load_or_create_secret(data_dir)
            source = f"the secret-key file {data_dir / SECRET_FILE}"
        try:
            Fernet(secret.encode())
        except ValueError as exc:
            raise ConfigurationError(
                f"{source} is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from exc
        return cls(
            database_url=normalize_database_url(url),
            data_dir=data_dir,
            secret_key=_Secret(secret),
            timezone=environment.timezone,
            plugins=environment.plugins or None,
        )
