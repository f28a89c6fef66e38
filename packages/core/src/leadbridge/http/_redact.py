"""Keeping secrets out of logged URLs, log records and exception messages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx

MASK = "***"

#: Query parameters whose values are masked wherever a URL is logged or raised.
DEFAULT_SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api-key",
        "api_key",
        "api_token",
        "apikey",
        "apitoken",
        "client_secret",
        "code",
        "code_verifier",
        "hapikey",
        "id_token",
        "key",
        "password",
        "refresh_token",
        "secret",
        "sig",
        "signature",
        "token",
    }
)

#: Headers whose values are scrubbed from server messages quoted in exceptions.
DEFAULT_SECRET_HEADERS = frozenset(
    {"api-key", "apikey", "authorization", "cookie", "proxy-authorization", "x-api-key"}
)

_EXTENSION = "leadbridge.secrets"
_NamePredicate = Callable[[str], bool]
# Shorter strings are too likely to match ordinary text to be worth scrubbing.
_MIN_SECRET_LENGTH = 4


def redact_url(url: httpx.URL | str, secret_params: Iterable[str] = ()) -> str:
    """``url`` with the values of secret query parameters and any password masked.

    Parameters in :data:`DEFAULT_SECRET_PARAMS` and in ``secret_params`` are masked (names
    compared case-insensitively); the rest of the URL is kept byte for byte, so what is logged
    is still useful::

        >>> redact_url("https://u:pw@api.example.com/v1?page=2&api_key=s3cr3t")
        'https://u:***@api.example.com/v1?page=2&api_key=***'
    """
    names = DEFAULT_SECRET_PARAMS | {name.lower() for name in secret_params}
    return _mask(str(url), lambda name: name.lower() in names)


def mask_all_query_values(url: httpx.URL | str) -> str:
    """``url`` with every query value masked (for third-party log lines we cannot scope)."""
    return _mask(str(url), lambda _name: True)


def mark_secrets(
    request: httpx.Request, *, params: Iterable[str] = (), headers: Iterable[str] = ()
) -> None:
    """Tell LeadBridge's logging and errors which parts of ``request`` carry secrets.

    A custom ``httpx.Auth`` that puts a secret in a query parameter or an unusual header calls
    this from its ``auth_flow``; :func:`redact_url` defaults and these names then apply to that
    request's log lines and exceptions. Only names are recorded, never values.
    """
    current = request.extensions.get(_EXTENSION) or {}
    request.extensions[_EXTENSION] = {
        "params": frozenset(current.get("params", ())) | {p.lower() for p in params},
        "headers": frozenset(current.get("headers", ())) | {h.lower() for h in headers},
    }


def marked_params(request: httpx.Request) -> frozenset[str]:
    return frozenset((request.extensions.get(_EXTENSION) or {}).get("params", ()))


def request_url(request: httpx.Request, secret_params: Iterable[str] = ()) -> str:
    """The request's URL, redacted with the defaults, ``secret_params`` and the marked names."""
    return redact_url(request.url, marked_params(request) | frozenset(secret_params))


def secret_values(request: httpx.Request, secret_params: Iterable[str] = ()) -> list[str]:
    """The secret values ``request`` carries, to scrub from text quoted back by a server."""
    marks = request.extensions.get(_EXTENSION) or {}
    params = DEFAULT_SECRET_PARAMS | marks.get("params", frozenset()) | set(secret_params)
    headers = DEFAULT_SECRET_HEADERS | marks.get("headers", frozenset())
    found = [value for name, value in request.url.params.multi_items() if name.lower() in params]
    for name, value in request.headers.items():
        if name.lower() not in headers:
            continue
        found.append(value)
        scheme, _, credential = value.partition(" ")
        found.append(credential)
        if scheme.lower() == "basic":
            found.extend(_basic_parts(credential))
    if request.url.password:
        found.append(request.url.password)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by the mask."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    return text


def _basic_parts(credential: str) -> list[str]:
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return []
    _, _, password = decoded.partition(":")
    return [decoded, password]


def _mask(url: str, is_secret: _NamePredicate) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = "&".join(_mask_pair(pair, is_secret) for pair in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_pair(pair: str, is_secret: _NamePredicate) -> str:
    name, eq, _value = pair.partition("=")
    if eq and is_secret(unquote_plus(name)):
        return f"{name}={MASK}"
    return pair
