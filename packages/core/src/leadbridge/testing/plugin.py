"""Pytest fixtures for LeadBridge and for plugin authors.

Enable in a ``conftest.py``::

    pytest_plugins = ["leadbridge.testing.plugin"]

``LEADBRIDGE_TEST_DB=sqlite|postgres`` picks the backend. Each test session creates its own
database (PostgreSQL: a uniquely named one on ``LEADBRIDGE_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``), migrates it once, empties every table after
each test, and drops it at the end. An unreachable PostgreSQL skips the tests with the reason,
or fails them when ``CI=true``.

``container`` is a started :class:`~leadbridge.CoreContainer` on that database; override
``configure_container`` to change it before it starts.

``oauth_server`` is a real OAuth2 authorization server and API on loopback
(:class:`~leadbridge.testing.OAuthTestServer`), started once per session and reset per test.
``no_secrets_logged`` captures every log record at DEBUG and fails the test if one shows a
secret added to the set it yields.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from dependency_injector import providers

from .. import db
from ..container import CoreContainer, shutdown, start
from ..settings import Settings
from ._database import (
    DatabaseUnavailableError,
    backend_from_env,
    create_database,
    drop_database,
    truncate_all,
)
from ._oauth_server import OAuthTestServer


def _plugin_locations() -> list[Path]:
    from importlib import import_module

    try:
        integrations = import_module("leadbridge.integrations")
    except ImportError:
        return []
    hook = getattr(integrations, "installed_migration_locations", None)
    return list(hook()) if hook is not None else []


def _unavailable(exc: DatabaseUnavailableError) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {exc}", pytrace=False)
    pytest.skip(str(exc))


@pytest.fixture(scope="session")
def db_backend() -> str:
    return backend_from_env()


@pytest.fixture(scope="session")
def database_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the whole session (all branches at head)."""
    directory = tmp_path_factory.mktemp("db")
    try:
        url = asyncio.run(create_database(db_backend, directory))
    except DatabaseUnavailableError as exc:
        _unavailable(exc)
        raise

    async def migrate() -> None:
        engine = db.create_engine(url)
        try:
            await db.upgrade(engine, _plugin_locations())
        finally:
            await engine.dispose()

    try:
        asyncio.run(migrate())
        yield url
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture
def fresh_database_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of its own, dropped after the test."""
    try:
        url = asyncio.run(create_database(db_backend, tmp_path))
    except DatabaseUnavailableError as exc:
        _unavailable(exc)
        raise
    try:
        yield url
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=Fernet.generate_key().decode(),
    )


@pytest.fixture
def configure_container() -> Callable[[CoreContainer], None]:
    """What ``container`` does to the container before starting it: nothing.

    Override it to add point action types, segment filters or job kinds, or to override a
    provider, before :func:`leadbridge.start` builds the services it wires::

        @pytest.fixture
        def configure_container():
            return lambda container: container.point_action_types.add_args(Attended())
    """
    return lambda container: None


@pytest_asyncio.fixture
async def container(
    settings: Settings, configure_container: Callable[[CoreContainer], None]
) -> AsyncIterator[CoreContainer]:
    """A started core container (:func:`leadbridge.start`) on the session database, configured
    by ``configure_container`` first; every table is emptied afterwards."""
    c = CoreContainer(settings=providers.Object(settings))
    configure_container(c)
    start(c)
    try:
        yield c
    finally:
        await truncate_all(c.engine())
        await shutdown(c)


@pytest.fixture(scope="session")
def oauth_server_session() -> Iterator[OAuthTestServer]:
    """One :class:`OAuthTestServer` on loopback for the whole session."""
    with OAuthTestServer() as server:
        yield server


@pytest.fixture
def oauth_server(oauth_server_session: OAuthTestServer) -> OAuthTestServer:
    """The session's OAuth2 + API test server, with tokens, scripts and counts reset."""
    oauth_server_session.reset()
    return oauth_server_session


@pytest.fixture
def no_secrets_logged(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[set[str]]:
    """Fail the test if any log record (DEBUG included) shows a secret added to this set.

    When the test also uses ``oauth_server``, every credential and token that server issued is
    watched too.
    """
    caplog.set_level(logging.DEBUG)
    server = (
        request.getfixturevalue("oauth_server") if "oauth_server" in request.fixturenames else None
    )
    watched: set[str] = set()
    yield watched
    if server is not None:
        watched |= server.all_secrets()
    formatter = logging.Formatter()
    for when in ("setup", "call"):
        for record in caplog.get_records(when):
            text = record.getMessage()
            if record.exc_info:
                text += formatter.formatException(record.exc_info)
            leaked = [s for s in watched if s and s in text]
            assert not leaked, f"a {record.name} log record shows a secret: {record.getMessage()}"
