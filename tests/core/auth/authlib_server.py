"""An authorization server built from Authlib's (Flask) — a server we did not write.

Authorization code with PKCE (S256 required), refresh tokens rotated on every use, and
reuse detection as OAuth 2.1 servers do it: a spent refresh token presented again revokes
every token of its grant. Authlib gives the endpoints, request parsing, client
authentication, PKCE and error responses; the in-memory models and the reuse rule are here.
Runs on loopback in a thread (werkzeug), like ``OAuthTestServer``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

REDIRECT_URI = "https://app.example.com/callback"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str = field(repr=False)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return REDIRECT_URI

    def get_allowed_scope(self, scope: str) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == REDIRECT_URI

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):
    client: Client
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int
    family: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False
    spent: bool = False  # the refresh token was used (rotated)

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str:
        return "user"

    def get_client(self) -> Client:
        return self.client


class AuthlibServer:
    """The server; ``token_requests`` counts token endpoint calls by grant type.

    ``token_delay`` seconds are spent in each token request, one request at a time.
    """

    def __init__(self, *, token_lifetime: int = 3600) -> None:
        self.token_delay = 0.0
        self.client = Client("authlib-client", secrets.token_urlsafe(24))
        self.token_requests: Counter[str] = Counter()
        self.refresh_token_reuse = 0
        self._codes: dict[str, Code] = {}
        self._tokens: list[Token] = []
        self._families = itertools.count(1)
        self._lock = threading.Lock()
        app = Flask(__name__)
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
            "authorization_code": token_lifetime,
            "refresh_token": token_lifetime,
        }
        self.server = AuthorizationServer(
            app, query_client=self._query_client, save_token=self._save_token
        )
        self.server.register_grant(_code_grant(self), [CodeChallenge(required=True)])
        self.server.register_grant(_refresh_grant(self))
        protect = ResourceProtector()
        protect.register_token_validator(_validator(self)())
        app.add_url_rule("/authorize", "authorize", self._authorize)
        app.add_url_rule("/token", "token", self._token, methods=["POST"])
        app.add_url_rule("/api/me", "me", protect()(lambda: jsonify(ok=True)))
        self._http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    # -- lifecycle and addresses -------------------------------------------------------------

    def __enter__(self) -> AuthlibServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.shutdown()
        self._thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_port}"

    def secrets(self) -> set[str]:
        issued = {t.access_token for t in self._tokens} | {
            t.refresh_token for t in self._tokens if t.refresh_token
        }
        return issued | set(self._codes) | {self.client.client_secret}

    # -- endpoints and storage ---------------------------------------------------------------

    def _authorize(self) -> Any:
        try:  # the user approves at once
            grant = self.server.get_consent_grant(end_user="user")
        except OAuth2Error as error:
            return self.server.handle_error_response(None, error)
        return self.server.create_authorization_response(grant=grant, grant_user="user")

    def _token(self) -> Any:
        with self._lock:  # one token request at a time: the reuse rule reads and writes
            self.token_requests[request.form.get("grant_type", "")] += 1
            time.sleep(self.token_delay)
            return self.server.create_token_response()

    def _query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def _save_token(self, token: dict[str, Any], oauth_request: Any) -> None:
        previous = getattr(oauth_request, "refresh_token", None)
        family = previous.family if isinstance(previous, Token) else next(self._families)
        self._tokens.append(
            Token(
                client=self.client,
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                scope=token.get("scope", ""),
                expires_in=int(token["expires_in"]),
                family=family,
            )
        )

    def find(self, **match: str) -> Token | None:
        ((name, value),) = match.items()
        return next((t for t in self._tokens if getattr(t, name) == value), None)

    def revoke_family(self, family: int) -> None:
        for token in self._tokens:
            if token.family == family:
                token.revoked = True


def _code_grant(owner: AuthlibServer) -> type[grants.AuthorizationCodeGrant]:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, oauth_request: Any) -> None:
            data = oauth_request.payload.data
            owner._codes[code] = Code(
                code,
                data["redirect_uri"],
                oauth_request.scope or "",
                data.get("code_challenge"),
                data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            return owner._codes.get(code)

        def delete_authorization_code(self, authorization_code: Code) -> None:
            owner._codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return "user"

    return CodeGrant


def _refresh_grant(owner: AuthlibServer) -> type[grants.RefreshTokenGrant]:
    class RotatingRefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            token = owner.find(refresh_token=refresh_token)
            if token is None or token.revoked:
                return None
            if token.spent:  # reuse: revoke the grant (OAuth 2.1 section 4.3.1)
                owner.refresh_token_reuse += 1
                owner.revoke_family(token.family)
                return None
            return token

        def authenticate_user(self, refresh_token: Token) -> str:
            return "user"

        def revoke_old_credential(self, refresh_token: Token) -> None:
            refresh_token.spent = True

    return RotatingRefreshGrant


def _validator(owner: AuthlibServer) -> type[BearerTokenValidator]:
    class Validator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> Token | None:
            return owner.find(access_token=token_string)

    return Validator


class _QuietHandler(WSGIRequestHandler):
    """No access log: its lines would quote the authorization request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
