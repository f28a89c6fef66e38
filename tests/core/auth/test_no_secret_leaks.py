"""One pass over every provider's success and failure paths, then a search for secrets.

Every test in this directory already fails if a log record shows a secret (see conftest);
this one also searches exceptions, reprs and the log text as formatted for humans and as
JSON lines (``LEADBRIDGE_LOG_FORMAT=json``).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

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
from leadbridge.http import APIError, RetryPolicy, create_client, raise_for_status
from leadbridge.observability import JsonLogFormatter
from leadbridge.testing import OAuthTestServer, ScriptedResponse

WRONG = "wrong-secret-value-0042"


async def test_no_secret_in_logs_errors_or_reprs(
    oauth_server: OAuthTestServer, caplog: pytest.LogCaptureFixture, no_secrets_logged: set[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    s = oauth_server
    texts: list[str] = []
    static: list[httpx.Auth] = []
    for key in (s.api_key, WRONG):
        static += [
            APIKeyQueryAuth(APIKey(key)),
            APIKeyHeaderAuth(APIKey(key), header="Authorization"),
            APIKeyHeaderAuth(APIKey(key), header="X-Key", prefix="Key"),
        ]
    static += [
        HTTPBasicAuth(UsernamePassword(s.username, s.password)),
        HTTPBasicAuth(UsernamePassword(s.username, WRONG)),
        BearerTokenAuth(StaticToken(s.static_token)),
        BearerTokenAuth(StaticToken(WRONG)),
    ]
    policy = RetryPolicy(retries=1, backoff=0.01)
    for auth in static:
        s.enqueue("/api/flaky", ScriptedResponse(503))
        async with create_client(base_url=s.base_url, auth=auth, retries=policy) as client:
            for path in ("/api/flaky", "/api/me"):
                response = await client.get(path, params={"page": "1"})
                try:
                    raise_for_status(response)
                except APIError as exc:
                    texts += [str(exc), repr(exc), str(vars(exc))]
        texts.append(repr(auth))

    client_credentials = OAuth2ClientCredentialsAuth(
        ClientIdSecret(s.client_id, s.client_secret), token_url=s.token_url
    )
    wrong_client = OAuth2ClientCredentialsAuth(
        ClientIdSecret(s.client_id, WRONG), token_url=s.token_url, client_auth="client_secret_post"
    )
    store = MemoryTokenStore()
    code_flow = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(s.client_id, s.client_secret),
        authorize_url=s.authorize_url,
        token_url=s.token_url,
        redirect_uri="https://app.example.com/cb",
        store=store,
    )
    request = code_flow.authorization_url()
    callback = parse_qs(urlsplit(s.approve(request.url)).query)
    request.verify_state(callback["state"][0])
    await code_flow.exchange_code(callback["code"][0], code_verifier=request.code_verifier)
    texts += [repr(request), repr(store.token), repr(code_flow), repr(client_credentials)]
    assert store.token is not None
    store.token = OAuthToken(None, store.token.refresh_token)  # lost access token: refresh
    bad_refresh = OAuth2AuthorizationCodeAuth(
        ClientIdSecret(s.client_id, s.client_secret),
        authorize_url=s.authorize_url,
        token_url=s.token_url,
        redirect_uri="https://app.example.com/cb",
        store=MemoryTokenStore(OAuthToken(None, WRONG)),
    )
    for auth in (client_credentials, wrong_client, code_flow, bad_refresh):
        async with create_client(base_url=s.base_url, auth=auth) as client:
            try:
                response = await client.get("/api/me")
                s.revoke_access_tokens()  # the next request gets a 401 and refreshes
                raise_for_status(await client.get("/api/me"))
            except APIError as exc:
                texts += [str(exc), repr(exc), str(vars(exc))]
    with pytest.raises(APIError):
        await code_flow.exchange_code("not-a-code", code_verifier=WRONG)

    assert s.token_requests["refresh_token"] >= 2 and s.token_requests["client_credentials"] >= 2
    secrets = s.all_secrets() | {WRONG, request.code_verifier, request.state}
    no_secrets_logged.update(secrets)
    json_lines = [JsonLogFormatter().format(record) for record in caplog.records]
    haystack = "\n".join([*texts, caplog.text, *json_lines])
    assert "HTTP Request" in caplog.text and "leadbridge.http" in caplog.text  # logs were captured
    leaked = sorted(secret for secret in secrets if secret in haystack)
    assert not leaked
