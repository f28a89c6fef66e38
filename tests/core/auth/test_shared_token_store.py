"""Providers sharing one stored token — in one process or in several — refresh it once.

The authorization server rotates refresh tokens and treats a spent one presented again as
reuse: it revokes the whole grant, so two refreshes with one token would lose the connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from leadbridge import CoreContainer, db
from leadbridge.auth import (
    ClientIdSecret,
    MemoryTokenStore,
    OAuth2AuthorizationCodeAuth,
    OAuth2ClientCredentialsAuth,
    OAuthToken,
    TokenStore,
)
from leadbridge.http import RetriableAPIError, create_client
from leadbridge.integrations import IntegrationRow, IntegrationSettingsService
from leadbridge.integrations import _service as integrations_service
from leadbridge.testing import OAuthTestServer

from . import refresh_worker

WORKER = Path(refresh_worker.__file__)


def provider(server: OAuthTestServer, store: TokenStore) -> OAuth2AuthorizationCodeAuth:
    return OAuth2AuthorizationCodeAuth(
        ClientIdSecret(server.client_id, server.client_secret),
        authorize_url=server.authorize_url,
        token_url=server.token_url,
        redirect_uri="https://app.example.com/callback",
        store=store,
        integration=refresh_worker.INTEGRATION,
    )


def expired(server: OAuthTestServer) -> OAuthToken:
    return OAuthToken.from_response(server.issue_token(expires_in=-60))


async def run_workers(count: int, env: dict[str, str]) -> list[dict[str, Any]]:
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            ready = await asyncio.wait_for(worker.stdout.readline(), 120)
            if ready != b"ready\n":
                assert worker.stderr is not None
                pytest.fail((await worker.stderr.read()).decode()[-3000:])
        for worker in workers:  # start together: both find the stored token expired
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outputs = [await asyncio.wait_for(worker.communicate(), 120) for worker in workers]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()[-3000:]
    return [json.loads(stdout.decode().splitlines()[-1]) for stdout, _ in outputs]


async def test_two_worker_processes_refresh_the_stored_token_once(
    container: CoreContainer, oauth_server: OAuthTestServer, tmp_path: Path
) -> None:
    # Both workers reach the token endpoint while one refresh is in flight; the new token
    # lives 20 s, less than the 30 s leeway: the second worker must still take it as fresh.
    oauth_server.token_delay = 0.5
    oauth_server.token_lifetime = 20
    service = container.integration_settings_service()
    await service.token_store("example").save(expired(oauth_server))
    settings = container.settings()
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": settings.database_url,
        "LEADBRIDGE_DATA_DIR": str(tmp_path),
        "LEADBRIDGE_SECRET_KEY": settings.secret_key,
        "OAUTH_CLIENT_ID": oauth_server.client_id,
        "OAUTH_CLIENT_SECRET": oauth_server.client_secret,
        "OAUTH_AUTHORIZE_URL": oauth_server.authorize_url,
        "OAUTH_TOKEN_URL": oauth_server.token_url,
        "OAUTH_API_URL": oauth_server.base_url,
    }

    results = await run_workers(2, env)

    assert [r.get("error") for r in results] == [None, None]  # no invalid_grant
    assert [r["statuses"] for r in results] == [[200, 200, 200]] * 2
    assert oauth_server.token_requests == {"refresh_token": 1}
    assert oauth_server.refresh_token_reuse == 0
    stored = await service.token_store("example").load()
    assert stored is not None
    assert {r["token"] for r in results} == {refresh_worker.digest(stored.access_token)}
    # What both workers left behind still works for the next one.
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, service.token_store("example"))
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_providers_sharing_the_stored_token_in_one_process_refresh_once(
    container: CoreContainer, oauth_server: OAuthTestServer
) -> None:
    oauth_server.token_delay = 0.2
    service = container.integration_settings_service()
    await service.token_store("example").save(expired(oauth_server))
    # Each provider has its own store object, as two sync runs of one worker would.
    auths = [provider(oauth_server, service.token_store("example")) for _ in range(3)]
    async with create_client(base_url=oauth_server.base_url) as client:
        responses = await asyncio.gather(
            *(client.get("/api/me", auth=auth) for auth in auths for _ in range(5))
        )
    assert [r.status_code for r in responses] == [200] * 15
    assert oauth_server.token_requests == {"refresh_token": 1}
    assert oauth_server.refresh_token_reuse == 0


async def test_a_credentials_update_during_a_refresh_keeps_the_rotated_token(
    container: CoreContainer, oauth_server: OAuthTestServer
) -> None:
    oauth_server.token_delay = 0.5
    service = container.integration_settings_service()
    await service.token_store("example").save(expired(oauth_server))
    refresh = asyncio.create_task(
        provider(oauth_server, service.token_store("example")).get_token()
    )
    deadline = time.monotonic() + 30
    while not oauth_server.token_requests:  # the refresh holds the stored credentials now
        assert time.monotonic() < deadline, "the refresh never reached the token endpoint"
        await asyncio.sleep(0.01)
    await service.update_credentials("example", {"region": "eu"})  # waits for the refresh
    rotated = await refresh
    stored = await service.token_store("example").load()
    assert stored == rotated  # not overwritten by credentials read before it was saved
    assert (await service.credentials("example"))["region"] == "eu"


async def test_providers_sharing_a_memory_store_refresh_once(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.token_delay = 0.2
    store = MemoryTokenStore(expired(oauth_server))
    auths = [provider(oauth_server, store) for _ in range(3)]
    async with create_client(base_url=oauth_server.base_url) as client:
        responses = await asyncio.gather(
            *(client.get("/api/me", auth=auth) for auth in auths for _ in range(5))
        )
    assert [r.status_code for r in responses] == [200] * 15
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_a_refresh_that_cannot_get_the_lock_is_a_retriable_error(
    container: CoreContainer, oauth_server: OAuthTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = container.integration_settings_service()
    await service.token_store("example").save(expired(oauth_server))
    url = container.settings().database_url
    engine = db.create_engine(url)
    if engine.dialect.name == "sqlite":
        # The engine waits 30 s for SQLite's write lock; wait half a second here.
        event.listen(engine.sync_engine, "connect", _short_busy_timeout)
    monkeypatch.setattr(integrations_service, "_TOKEN_LOCK_WAIT", 1)  # PostgreSQL's wait
    waiting = IntegrationSettingsService(
        db.create_session_factory(engine), container.secret_box(), container.integration_registry()
    )
    try:
        async with container.session_factory()() as holder, holder.begin():
            # Another worker in the middle of its refresh.
            await holder.execute(select(IntegrationRow).with_for_update())
            with pytest.raises(RetriableAPIError) as info:
                await provider(oauth_server, waiting.token_store("example")).get_token()
    finally:
        await engine.dispose()
    assert str(info.value).startswith("example: another process held the OAuth token for over")
    assert oauth_server.token_requests.total() == 0  # nothing was refreshed behind the lock


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=500")
    cursor.close()


async def test_a_token_for_an_integration_never_configured_is_stored(
    container: CoreContainer, oauth_server: OAuthTestServer
) -> None:
    service = container.integration_settings_service()
    assert not (await service.get("example")).configured
    auth = OAuth2ClientCredentialsAuth(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret),
        token_url=oauth_server.token_url,
        store=service.token_store("example"),
    )
    token = await auth.get_token()
    assert await service.token_store("example").load() == token
    assert oauth_server.token_requests == {"client_credentials": 1}
