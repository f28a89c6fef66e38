"""Nothing is authenticated against an empty key: every provider refuses one when built."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from leadbridge import ConfigurationError
from leadbridge.auth import (
    APIKey,
    APIKeyHeaderAuth,
    APIKeyQueryAuth,
    BearerTokenAuth,
    ClientIdSecret,
    HTTPBasicAuth,
    MemoryTokenStore,
    OAuth2AuthorizationCodeAuth,
    OAuth2ClientCredentialsAuth,
    OAuthToken,
    StaticToken,
    UsernamePassword,
)
from leadbridge.http import create_client
from leadbridge.testing import OAuthTestServer

TOKEN_URL = "https://auth.example.com/token"


def client_credentials(client_id: str, secret: str | None) -> httpx.Auth:
    return OAuth2ClientCredentialsAuth(ClientIdSecret(client_id, secret), token_url=TOKEN_URL)


def authorization_code(client_id: str, secret: str | None) -> httpx.Auth:
    return OAuth2AuthorizationCodeAuth(
        ClientIdSecret(client_id, secret),
        authorize_url="https://auth.example.com/authorize",
        token_url=TOKEN_URL,
        redirect_uri="https://app.example.com/callback",
    )


BUILDERS: dict[str, tuple[Callable[[str], httpx.Auth], str]] = {
    "query key": (lambda v: APIKeyQueryAuth(APIKey(v)), "api_key"),
    "header key": (lambda v: APIKeyHeaderAuth(APIKey(v), header="Authorization"), "api_key"),
    "basic username": (lambda v: HTTPBasicAuth(UsernamePassword(v, "pw")), "username"),
    "basic password": (lambda v: HTTPBasicAuth(UsernamePassword("ann", v)), "password"),
    "bearer": (lambda v: BearerTokenAuth(StaticToken(v)), "token"),
    "client credentials id": (lambda v: client_credentials(v, "s3cret"), "client_id"),
    "client credentials secret": (lambda v: client_credentials("app", v), "client_secret"),
    "authorization code id": (lambda v: authorization_code(v, "s3cret"), "client_id"),
    "authorization code secret": (lambda v: authorization_code("app", v), "client_secret"),
}


@pytest.mark.parametrize("empty", ["", "   "])
@pytest.mark.parametrize("case", BUILDERS)
def test_an_empty_or_blank_credential_is_refused_when_built(case: str, empty: str) -> None:
    build, name = BUILDERS[case]
    with pytest.raises(ConfigurationError) as info:
        build(empty)
    assert str(info.value).startswith(f"the credential {name!r} is empty")


def test_a_missing_client_secret_is_refused_by_the_client_credentials_grant() -> None:
    with pytest.raises(ConfigurationError, match="'client_secret' is empty: the grant needs one"):
        client_credentials("app", None)


def test_a_public_client_has_no_secret_rather_than_an_empty_one() -> None:
    authorization_code("app", None)  # PKCE only: allowed
    with pytest.raises(ConfigurationError, match="None for a public client"):
        authorization_code("app", "")


async def test_an_empty_stored_access_token_is_never_sent(oauth_server: OAuthTestServer) -> None:
    issued = oauth_server.issue_token(expires_in=3600)
    # A stored document with an empty access token (hand-edited, or written by an old bug).
    token = OAuthToken.from_dict({"access_token": "", "refresh_token": issued["refresh_token"]})
    assert token.access_token is None and token.needs_refresh()
    auth = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret),
        authorize_url=oauth_server.authorize_url,
        token_url=oauth_server.token_url,
        redirect_uri="https://app.example.com/callback",
        store=MemoryTokenStore(token),
    )
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        response = await client.get("/api/me")
    assert response.json()["via"] == "oauth"
    assert response.request.headers["Authorization"] != "Bearer "
    assert oauth_server.token_requests == {"refresh_token": 1}
