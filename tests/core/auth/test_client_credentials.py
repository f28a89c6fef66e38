"""OAuth2 client credentials against the loopback authorization server."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from leadbridge import ConfigurationError, SecretBox, ValidationError
from leadbridge.auth import (
    ClientAuthMethod,
    ClientIdSecret,
    MemoryTokenStore,
    OAuth2ClientCredentialsAuth,
    OAuthToken,
    SecretBoxTokenStore,
)
from leadbridge.http import AuthenticationError, RetriableAPIError, create_client
from leadbridge.testing import OAuthTestServer


def provider(
    server: OAuthTestServer, *, secret: str | None = None, **options: Any
) -> OAuth2ClientCredentialsAuth:
    credentials = ClientIdSecret(server.client_id, secret or server.client_secret)
    return OAuth2ClientCredentialsAuth(credentials, token_url=server.token_url, **options)


def expired_token(server: OAuthTestServer) -> OAuthToken:
    return OAuthToken.from_response(server.issue_token(expires_in=-60, refresh=False))


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_token_fetched_on_first_use_then_cached(
    oauth_server: OAuthTestServer, method: ClientAuthMethod
) -> None:
    store = MemoryTokenStore()
    auth = provider(oauth_server, store=store, client_auth=method, scope=["read", "write"])
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert oauth_server.token_requests.total() == 0  # nothing fetched before use
        for _ in range(3):
            assert (await client.get("/api/me")).json()["via"] == "oauth"
    assert oauth_server.token_requests == {"client_credentials": 1}
    assert store.token is not None and store.token.scope == "read write"


async def test_wrong_secret_raises_authentication_error(
    oauth_server: OAuthTestServer, no_secrets_logged: set[str]
) -> None:
    wrong = "wrong-client-secret-123"
    no_secrets_logged.add(wrong)
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, secret=wrong)
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get("/api/me")
    error = info.value
    assert (error.status, error.method, error.server_code) == (401, "POST", "invalid_client")
    assert error.url == oauth_server.token_url
    assert wrong not in str(error)  # the server quoted it; the error does not
    assert oauth_server.hits["/api/me"] == 0


async def test_expired_token_is_fetched_again_transparently(oauth_server: OAuthTestServer) -> None:
    old = expired_token(oauth_server)
    store = MemoryTokenStore(old)
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store=store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"client_credentials": 1}
    assert store.token is not None and store.token.access_token != old.access_token


@pytest.mark.parametrize(("leeway", "fetches"), [(60.0, 1), (5.0, 0)])
async def test_token_is_renewed_within_the_leeway_before_expiry(
    oauth_server: OAuthTestServer, leeway: float, fetches: int
) -> None:
    # An hour-long token with 20 s left (the leeway is capped at half the lifetime).
    token = OAuthToken.from_response(oauth_server.issue_token(expires_in=20, refresh=False))
    assert token.issued_at is not None
    token = replace(token, issued_at=token.issued_at - timedelta(seconds=3580))
    auth = provider(oauth_server, store=MemoryTokenStore(token), leeway=leeway)
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests.total() == fetches


async def test_fifty_concurrent_requests_share_one_fetch(oauth_server: OAuthTestServer) -> None:
    oauth_server.token_delay = 0.2  # keep the fetch in flight while the others arrive
    auth = provider(oauth_server, store=MemoryTokenStore(expired_token(oauth_server)))
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        responses = await asyncio.gather(*(client.get("/api/me") for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert oauth_server.token_requests == {"client_credentials": 1}


async def test_a_401_fetches_a_new_token_once(oauth_server: OAuthTestServer) -> None:
    async with create_client(base_url=oauth_server.base_url, auth=provider(oauth_server)) as client:
        assert (await client.get("/api/me")).status_code == 200
        oauth_server.revoke_access_tokens()  # still unexpired for the client
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"client_credentials": 2}
    assert oauth_server.hits["/api/me"] == 3


async def test_an_unreadable_store_means_a_fresh_fetch(oauth_server: OAuthTestServer) -> None:
    raw = {"value": SecretBox(Fernet.generate_key().decode()).encrypt("{}")}  # another key

    async def load() -> str | None:
        return raw["value"]

    async def save(value: str) -> None:
        raw["value"] = value

    store = SecretBoxTokenStore(SecretBox(Fernet.generate_key().decode()), load, save)
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store=store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"client_credentials": 1}
    assert await store.load() is not None  # the new token replaced the unreadable one


async def test_token_client_is_used_for_token_requests(oauth_server: OAuthTestServer) -> None:
    from leadbridge.http import ApiCallCounter

    counter = ApiCallCounter()
    async with create_client(counter=counter) as token_client:
        auth = provider(oauth_server, token_client=token_client)
        async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
            await client.get("/api/me")
    assert counter.count == 1
    assert oauth_server.token_requests == {"client_credentials": 1}


async def test_unreachable_token_endpoint_is_retriable(oauth_server: OAuthTestServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    credentials = ClientIdSecret(oauth_server.client_id, oauth_server.client_secret)
    auth = OAuth2ClientCredentialsAuth(credentials, token_url=f"http://127.0.0.1:{port}/token")
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        with pytest.raises(RetriableAPIError, match="ConnectError"):
            await client.get("/api/me")


def test_a_sync_client_is_refused_clearly(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server)
    with (
        httpx.Client(base_url=oauth_server.base_url, auth=auth) as client,
        pytest.raises(ConfigurationError, match="AsyncClient"),
    ):
        client.get("/api/me")


def test_repr_shows_no_secret(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server)
    assert oauth_server.client_secret not in repr(auth)
    assert oauth_server.client_secret not in repr(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret)
    )


def test_a_provider_outlives_its_event_loop(oauth_server: OAuthTestServer) -> None:
    """One provider, one asyncio.run per command: waiting on its lock works in each loop."""
    oauth_server.token_delay = 0.1  # make the concurrent requests wait on the lock
    auth = provider(oauth_server)

    async def burst() -> list[int]:
        async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
            responses = await asyncio.gather(*(client.get("/api/me") for _ in range(5)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 5
    oauth_server.revoke_access_tokens()
    assert asyncio.run(burst()) == [200] * 5
    assert oauth_server.token_requests == {"client_credentials": 2}


async def test_a_token_shorter_than_the_leeway_is_fetched_once_for_twenty_requests(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.token_lifetime = 20  # shorter than the 30 s default leeway
    oauth_server.token_delay = 0.2
    auth = provider(oauth_server)
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        responses = await asyncio.gather(*(client.get("/api/me") for _ in range(20)))
        assert [r.status_code for r in responses] == [200] * 20
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"client_credentials": 1}


@pytest.mark.parametrize("key", ["grant_type", "client_id", "client_secret", "scope"])
def test_extra_params_cannot_replace_what_the_provider_sends(
    oauth_server: OAuthTestServer, key: str
) -> None:
    with pytest.raises(ValidationError) as info:
        provider(oauth_server, scope="read", extra_params={key: "x", "audience": "api"})
    assert info.value.field == "extra_params"
    assert str(info.value) == f"extra_params cannot set {key}: the provider sets them itself"


async def test_extra_params_reach_the_token_endpoint(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server, extra_params={"scope": "read"})  # no scope= of its own
    token = await auth.get_token()
    assert token.scope == "read"  # the server echoes the scope it was asked for
