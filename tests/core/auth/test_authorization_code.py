"""OAuth2 authorization code with PKCE, refresh and rotation, against the loopback server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadbridge import ValidationError
from leadbridge.auth import (
    ClientIdSecret,
    MemoryTokenStore,
    OAuth2AuthorizationCodeAuth,
    OAuthToken,
    ReauthorizationRequiredError,
    TokenStore,
)
from leadbridge.http import AuthenticationError, FatalAPIError, create_client, raise_for_status
from leadbridge.testing import OAuthTestServer, ScriptedResponse

REDIRECT_URI = "https://app.example.com/integrations/demo/callback"


def provider(
    server: OAuthTestServer, store: TokenStore | None = None, **options: Any
) -> OAuth2AuthorizationCodeAuth:
    return OAuth2AuthorizationCodeAuth(
        ClientIdSecret(server.client_id, server.client_secret),
        authorize_url=server.authorize_url,
        token_url=server.token_url,
        redirect_uri=REDIRECT_URI,
        store=store,
        **options,
    )


def stored(server: OAuthTestServer, *, expires_in: float) -> MemoryTokenStore:
    return MemoryTokenStore(OAuthToken.from_response(server.issue_token(expires_in=expires_in)))


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_authorization_url_carries_state_and_an_s256_pkce_challenge(
    oauth_server: OAuthTestServer,
) -> None:
    auth = provider(oauth_server, scope=["contacts.read", "offline"])
    request = auth.authorization_url()
    params = query(request.url)
    assert request.url.startswith(oauth_server.authorize_url + "?")
    assert params["response_type"] == "code"
    assert params["client_id"] == oauth_server.client_id
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["scope"] == "contacts.read offline"
    assert params["state"] == request.state
    assert params["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", request.code_verifier)
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert request.code_verifier not in request.url  # only the challenge travels
    again = auth.authorization_url()
    assert (again.state, again.code_verifier) != (request.state, request.code_verifier)
    assert request.state not in repr(request) and request.code_verifier not in repr(request)


async def test_full_flow_through_the_browser_redirect(
    oauth_server: OAuthTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryTokenStore()
    auth = provider(oauth_server, store)
    request = auth.authorization_url()
    # The user's browser approving: its (httpcore) logs would show the code, ours must not.
    with caplog.at_level(logging.WARNING, logger="httpcore"):
        async with httpx.AsyncClient() as browser:
            approval = await browser.get(request.url)
    assert approval.status_code == 302
    callback = query(approval.headers["location"])
    request.verify_state(callback["state"])
    token = await auth.exchange_code(callback["code"], code_verifier=request.code_verifier)
    assert store.token == token and token.refresh_token is not None
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).json()["via"] == "oauth"
    assert oauth_server.token_requests == {"authorization_code": 1}


def test_a_forged_state_is_refused(oauth_server: OAuthTestServer) -> None:
    request = provider(oauth_server).authorization_url()
    for returned in ("forged", None, ""):
        with pytest.raises(AuthenticationError, match="state"):
            request.verify_state(returned)


async def test_a_wrong_code_verifier_is_an_authentication_error(
    oauth_server: OAuthTestServer, no_secrets_logged: set[str]
) -> None:
    auth = provider(oauth_server)
    request = auth.authorization_url()
    code = query(oauth_server.approve(request.url))["code"]
    other_verifier = auth.authorization_url().code_verifier
    no_secrets_logged.update({request.code_verifier, other_verifier})
    with pytest.raises(AuthenticationError) as info:
        await auth.exchange_code(code, code_verifier=other_verifier)
    assert (info.value.status, info.value.server_code) == (400, "invalid_grant")
    assert other_verifier not in str(info.value)  # quoted by the server, scrubbed by us


async def test_a_code_works_once(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server)
    request = auth.authorization_url()
    code = query(oauth_server.approve(request.url))["code"]
    await auth.exchange_code(code, code_verifier=request.code_verifier)
    with pytest.raises(AuthenticationError):
        await auth.exchange_code(code, code_verifier=request.code_verifier)


async def test_expired_token_is_refreshed_transparently(oauth_server: OAuthTestServer) -> None:
    store = stored(oauth_server, expires_in=-60)
    old = store.token
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        assert (await client.get("/api/me")).json()["via"] == "oauth"
    assert oauth_server.token_requests == {"refresh_token": 1}
    assert store.token is not None and old is not None
    assert store.token.access_token != old.access_token


async def test_expiry_given_as_expires_at(oauth_server: OAuthTestServer) -> None:
    oauth_server.expiry_field = "expires_at"
    store = stored(oauth_server, expires_in=-60)
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"refresh_token": 1}  # the new expiry was understood
    assert store.token is not None and store.token.expires_at is not None
    assert store.token.expires_at > datetime.now(UTC) + timedelta(minutes=50)


async def test_rotation_replaces_the_refresh_token(oauth_server: OAuthTestServer) -> None:
    store = stored(oauth_server, expires_in=-60)
    assert store.token is not None
    old_refresh = store.token.refresh_token
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        await client.get("/api/me")
    assert store.token.refresh_token not in (None, old_refresh)
    # The server revoked the old one: a provider that still had it must re-authorize.
    stale = MemoryTokenStore(OAuthToken(access_token=None, refresh_token=old_refresh))
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, stale)
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get("/api/me")
    assert info.value.server_code == "invalid_grant"
    assert old_refresh is not None and old_refresh not in str(info.value)


async def test_without_rotation_the_old_refresh_token_is_kept(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.rotate_refresh_tokens = False
    store = stored(oauth_server, expires_in=-60)
    assert store.token is not None
    old_refresh = store.token.refresh_token
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
        assert store.token.refresh_token == old_refresh
        oauth_server.revoke_access_tokens()
        assert (await client.get("/api/me")).status_code == 200  # refreshed with the kept one
    assert oauth_server.token_requests == {"refresh_token": 2}


async def test_fifty_concurrent_requests_with_an_expired_token_refresh_once(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.token_delay = 0.2  # keep the refresh in flight while the others arrive
    auth = provider(oauth_server, stored(oauth_server, expires_in=-60))
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        responses = await asyncio.gather(*(client.get("/api/me") for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_fifty_concurrent_401s_refresh_once(oauth_server: OAuthTestServer) -> None:
    oauth_server.token_delay = 0.2
    auth = provider(oauth_server, stored(oauth_server, expires_in=3600))
    oauth_server.revoke_access_tokens()  # stale on the server, fresh for the client
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        responses = await asyncio.gather(*(client.get("/api/me") for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_a_401_refreshes_once_and_does_not_loop(oauth_server: OAuthTestServer) -> None:
    unauthorized = ScriptedResponse(401, {"errors": [{"detail": "token revoked"}]})
    oauth_server.enqueue("/api/me", unauthorized, unauthorized, unauthorized)
    auth = provider(oauth_server, stored(oauth_server, expires_in=3600))
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        response = await client.get("/api/me")
    assert response.status_code == 401
    assert oauth_server.hits["/api/me"] == 2  # the request, and one retry after the refresh
    assert oauth_server.token_requests == {"refresh_token": 1}
    with pytest.raises(AuthenticationError, match="token revoked"):
        raise_for_status(response)


async def test_nothing_stored_asks_for_authorization_without_crashing(
    oauth_server: OAuthTestServer,
) -> None:
    auth = provider(oauth_server, MemoryTokenStore(), integration="demo")
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        with pytest.raises(ReauthorizationRequiredError) as info:
            await client.get("/api/me")
    assert str(info.value) == (
        "demo: no OAuth refresh token is stored; authorize the integration again"
    )
    assert info.value.integration == "demo"
    assert oauth_server.hits["/api/me"] == 0
    assert oauth_server.token_requests.total() == 0


async def test_a_lost_access_token_forces_a_refresh(oauth_server: OAuthTestServer) -> None:
    issued = oauth_server.issue_token(expires_in=3600)
    store = MemoryTokenStore(OAuthToken(access_token=None, refresh_token=issued["refresh_token"]))
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_token_is_refreshed_within_the_leeway(oauth_server: OAuthTestServer) -> None:
    issued = OAuthToken.from_response(oauth_server.issue_token(expires_in=20))
    assert issued.issued_at is not None
    an_hour_old = replace(issued, issued_at=issued.issued_at - timedelta(seconds=3580))
    auth = provider(oauth_server, MemoryTokenStore(an_hour_old), leeway=60)
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"refresh_token": 1}


async def test_get_token_gives_a_valid_token(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server, stored(oauth_server, expires_in=-60))
    token = await auth.get_token()
    assert token.access_token is not None and not token.needs_refresh()
    assert await auth.get_token() is token


async def test_a_refresh_token_shorter_than_the_leeway_is_refreshed_once_for_twenty_requests(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.token_lifetime = 20  # every refreshed token lives less than the 30 s leeway
    oauth_server.token_delay = 0.2
    store = stored(oauth_server, expires_in=-60)
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        responses = await asyncio.gather(*(client.get("/api/me") for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert oauth_server.token_requests == {"refresh_token": 1}
    # Stored with its lifetime: the next provider (the next run) uses it as it is.
    async with create_client(
        base_url=oauth_server.base_url, auth=provider(oauth_server, store)
    ) as client:
        assert (await client.get("/api/me")).status_code == 200
    assert oauth_server.token_requests == {"refresh_token": 1}


@pytest.mark.parametrize(
    "keys",
    [
        ["state"],
        ["code_challenge"],
        ["code_challenge_method"],
        ["redirect_uri"],
        ["client_id"],
        ["response_type"],
        ["state", "redirect_uri"],
    ],
)
def test_extra_params_cannot_replace_what_the_callback_relies_on(
    oauth_server: OAuthTestServer, keys: list[str]
) -> None:
    extra = {key: "attacker" for key in keys} | {"prompt": "consent"}
    with pytest.raises(ValidationError) as info:
        provider(oauth_server).authorization_url(extra_params=extra)
    assert info.value.field == "extra_params"
    assert str(info.value) == (
        f"extra_params cannot set {', '.join(sorted(keys))}: the provider sets them itself"
    )


def test_extra_params_add_what_the_server_documents(oauth_server: OAuthTestServer) -> None:
    auth = provider(oauth_server)
    request = auth.authorization_url(extra_params={"prompt": "consent", "scope": "read"})
    params = query(request.url)
    assert (params["prompt"], params["scope"]) == ("consent", "read")
    assert params["state"] == request.state
    oauth_server.approve(request.url)  # still a valid request
    with pytest.raises(ValidationError, match="cannot set scope"):  # the provider has its own
        provider(oauth_server, scope="write").authorization_url(extra_params={"scope": "read"})


async def test_a_rejected_refresh_token_asks_to_authorize_the_integration_again(
    oauth_server: OAuthTestServer,
) -> None:
    store = stored(oauth_server, expires_in=-60)
    oauth_server.revoke_refresh_tokens()  # the user revoked the app, or the grant expired
    auth = provider(oauth_server, store, integration="livestorm")
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        with pytest.raises(ReauthorizationRequiredError) as info:
            await client.get("/api/me")
    error = info.value
    assert str(error) == (
        "livestorm: the stored authorization was rejected (invalid_grant); "
        "authorize the integration again"
    )
    assert isinstance(error, AuthenticationError) and isinstance(error, FatalAPIError)
    assert error.integration == "livestorm"
    assert (error.status, error.server_code) == (400, "invalid_grant")
    assert isinstance(error.__cause__, AuthenticationError)  # the token endpoint's own answer
    assert not any(secret in str(error) for secret in oauth_server.all_secrets())
    assert oauth_server.hits["/api/me"] == 0


async def test_a_reused_refresh_token_revokes_the_grant_on_the_server(
    oauth_server: OAuthTestServer,
) -> None:
    # Two providers that do not share a store, holding one refresh token: the second
    # presents a spent token, and the server revokes everything issued from that grant.
    first = OAuthToken.from_response(oauth_server.issue_token(expires_in=-60))
    other_grant = stored(oauth_server, expires_in=3600)
    winner = provider(oauth_server, MemoryTokenStore(first))
    loser = provider(oauth_server, MemoryTokenStore(first), integration="demo")
    fresh = await winner.get_token()
    with pytest.raises(ReauthorizationRequiredError, match="demo: the stored authorization"):
        await loser.get_token()
    assert oauth_server.refresh_token_reuse == 1
    async with create_client(base_url=oauth_server.base_url) as client:
        bearer = {"Authorization": f"Bearer {fresh.access_token}"}
        revoked = await client.get("/api/me", headers=bearer)
        untouched = await client.get("/api/me", auth=provider(oauth_server, other_grant))
    assert revoked.status_code == 401  # the winner's new token went with the grant
    assert untouched.status_code == 200  # another authorization is not affected
    with pytest.raises(ReauthorizationRequiredError):  # nor can the winner refresh again
        spent = MemoryTokenStore(replace(fresh, access_token=None))
        await provider(oauth_server, spent).get_token()
