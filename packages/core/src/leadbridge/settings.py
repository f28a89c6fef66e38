"""Settings read from the environment.

``LEADBRIDGE_DATABASE_URL``  SQLAlchemy URL (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``);
                             default: ``leadbridge.db`` in the data dir.
``LEADBRIDGE_DATA_DIR``      where LeadBridge keeps local files (default ``./.leadbridge``).
``LEADBRIDGE_SECRET_KEY``    Fernet key that encrypts stored credentials; default: generated once
                             into ``<data dir>/secret.key`` with mode 0600.
``LEADBRIDGE_PLUGINS``       comma-separated integration plugins to load; empty: all installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from ._errors import ConfigurationError
from ._secret_key import SECRET_FILE, load_or_create_secret

__all__ = ["Settings", "normalize_database_url"]


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
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("LEADBRIDGE_DATA_DIR") or ".leadbridge").expanduser().resolve()
        url = env.get("LEADBRIDGE_DATABASE_URL") or ""
        if not url:
            data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite+aiosqlite:///{data_dir / 'leadbridge.db'}"
        secret = env.get("LEADBRIDGE_SECRET_KEY") or ""
        source = "LEADBRIDGE_SECRET_KEY"
        if not secret:
            secret = load_or_create_secret(data_dir)
            source = f"the secret-key file {data_dir / SECRET_FILE}"
        plugins = env.get("LEADBRIDGE_PLUGINS") or ""
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
            timezone=env.get("LEADBRIDGE_TIMEZONE") or "UTC",
            plugins=tuple(p.strip() for p in plugins.split(",") if p.strip()) or None,
        )
