"""OAuth2 providers: client credentials, and authorization code with PKCE and refresh."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import AsyncGenerator, Generator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import httpx
from typing_extensions import override

from .._errors import ConfigurationError, ValidationError
from ..http import (
    AuthenticationError,
    FatalAPIError,
    install_httpx_log_redaction,
    redact_url,
)
from ..http._client import default_ssl_context
from ..http._errors import error_from_response, transport_error
from ..http._redact import request_url, scrub
from ._credentials import ClientCredentials, required
from ._errors import ReauthorizationRequiredError
from ._tokens import LockingTokenStore, MemoryTokenStore, OAuthToken, TokenStore

logger = logging.getLogger("leadbridge.auth")

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class _OAuth2Auth(httpx.Auth):
    """Bearer tokens from a token endpoint, refreshed under a lock.

    Only ``httpx.AsyncClient`` is supported: a refresh is network I/O and the store is async.
    Requests of this provider share one refresh (an asyncio lock); providers sharing a
    :class:`LockingTokenStore` — in this process or others — refresh under the store's lock
    and re-read the stored token first, so a rotated refresh token is presented once.
    """

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        token_url: str,
        scope: str | Sequence[str] | None,
        store: TokenStore | None,
        leeway: float,
        client_auth: ClientAuthMethod,
        token_client: httpx.AsyncClient | None,
        timeout: float,
        integration: str | None,
    ) -> None:
        required(credentials.client_id, "client_id")
        if credentials.client_secret is not None:
            required(credentials.client_secret, "client_secret", hint="None for a public client")
        if not token_url:
            raise ValidationError("token_url is required", field="token_url")
        if leeway < 0:
            raise ValidationError("leeway must be >= 0 seconds", field="leeway", value=leeway)
        if client_auth not in ("client_secret_basic", "client_secret_post"):
            raise ValidationError(
                "client_auth must be client_secret_basic or client_secret_post",
                field="client_auth",
                value=client_auth,
            )
        self._credentials = credentials
        self.token_url = token_url
        self.scope = scope if scope is None or isinstance(scope, str) else " ".join(scope)
        self._store: TokenStore = store if store is not None else MemoryTokenStore()
        self.leeway = leeway
        self.client_auth = client_auth
        self._token_client = token_client
        self._timeout = timeout
        self.integration = integration
        self._token: OAuthToken | None = None
        self._loaded = False
        self._lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_url={redact_url(self.token_url)!r}, "
            f"scope={self.scope!r}, client_secret='***')"
        )

    async def get_token(self) -> OAuthToken:
        """A token valid for at least ``leeway`` seconds, fetched or refreshed if needed."""
        return await self._ensure()

    @override
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise ConfigurationError(
            f"{type(self).__name__} refreshes tokens asynchronously: use httpx.AsyncClient "
            "(leadbridge.http.create_client)"
        )

    @override
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._ensure()
        self._apply(request, token)
        response = yield request
        if response.status_code != 401:
            return
        # The server no longer accepts this token (revoked, rotated elsewhere, clock skew):
        # renew once and resend once; a second 401 is the caller's to handle, never a loop.
        logger.debug("%s %s -> 401; renewing the token once", request.method, request_url(request))
        token = await self._ensure(rejected=token.access_token)
        self._apply(request, token)
        yield request

    async def _ensure(self, rejected: str | None = None) -> OAuthToken:
        token = self._token
        if self._loaded and self._usable(token, rejected):
            assert token is not None
            return token
        async with self._refresh_lock():
            # Re-check: whoever held the lock may have refreshed already.
            if self._loaded and self._usable(self._token, rejected):
                assert self._token is not None
                return self._token
            async with self._held_store() as store:
                # Another provider (another worker) may have refreshed while we waited for the
                # store's lock: its token is then stored, and our refresh token already spent.
                stored = await store.load()
                self._loaded = True
                if self._usable(stored, rejected):
                    assert stored is not None
                    self._token = stored
                    return stored
                token = await self._obtain(stored or self._token)
                self._token = token  # first: a rotated refresh token must not be lost
                await store.save(token)
                return token

    def _held_store(self) -> AbstractAsyncContextManager[TokenStore]:
        if isinstance(self._store, LockingTokenStore):
            return self._store.locked()
        return nullcontext(self._store)

    def _refresh_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a provider may outlive its loop
        # (one asyncio.run per CLI command), so each loop gets its own.
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    def _usable(self, token: OAuthToken | None, rejected: str | None) -> bool:
        return (
            token is not None
            and not token.needs_refresh(self.leeway)
            and (rejected is None or token.access_token != rejected)
        )

    async def _obtain(self, previous: OAuthToken | None) -> OAuthToken:
        raise NotImplementedError

    def _apply(self, request: httpx.Request, token: OAuthToken) -> None:
        request.headers["Authorization"] = f"Bearer {token.access_token}"

    def _who(self) -> str:
        return self.integration or "OAuth2"

    async def _request_token(
        self, data: dict[str, str], previous: OAuthToken | None = None
    ) -> OAuthToken:
        """POST ``data`` to the token endpoint; errors come back as :class:`APIError`."""
        install_httpx_log_redaction()
        client_id = required(self._credentials.client_id, "client_id")
        client_secret = self._credentials.client_secret
        headers = {"Accept": "application/json"}
        form = dict(data)
        if client_secret and self.client_auth == "client_secret_basic":
            # RFC 6749 section 2.3.1: both parts form-encoded before base64.
            pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = client_id
            if client_secret:
                form["client_secret"] = client_secret
        hidden = [v for k, v in form.items() if k in _SECRET_FORM_FIELDS]
        hidden += [client_secret] if client_secret else []
        url = redact_url(self.token_url)
        grant = data["grant_type"]
        logger.debug("requesting an OAuth token (%s) from %s", grant, url)
        try:
            response = await self._post(form, headers)
        except httpx.TransportError as exc:
            raise transport_error(exc, "POST", url, hidden) from exc
        if response.status_code >= 400:
            status = response.status_code
            bad_grant = status in (400, 401, 403)
            raise error_from_response(
                response, error_class=AuthenticationError if bad_grant else None, secrets=hidden
            )
        try:
            payload = response.json()
            if not isinstance(payload, dict):
                raise ValidationError("the token response is not a JSON object", field="body")
            token = OAuthToken.from_response(payload, previous=previous)
        except (ValueError, ValidationError) as exc:
            message = scrub(str(exc), hidden) if isinstance(exc, ValidationError) else "bad JSON"
            raise FatalAPIError(
                f"POST {url} returned an unusable token response: {message}",
                status=response.status_code,
                method="POST",
                url=url,
            ) from exc
        logger.debug(
            "got an OAuth token (%s) from %s, expires at %s",
            grant,
            url,
            token.expires_at.isoformat() if token.expires_at else "unknown",
        )
        return token

    async def _post(self, form: Mapping[str, str], headers: Mapping[str, str]) -> httpx.Response:
        if self._token_client is not None:
            return await self._token_client.post(
                self.token_url, data=dict(form), headers=dict(headers), auth=_NO_AUTH
            )
        async with httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, verify=default_ssl_context()
        ) as client:
            return await client.post(self.token_url, data=dict(form), headers=dict(headers))


# The token client's own auth (if any) must not replace the client authentication we send.
_NO_AUTH = httpx.Auth()
_SECRET_FORM_FIELDS = frozenset({"client_secret", "code", "code_verifier", "refresh_token"})


class OAuth2ClientCredentialsAuth(_OAuth2Auth):
    """OAuth2 client credentials grant (RFC 6749 section 4.4), for server-to-server APIs.

    The token is fetched on first use, kept in ``store`` (memory by default) until ``leeway``
    seconds before it expires (at most half its lifetime), then fetched again; after a 401 it
    is fetched again once. Concurrent requests share one fetch. ``token_client`` (e.g. a
    client from :func:`~leadbridge.http.create_client`) sends token requests; without it each
    fetch opens a short-lived client. ``extra_params`` are added to the token request; they
    cannot set ``grant_type``, ``client_id``, ``client_secret`` (nor ``scope`` when ``scope``
    is given). ``integration`` names the integration in errors.
    """

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        token_url: str,
        scope: str | Sequence[str] | None = None,
        store: TokenStore | None = None,
        leeway: float = 30.0,
        client_auth: ClientAuthMethod = "client_secret_basic",
        token_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        extra_params: Mapping[str, str] | None = None,
        integration: str | None = None,
    ) -> None:
        required(credentials.client_secret, "client_secret", hint="the grant needs one")
        super().__init__(
            credentials,
            token_url=token_url,
            scope=scope,
            store=store,
            leeway=leeway,
            client_auth=client_auth,
            token_client=token_client,
            timeout=timeout,
            integration=integration,
        )
        reserved = _CLIENT_CREDENTIALS_PARAMS | ({"scope"} if self.scope else set())
        _refuse_reserved(extra_params or {}, reserved)
        self._extra_params = dict(extra_params or {})

    @override
    async def _obtain(self, previous: OAuthToken | None) -> OAuthToken:
        data = {**self._extra_params, "grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        return await self._request_token(data)


@dataclass(frozen=True, slots=True, repr=False)
class AuthorizationRequest:
    """Where to send the user, and what to keep until the redirect comes back.

    Keep ``state`` and ``code_verifier`` server-side (session, database) until the callback;
    check the returned state with :meth:`verify_state`, then call
    :meth:`OAuth2AuthorizationCodeAuth.exchange_code` with the code and ``code_verifier``.
    """

    url: str
    state: str
    code_verifier: str

    def __repr__(self) -> str:
        url = redact_url(self.url, ["state"])
        return f"AuthorizationRequest(url={url!r}, state='***', code_verifier='***')"

    def verify_state(self, returned_state: str | None) -> None:
        """Raise :class:`AuthenticationError` unless the callback's state is ours (CSRF check)."""
        if not returned_state or not secrets.compare_digest(returned_state, self.state):
            raise AuthenticationError(
                "the authorization callback's state does not match the request: start again"
            )


