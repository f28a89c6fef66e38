"""API key (query / header / raw Authorization), Basic and Bearer against a real server."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from leadbridge import ConfigurationError, ValidationError
from leadbridge.auth import (
    APIKey,
    APIKeyHeaderAuth,
    APIKeyQueryAuth,
    BearerTokenAuth,
    HTTPBasicAuth,
    StaticToken,
    UsernamePassword,
)
from leadbridge.http import AuthenticationError, create_client, raise_for_status
from leadbridge.testing import OAuthTestServer


@dataclass(frozen=True)
class Case:
    """Builds a provider with the server's secret, or with ``wrong`` in its place."""

    build: Callable[[OAuthTestServer, str | None], httpx.Auth]
    via: str


CASES = {
    "query": Case(lambda s, w: APIKeyQueryAuth(APIKey(w or s.api_key)), "query:api_key"),
    "query-named": Case(
        lambda s, w: APIKeyQueryAuth(APIKey(w or s.api_key), param="hapikey"), "query:hapikey"
    ),
    "header": Case(lambda s, w: APIKeyHeaderAuth(APIKey(w or s.api_key)), "header:x-api-key"),
    "raw-authorization": Case(  # Livestorm: the raw token, no prefix
        lambda s, w: APIKeyHeaderAuth(APIKey(w or s.api_key), header="Authorization"),
        "header:authorization",
    ),
    "prefixed-header": Case(
        lambda s, w: APIKeyHeaderAuth(
            APIKey(w or s.api_key), header="Authorization", prefix="Token"
        ),
        "header:authorization:Token",
    ),
    "basic": Case(
        lambda s, w: HTTPBasicAuth(UsernamePassword(s.username, w or s.password)), "basic"
    ),
    "bearer": Case(lambda s, w: BearerTokenAuth(StaticToken(w or s.static_token)), "bearer"),
}


@pytest.mark.parametrize("name", CASES)
async def test_happy_path(name: str, oauth_server: OAuthTestServer) -> None:
    case = CASES[name]
    async with create_client(
        base_url=oauth_server.base_url, auth=case.build(oauth_server, None)
    ) as client:
        response = raise_for_status(await client.get("/api/items", params={"page": 2}))
    assert response.json()["via"] == case.via


@pytest.mark.parametrize("name", CASES)
async def test_wrong_credentials_raise_authentication_error_without_the_secret(
    name: str, oauth_server: OAuthTestServer, no_secrets_logged: set[str]
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(16)
    no_secrets_logged.add(wrong)
    auth = CASES[name].build(oauth_server, wrong)
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        response = await client.get("/api/items")
    with pytest.raises(AuthenticationError) as info:
        raise_for_status(response)
    error = info.value
    assert (error.status, error.method) == (401, "GET")
    assert error.url is not None and error.url.startswith(f"{oauth_server.base_url}/api/items")
    # The server quotes what it got back; the error must not repeat it.
    assert error.server_message is not None
    assert error.server_message.startswith("credentials not accepted")
    for text in (str(error), repr(error), error.url, error.server_message):
        assert wrong not in text


@pytest.mark.parametrize("name", CASES)
def test_repr_shows_no_secret(name: str, oauth_server: OAuthTestServer) -> None:
    auth = CASES[name].build(oauth_server, None)
    for secret in (oauth_server.api_key, oauth_server.password, oauth_server.static_token):
        assert secret not in repr(auth)


def test_credential_holders_mask_their_secrets() -> None:
    holders = [APIKey("k-secret"), UsernamePassword("ann", "p-secret"), StaticToken("t-secret")]
    for holder in holders:
        assert "secret" not in repr(holder)
    assert "ann" in repr(holders[1])


async def test_credentials_are_read_on_every_request(oauth_server: OAuthTestServer) -> None:
    class IntegrationSettings:  # what an integration implements: the protocol, structurally
        api_key = "an-old-key"

    settings = IntegrationSettings()
    auth = APIKeyHeaderAuth(settings, header="Authorization")
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).status_code == 401
        settings.api_key = oauth_server.api_key  # the user rotated the key
        assert (await client.get("/api/me")).status_code == 200


async def test_query_key_replaces_a_key_already_in_the_url(oauth_server: OAuthTestServer) -> None:
    auth = APIKeyQueryAuth(APIKey(oauth_server.api_key))
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        response = await client.get("/api/me", params={"api_key": "stale", "page": "1"})
    assert response.json()["via"] == "query:api_key"
    assert response.request.url.params.get_list("api_key") == [oauth_server.api_key]


async def test_a_key_emptied_after_construction_is_refused_per_request(
    oauth_server: OAuthTestServer,
) -> None:
    class IntegrationSettings:
        api_key = "a-key"

    settings = IntegrationSettings()
    async with create_client(
        base_url=oauth_server.base_url, auth=APIKeyHeaderAuth(settings)
    ) as client:
        settings.api_key = ""  # the stored key was unset while the client lived
        with pytest.raises(ConfigurationError, match="api_key"):
            await client.get("/api/me")
    assert oauth_server.hits["/api/me"] == 0


def test_static_providers_work_with_a_sync_client(oauth_server: OAuthTestServer) -> None:
    for case in CASES.values():
        with httpx.Client(base_url=oauth_server.base_url, auth=case.build(oauth_server, None)) as c:
            assert c.get("/api/me").json()["via"] == case.via


def test_names_are_validated() -> None:
    with pytest.raises(ValidationError) as info:
        APIKeyQueryAuth(APIKey("k"), param="")
    assert info.value.field == "param"
    with pytest.raises(ValidationError) as info:
        APIKeyHeaderAuth(APIKey("k"), header="")
    assert info.value.field == "header"
