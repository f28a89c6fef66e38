"""OAuth tokens persist in the integration's stored credentials, encrypted at rest."""

from __future__ import annotations

from sqlalchemy import text

from leadbridge import CoreContainer
from leadbridge.auth import ClientIdSecret, OAuth2AuthorizationCodeAuth, OAuthToken
from leadbridge.http import create_client
from leadbridge.integrations import IntegrationSettingsService
from leadbridge.testing import OAuthTestServer


async def test_rotated_refresh_token_persisted_encrypted(
    container: CoreContainer, service: IntegrationSettingsService, oauth_server: OAuthTestServer
) -> None:
    store = service.token_store("example")
    assert await store.load() is None  # nothing stored yet: never a crash
    first = OAuthToken.from_response(oauth_server.issue_token(expires_in=-60))
    await store.save(first)

    auth = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(oauth_server.client_id, oauth_server.client_secret),
        authorize_url=oauth_server.authorize_url,
        token_url=oauth_server.token_url,
        redirect_uri="https://app.example.com/callback",
        store=service.token_store("example"),
    )
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        assert (await client.get("/api/me")).status_code == 200

    rotated = await service.token_store("example").load()
    assert rotated is not None and rotated.refresh_token not in (None, first.refresh_token)
    async with container.engine().connect() as conn:
        raw = (
            await conn.execute(text("SELECT credentials FROM integrations WHERE name = 'example'"))
        ).scalar_one()
    for secret in (rotated.access_token, rotated.refresh_token, first.refresh_token):
        assert secret and secret not in str(raw)
    assert (await service.get("example")).credentials_set