class OAuth2AuthorizationCodeAuth(_OAuth2Auth):
    """OAuth2 authorization code grant with PKCE (S256) and refresh tokens.

    1. :meth:`authorization_url` → send the user there (``state`` and PKCE included).
    2. On the redirect: ``request.verify_state(state)``, then :meth:`exchange_code`; the token
       is saved to ``store``.
    3. Use the provider as a client's ``auth``: the access token is refreshed ``leeway``
       seconds before it expires (at most half its lifetime) and once after a 401; many
       concurrent requests share one refresh, and so do providers sharing a
       :class:`LockingTokenStore` (several workers). A new refresh token replaces the old
       one; when the server sends none, the old one is kept. With no refresh token stored, or
       one the server rejects (``invalid_grant``), requests raise
       :class:`ReauthorizationRequiredError` naming ``integration``: the user must authorize
       again.
    """

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        authorize_url: str,
        token_url: str,
        redirect_uri: str,
        scope: str | Sequence[str] | None = None,
        store: TokenStore | None = None,
        leeway: float = 30.0,
        client_auth: ClientAuthMethod = "client_secret_basic",
        token_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        integration: str | None = None,
    ) -> None:
        if not authorize_url:
            raise ValidationError("authorize_url is required", field="authorize_url")
        if not redirect_uri:
            raise ValidationError("redirect_uri is required", field="redirect_uri")
        super().__init__(
            credentials,
            token_url=token_url,
            scope=scope,
            store=store,
            leeway=leeway,
            client_auth=client_auth,
            token_client=token_client,
            timeout=timeout,
            integration=integration,
        )
        self.authorize_url = authorize_url
        self.redirect_uri = redirect_uri

    def authorization_url(
        self, *, state: str | None = None, extra_params: Mapping[str, str] | None = None
    ) -> AuthorizationRequest:
        """A fresh authorization request: random ``state`` and PKCE verifier, S256 challenge.

        ``extra_params`` adds parameters the server documents (``prompt``, ``access_type``…);
        it cannot replace the ones the request relies on (``state``, the PKCE challenge,
        ``redirect_uri``, ``client_id``, ``response_type``, and ``scope`` when the provider has
        one): those raise :class:`~leadbridge.ValidationError` naming them.
        """
        reserved = _AUTHORIZE_PARAMS | ({"scope"} if self.scope else set())
        _refuse_reserved(extra_params or {}, reserved)
        state = state or secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43..128
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": required(self._credentials.client_id, "client_id"),
            "redirect_uri": self.redirect_uri,
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
            **(extra_params or {}),
        }
        if self.scope:
            params["scope"] = self.scope
        url = httpx.URL(self.authorize_url).copy_merge_params(params)
        return AuthorizationRequest(url=str(url), state=state, code_verifier=verifier)

    async def exchange_code(self, code: str, *, code_verifier: str | None) -> OAuthToken:
        """Trade the callback's ``code`` for tokens, save them to the store and return them."""
        if not code:
            raise ValidationError("the authorization code is empty", field="code")
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if code_verifier:
            data["code_verifier"] = code_verifier
        async with self._refresh_lock(), self._held_store() as store:
            token = await self._request_token(data)
            self._token, self._loaded = token, True
            await store.save(token)
        return token

    @override
    async def _obtain(self, previous: OAuthToken | None) -> OAuthToken:
        if previous is None or not previous.refresh_token:
            raise ReauthorizationRequiredError(
                f"{self._who()}: no OAuth refresh token is stored; authorize the integration again",
                integration=self.integration,
            )
        data = {"grant_type": "refresh_token", "refresh_token": previous.refresh_token}
        try:
            return await self._request_token(data, previous=previous)
        except AuthenticationError as exc:
            if exc.server_code != "invalid_grant":
                raise
            raise ReauthorizationRequiredError(
                f"{self._who()}: the stored authorization was rejected (invalid_grant); "
                "authorize the integration again",
                integration=self.integration,
                status=exc.status,
                method=exc.method,
                url=exc.url,
                server_code=exc.server_code,
            ) from exc


# Parameters the provider sets itself; an override would break the flow (the callback's state
# or PKCE check fails, the code goes elsewhere) or the client authentication.
_AUTHORIZE_PARAMS = frozenset(
    {
        "client_id",
        "code_challenge",
        "code_challenge_method",
        "redirect_uri",
        "response_type",
        "state",
    }
)
_CLIENT_CREDENTIALS_PARAMS = frozenset({"client_id", "client_secret", "grant_type"})


def _refuse_reserved(params: Iterable[str], reserved: frozenset[str] | set[str]) -> None:
    clashes = sorted(set(params) & reserved)
    if clashes:
        raise ValidationError(
            f"extra_params cannot set {', '.join(clashes)}: the provider sets them itself",
            field="extra_params",
            value=clashes,
        )


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE ``verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
