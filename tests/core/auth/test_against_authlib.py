"""The OAuth2 providers against an authorization server built from Authlib (not ours).

The server rotates refresh tokens and revokes the grant when a spent one comes back, as
OAuth 2.1 servers do (see ``authlib_server``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadbridge import CoreContainer
from leadbridge.auth import (
    ClientIdSecret,
    MemoryTokenStore,
    OAuth2AuthorizationCodeAuth,
    OAuthToken,
    ReauthorizationRequiredError,
    TokenStore,
)
from leadbridge.http import create_client

from .authlib_server import REDIRECT_URI, AuthlibServer
from .test_shared_token_store import run_workers


@pytest.fixture
def authlib_server(
    no_secrets_logged: set[str], caplog: pytest.LogCaptureFixture
) -> Iterator[AuthlibServer]:
    # Authlib's server logs the tokens it issues at DEBUG: that is its business; ours (and
    # every other logger) stay watched for secrets.
    caplog.set_level(logging.INFO, logger="authlib")
    with AuthlibServer() as server:
        yield server
        no_secrets_logged.update(server.secrets())


def provider(
    server: AuthlibServer, store: TokenStore, integration: str = "demo"
) -> OAuth2AuthorizationCodeAuth:
    return OAuth2AuthorizationCodeAuth(
        ClientIdSecret(server.client.client_id, server.client.client_secret),
        authorize_url=f"{server.base_url}/authorize",
        token_url=f"{server.base_url}/token",
        redirect_uri=REDIRECT_URI,
        scope="read",
        store=store,
        integration=integration,
    )


async def authorize(server: AuthlibServer, auth: OAuth2AuthorizationCodeAuth) -> OAuthToken:
    """The whole authorization code flow, the user approving at once."""
    request = auth.authorization_url(extra_params={"prompt": "consent"})
    async with httpx.AsyncClient() as browser:
        approval = await browser.get(request.url)
    assert approval.status_code == 302, approval.text
    callback = {k: v[0] for k, v in parse_qs(urlsplit(approval.headers["location"]).query).items()}
    request.verify_state(callback["state"])
    return await auth.exchange_code(callback["code"], code_verifier=request.code_verifier)


def expire(store: MemoryTokenStore) -> OAuthToken:
    """The stored token with its access token dropped: the next request must refresh."""
    assert store.token is not None
    store.token = OAuthToken(access_token=None, refresh_token=store.token.refresh_token)
    return store.token


async def test_authorize_use_and_refresh_with_rotation(authlib_server: AuthlibServer) -> None:
    store = MemoryTokenStore()
    auth = provider(authlib_server, store)
    first = await authorize(authlib_server, auth)
    assert first.refresh_token is not None and first.scope == "read"
    async with create_client(base_url=authlib_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).json() == {"ok": True}
    expire(store)
    again = provider(authlib_server, store)  # the next run, reading the store
    async with create_client(base_url=authlib_server.base_url, auth=again) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert store.token is not None
    assert store.token.refresh_token not in (None, first.refresh_token)  # rotated
    assert authlib_server.token_requests == {"authorization_code": 1, "refresh_token": 1}


async def test_providers_sharing_a_store_present_a_rotated_token_once(
    authlib_server: AuthlibServer,
) -> None:
    store = MemoryTokenStore()
    await authorize(authlib_server, provider(authlib_server, store))
    expire(store)
    auths = [provider(authlib_server, store) for _ in range(4)]
    async with create_client(base_url=authlib_server.base_url) as client:
        responses = await asyncio.gather(
            *(client.get("/api/me", auth=auth) for auth in auths for _ in range(5))
        )
    assert [r.status_code for r in responses] == [200] * 20
    assert authlib_server.token_requests["refresh_token"] == 1
    assert authlib_server.refresh_token_reuse == 0


async def test_a_spent_refresh_token_asks_to_authorize_again(
    authlib_server: AuthlibServer,
) -> None:
    store = MemoryTokenStore()
    await authorize(authlib_server, provider(authlib_server, store))
    spent = expire(store)
    await provider(authlib_server, store).get_token()  # rotates: ``spent`` is now spent
    stale = provider(authlib_server, MemoryTokenStore(spent), integration="livestorm")
    with pytest.raises(ReauthorizationRequiredError) as info:
        await stale.get_token()
    assert str(info.value) == (
        "livestorm: the stored authorization was rejected (invalid_grant); "
        "authorize the integration again"
    )
    assert not any(secret in str(info.value) for secret in authlib_server.secrets())
    assert authlib_server.refresh_token_reuse == 1  # and the server revoked the grant


async def test_two_worker_processes_share_one_stored_authorization(
    container: CoreContainer, authlib_server: AuthlibServer, tmp_path: Path
) -> None:
    service = container.integration_settings_service()
    store = service.token_store("example")
    await authorize(authlib_server, provider(authlib_server, store))
    stored = await store.load()
    assert stored is not None
    await store.save(OAuthToken(access_token=None, refresh_token=stored.refresh_token))
    authlib_server.token_delay = 0.5  # both workers ask while the first refresh is in flight
    settings = container.settings()
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": settings.database_url,
        "LEADBRIDGE_DATA_DIR": str(tmp_path),
        "LEADBRIDGE_SECRET_KEY": settings.secret_key,
        "OAUTH_CLIENT_ID": authlib_server.client.client_id,
        "OAUTH_CLIENT_SECRET": authlib_server.client.client_secret,
        "OAUTH_AUTHORIZE_URL": f"{authlib_server.base_url}/authorize",
        "OAUTH_TOKEN_URL": f"{authlib_server.base_url}/token",
        "OAUTH_API_URL": authlib_server.base_url,
    }

    results = await run_workers(2, env)

    assert [r.get("error") for r in results] == [None, None]
    assert [r["statuses"] for r in results] == [[200, 200, 200]] * 2
    assert authlib_server.token_requests == {"authorization_code": 1, "refresh_token": 1}
    assert authlib_server.refresh_token_reuse == 0
