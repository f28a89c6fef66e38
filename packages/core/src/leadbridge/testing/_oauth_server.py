"""A real OAuth2 authorization server and API on loopback, for testing auth and HTTP clients.

::

    with OAuthTestServer() as server:        # uvicorn in a background thread, a free port
        auth = OAuth2ClientCredentialsAuth(
            ClientIdSecret(server.client_id, server.client_secret), token_url=server.token_url
        )
        async with create_client(base_url=server.base_url, auth=auth) as client:
            (await client.get("/api/me")).json()  # {"ok": true, "via": "oauth", ...}
        assert server.token_requests["client_credentials"] == 1

The pytest fixture ``oauth_server`` (from :mod:`leadbridge.testing.plugin`) gives one server per
session, reset before each test.

Endpoints:

- ``POST /oauth/token``: grants ``client_credentials``, ``authorization_code`` (PKCE S256
  checked) and ``refresh_token`` (rotating unless ``rotate_refresh_tokens`` is false); client
  authentication by Basic header or form fields. A rotated refresh token presented again is
  reuse (RFC 6819 section 5.2.2.3, OAuth 2.1): the server revokes the whole grant — every
  access and refresh token descending from the same authorization — answers ``invalid_grant``
  and counts it in ``refresh_token_reuse`` (``revoke_on_reuse=False`` only refuses the
  token). Errors follow RFC 6749 (``invalid_client`` 401, ``invalid_grant`` 400) and, on
  purpose, quote the secret they rejected, so tests prove that clients scrub it.
- ``GET /oauth/authorize``: approves at once and redirects to ``redirect_uri`` with ``code``
  and ``state`` (or call :meth:`OAuthTestServer.approve`).
- ``/api/{path}``, any method: requires credentials — the API key in any query parameter or
  header (raw or after a one-word prefix), Basic, the static bearer token, or an unexpired
  issued access token — and answers ``{"ok": true, "via": ...}``; a 401 quotes what it got.
- ``/open/{path}``, any method: no auth; ``?delay=SECONDS`` waits before answering.

Queue responses for a path with :meth:`OAuthTestServer.enqueue` (503, 429 with ``Retry-After``,
401…); they are served in order before the normal behaviour. Every request is counted in
``hits`` and timed in ``arrivals`` (``time.monotonic()``) by path.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
import secrets
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_THREAD_NAME = "leadbridge-oauth-test-server"


@dataclass(frozen=True)
class ScriptedResponse:
    """A response served once, in order, before a path's normal behaviour."""

    status: int
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class OAuthTestServer:
    """The server; its credentials are random per instance (see the attributes)."""

    client_id = "leadbridge-test-client"
    username = "leadbridge-test-user"

    def __init__(
        self,
        *,
        token_lifetime: float = 3600.0,
        rotate_refresh_tokens: bool = True,
        expiry_field: Literal["expires_in", "expires_at"] = "expires_in",
        token_delay: float = 0.0,
        revoke_on_reuse: bool = True,
    ) -> None:
        self.client_secret = secrets.token_urlsafe(24)
        self.api_key = secrets.token_urlsafe(24)
        self.password = secrets.token_urlsafe(24)
        self.static_token = secrets.token_urlsafe(24)
        self._settings = (
            float(token_lifetime),
            rotate_refresh_tokens,
            expiry_field,
            token_delay,
            revoke_on_reuse,
        )
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token_endpoint, methods=["POST"]),
                Route("/oauth/authorize", self._authorize_endpoint, methods=["GET"]),
                Route("/api/{path:path}", self._api_endpoint, methods=_METHODS),
                Route("/open/{path:path}", self._open_endpoint, methods=_METHODS),
            ]
        )
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every token, code, script and count; restore the constructor's settings."""
        (
            self.token_lifetime,
            self.rotate_refresh_tokens,
            self.expiry_field,
            self.token_delay,
            self.revoke_on_reuse,
        ) = self._settings
        self.token_requests: Counter[str] = Counter()
        self.refresh_token_reuse = 0
        self.hits: Counter[str] = Counter()
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self._access_tokens: dict[str, float] = {}
        self._refresh_tokens: set[str] = set()
        # Grant families: every token issued from one authorization, to revoke them together.
        self._family_of: dict[str, int] = {}
        self._rotated: set[str] = set()
        self._families = itertools.count(1)
        self._codes: dict[str, dict[str, str]] = {}
        self._issued: set[str] = set()
        self._scripts: defaultdict[str, deque[ScriptedResponse]] = defaultdict(deque)

    def start(self) -> OAuthTestServer:
        if self._server is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=_THREAD_NAME,
            daemon=True,
        )
        _install_access_log_filter()
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the OAuth test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> OAuthTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/oauth/authorize"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # -- test controls -----------------------------------------------------------------------

    def enqueue(self, path: str, *responses: ScriptedResponse) -> None:
        """Serve ``responses`` in order for ``path`` (e.g. ``"/open/flaky"``)."""
        self._scripts[path].extend(responses)

    def issue_token(
        self, *, expires_in: float | None = None, refresh: bool = True
    ) -> dict[str, Any]:
        """Issue tokens directly; returns the JSON a token endpoint would have answered.

        ``expires_in`` <= 0 gives a token that is already expired on both sides.
        """
        lifetime = expires_in if expires_in is not None else self.token_lifetime
        return self._issue(lifetime, refresh, family=self._new_family())

    def revoke_access_tokens(self) -> None:
        """Reject every access token issued so far (they stay unexpired for clients)."""
        self._access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        self._refresh_tokens.clear()

    def approve(self, authorization_url: str) -> str:
        """Approve an authorization request as a user would; returns the redirect URL."""
        params = dict(parse_qsl(urlsplit(authorization_url).query))
        status, location = self._approve(params)
        if status != 302:
            raise ValueError(f"authorization refused: {location}")
        return location

    def issued_secrets(self) -> set[str]:
        """Every access token, refresh token and code issued since the last reset."""
        return set(self._issued)

    def all_secrets(self) -> set[str]:
        """The configured credentials plus :meth:`issued_secrets` (for leak checks)."""
        fixed = {self.client_secret, self.api_key, self.password, self.static_token}
        return fixed | self.issued_secrets()

    # -- endpoints ---------------------------------------------------------------------------

    def _record(self, request: Request) -> ScriptedResponse | None:
        path = request.url.path
        self.hits[path] += 1
        self.arrivals[path].append(time.monotonic())
        queue = self._scripts.get(path)
        return queue.popleft() if queue else None

    async def _scripted(self, scripted: ScriptedResponse) -> Response:
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        body = {"scripted": scripted.status} if scripted.json is None else scripted.json
        return JSONResponse(body, status_code=scripted.status, headers=scripted.headers)

    async def _open_endpoint(self, request: Request) -> Response:
        scripted = self._record(request)
        if scripted is not None:
            return await self._scripted(scripted)
        delay = float(request.query_params.get("delay", 0))
        if delay:
            await asyncio.sleep(delay)
        body = await request.body()
        return JSONResponse(
            {"ok": True, "method": request.method, "path": request.url.path, "size": len(body)},
            headers=self._quota_headers(),
        )

    async def _api_endpoint(self, request: Request) -> Response:
        scripted = self._record(request)
        if scripted is not None:
            return await self._scripted(scripted)
        via = self._authenticate(request)
        if via is None:
            presented = request.headers.get("authorization") or request.url.query or "nothing"
            detail = f"credentials not accepted: {presented}"
            return JSONResponse(
                {"errors": [{"title": "Unauthorized", "detail": detail, "code": "unauthorized"}]},
                status_code=401,
            )
        return JSONResponse(
            {"ok": True, "via": via, "method": request.method, "path": request.url.path},
            headers=self._quota_headers(),
        )

    def _quota_headers(self) -> dict[str, str]:
        return {
            "RateLimit-Monthly-Limit": "10000",
            "RateLimit-Monthly-Remaining": str(10000 - sum(self.hits.values())),
        }

    def _authenticate(self, request: Request) -> str | None:
        for name, value in request.query_params.multi_items():
            if value == self.api_key:
                return f"query:{name}"
        authorization = request.headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential).decode()
            except ValueError:
                return None
            return "basic" if decoded == f"{self.username}:{self.password}" else None
        if scheme.lower() == "bearer":
            if credential == self.static_token:
                return "bearer"
            expires = self._access_tokens.get(credential)
            return "oauth" if expires is not None and expires > time.time() else None
        for name, value in request.headers.items():
            if value == self.api_key:
                return f"header:{name}"
            prefix, _, rest = value.partition(" ")
            if rest == self.api_key:
                return f"header:{name}:{prefix}"
        return None

    async def _authorize_endpoint(self, request: Request) -> Response:
        status, location = self._approve(dict(request.query_params))
        if status != 302:
            return JSONResponse({"error": "invalid_request", "error_description": location}, 400)
        return RedirectResponse(location, status_code=302)

    def _approve(self, params: dict[str, str]) -> tuple[int, str]:
        if params.get("client_id") != self.client_id:
            return 400, "unknown client_id"
        if params.get("response_type") != "code":
            return 400, "response_type must be code"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return 400, "PKCE with S256 is required"
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            return 400, "redirect_uri is required"
        code = secrets.token_urlsafe(16)
        self._issued.add(code)
        self._codes[code] = {
            "redirect_uri": redirect_uri,
            "challenge": params["code_challenge"],
            "scope": params.get("scope", ""),
        }
        query = urlencode({"code": code, "state": params.get("state", "")})
        separator = "&" if "?" in redirect_uri else "?"
        return 302, f"{redirect_uri}{separator}{query}"

    async def _token_endpoint(self, request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        grant = form.get("grant_type", "")
        self.token_requests[grant] += 1
        client_id, client_secret = _client_auth(request, form)
        if client_id != self.client_id or client_secret != self.client_secret:
            return _oauth_error(
                401, "invalid_client", f"client authentication failed with secret {client_secret}"
            )
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        if grant == "client_credentials":
            return JSONResponse(self._issue(self.token_lifetime, refresh=False, scope=form))
        if grant == "authorization_code":
            details = self._codes.pop(form.get("code", ""), None)
            if details is None:
                return _oauth_error(400, "invalid_grant", f"code {form.get('code')} is not valid")
            if form.get("redirect_uri") != details["redirect_uri"]:
                return _oauth_error(400, "invalid_grant", "redirect_uri does not match")
            verifier = form.get("code_verifier", "")
            if _s256(verifier) != details["challenge"]:
                return _oauth_error(
                    400, "invalid_grant", f"code_verifier {verifier} does not match"
                )
            return JSONResponse(
                self._issue(
                    self.token_lifetime, refresh=True, scope=details, family=self._new_family()
                )
            )
        if grant == "refresh_token":
            return self._refresh(form)
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r}")

    def _refresh(self, form: dict[str, str]) -> Response:
        presented = form.get("refresh_token", "")
        if presented in self._rotated and self.revoke_on_reuse:
            # Two holders of one refresh token: one of them may be an attacker, so the server
            # cannot tell which to trust and revokes the whole grant.
            self.refresh_token_reuse += 1
            self._revoke_family(self._family_of[presented])
            return _oauth_error(
                400, "invalid_grant", f"refresh token {presented} was already used: grant revoked"
            )
        if presented not in self._refresh_tokens:
            return _oauth_error(
                400, "invalid_grant", f"refresh token {presented} is unknown or revoked"
            )
        if self.rotate_refresh_tokens:
            self._refresh_tokens.discard(presented)
            self._rotated.add(presented)
        family = self._family_of[presented]
        return JSONResponse(
            self._issue(
                self.token_lifetime, refresh=self.rotate_refresh_tokens, scope=form, family=family
            )
        )

    def _new_family(self) -> int:
        return next(self._families)

    def _revoke_family(self, family: int) -> None:
        for token, owner in self._family_of.items():
            if owner == family:
                self._access_tokens.pop(token, None)
                self._refresh_tokens.discard(token)

    def _issue(
        self,
        lifetime: float,
        refresh: bool,
        scope: dict[str, str] | None = None,
        family: int | None = None,
    ) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        self._access_tokens[access] = time.time() + lifetime
        self._issued.add(access)
        if family is not None:
            self._family_of[access] = family
        payload: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if self.expiry_field == "expires_at":
            payload["expires_at"] = int(time.time() + lifetime)
        else:
            payload["expires_in"] = lifetime
        if refresh:
            refresh_token = secrets.token_urlsafe(24)
            self._refresh_tokens.add(refresh_token)
            self._issued.add(refresh_token)
            if family is not None:
                self._family_of[refresh_token] = family
            payload["refresh_token"] = refresh_token
        if scope and scope.get("scope"):
            payload["scope"] = scope["scope"]
        return payload


class _DropOwnAccessLines(logging.Filter):
    """Drops this server's access lines (they quote query-string API keys), no one else's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != _THREAD_NAME


def _install_access_log_filter() -> None:
    # uvicorn's own switch (access_log=False) turns access logs off process-wide.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _DropOwnAccessLines) for f in access.filters):
        access.addFilter(_DropOwnAccessLines())


def _client_auth(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential).decode()
        except ValueError:
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return unquote(client_id), unquote(client_secret)
    return form.get("client_id"), form.get("client_secret")


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
