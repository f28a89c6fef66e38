"""Errors of third-party APIs, mapped at the client boundary into one hierarchy.

The two branches say what the caller does next:

* :class:`RetriableAPIError` — try again later (5xx, connection errors, timeouts; and
  :class:`RateLimitedError`, with ``retry_after`` when the server said how long to wait).
* :class:`FatalAPIError` — retrying the same request will not help (other 4xx; and
  :class:`AuthenticationError` — credentials rejected, re-authorize —
  and :class:`PermissionDeniedError`).

Every error carries ``status``, ``method``, ``url`` (secrets masked), and the server's own
message when it sent one (secrets the request carried are scrubbed from it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from .._errors import LeadBridgeError
from ._redact import request_url, scrub, secret_values
from ._retry_after import parse_retry_after

_MAX_MESSAGE = 300


class APIError(LeadBridgeError):
    """A third-party API call failed. Catch a branch, not this, to decide what to do next."""

    code = "API_ERROR"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        server_message: str | None = None,
        server_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = url
        self.server_message = server_message
        self.server_code = server_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class RetriableAPIError(APIError):
    """Temporary: a 5xx, a timeout or a connection error that outlasted the retries."""

    code = "API_RETRIABLE"


class RateLimitedError(RetriableAPIError):
    """429 after the retries (or a wait too long to sleep through): retry after ``retry_after``."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidResponseError(RetriableAPIError):
    """The API answered, but not with what it promised: a body that is not valid JSON (an
    HTML page with 200 from a proxy, a truncated document) or JSON of the wrong shape.

    Retriable: such answers come from something in between, or from a bad moment, far more
    often than from the API itself. ``content_type`` and ``body_start`` (the first bytes,
    secrets scrubbed) say what came back; ``path`` is the call's path without its query.
    """

    code = "API_INVALID_RESPONSE"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        content_type: str | None = None,
        body_start: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.path = path
        self.content_type = content_type
        self.body_start = body_start


class FatalAPIError(APIError):
    """The API refused the request itself; sending it again will not help."""

    code = "API_FATAL"


class AuthenticationError(FatalAPIError):
    """Credentials rejected (401, a bad grant, no token to refresh): fix or re-authorize."""

    code = "AUTHENTICATION"


class PermissionDeniedError(FatalAPIError):
    """403: the credentials are valid but not allowed to do this."""

    code = "PERMISSION_DENIED"


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Return ``response`` if it succeeded, else raise the matching :class:`APIError`.

    Call it after the client has done its retries and auth refreshes (not from a response event
    hook, which runs before an OAuth provider gets to refresh on a 401).
    """
    if response.status_code < 400:
        return response
    raise error_from_response(response)


def error_from_response(
    response: httpx.Response,
    *,
    error_class: type[APIError] | None = None,
    secrets: Iterable[str] = (),
) -> APIError:
    """The error for a failed response; ``secrets`` are scrubbed too."""
    status = response.status_code
    cls = error_class or _class_for(status)
    request = response.request
    url = request_url(request)
    hidden = [*secret_values(request), *secrets]
    server_message, server_code = _server_message(response)
    if server_message is not None:
        server_message = scrub(server_message, hidden)
    if server_code is not None:
        server_code = scrub(server_code, hidden)
    text = f"{request.method} {url} returned {status} {response.reason_phrase}".rstrip()
    if server_message:
        text = f"{text}: {server_message}"
    fields: dict[str, Any] = {
        "status": status,
        "method": request.method,
        "url": url,
        "server_message": server_message,
        "server_code": server_code,
    }
    if issubclass(cls, RateLimitedError):
        return cls(text, retry_after=parse_retry_after(response.headers), **fields)
    return cls(text, **fields)


def decode_json(
    response: httpx.Response,
    *,
    error_class: type[InvalidResponseError] = InvalidResponseError,
    service: str = "the API",
    expect: type | tuple[type, ...] = (dict, list),
    secrets: Iterable[str] = (),
) -> Any:
    """The JSON document of ``response``, or ``error_class`` saying which call returned what.

    The message names the call (method and path, without the query, where secrets travel),
    the status, the content type and the first bytes of the body, e.g. ``the API answered
    GET /v1/events with 200 (text/html) that is not JSON: '<html><head>…'``. A document
    whose top level is not an ``expect`` instance is refused the same way.
    """
    try:
        document = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        problem = "that is not JSON" if response.content else "with an empty body"
        raise invalid_response(
            response, problem, error_class=error_class, service=service, secrets=secrets
        ) from None
    if not isinstance(document, expect):
        raise invalid_response(
            response,
            f"with a JSON {type(document).__name__} where a document was expected",
            error_class=error_class,
            service=service,
            secrets=secrets,
        )
    return document


def invalid_response(
    response: httpx.Response,
    problem: str,
    *,
    error_class: type[InvalidResponseError] = InvalidResponseError,
    service: str = "the API",
    secrets: Iterable[str] = (),
) -> InvalidResponseError:
    """The error for an answer whose body is unusable (``problem`` says how)."""
    request = response.request
    hidden = [*secret_values(request), *secrets]
    content_type = response.headers.get("content-type") or None
    body_start = scrub(_clip_bytes(response.content), hidden)
    path = request.url.path
    text = (
        f"{service} answered {request.method} {path} with {response.status_code} "
        f"({content_type or 'no content type'}) {problem}"
    )
    if body_start:
        text = f"{text}; the body starts with {body_start!r}"
    return error_class(
        text,
        status=response.status_code,
        method=request.method,
        url=request_url(request),
        path=path,
        content_type=content_type,
        body_start=body_start,
    )


def _clip_bytes(body: bytes, limit: int = 80) -> str:
    text = " ".join(body[: limit * 4].decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transport_error(
    exc: httpx.TransportError, method: str, url: str, secrets: Iterable[str] = ()
) -> APIError:
    """The error for a request that got no response (``url`` already redacted)."""
    retriable = isinstance(
        exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
    )
    cls = RetriableAPIError if retriable else FatalAPIError
    detail = scrub(str(exc), secrets) or "no detail"
    return cls(f"{method} {url} failed: {type(exc).__name__}: {detail}", method=method, url=url)


def _class_for(status: int) -> type[APIError]:
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 429:
        return RateLimitedError
    if status >= 500 or status == 408:
        return RetriableAPIError
    return FatalAPIError


def _server_message(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = response.content
    except httpx.ResponseNotRead:  # a streamed response: the message is not available
        return None, None
    if not body:
        return None, None
    try:
        payload = json.loads(body)
    except ValueError:
        if not response.headers.get("content-type", "").startswith("text/"):
            return None, None
        return _clip(response.text), None
    return _from_json(payload)


def _from_json(payload: Any) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    errors = payload.get("errors")
    if isinstance(errors, list) and errors:  # JSON:API and most REST APIs
        parts = [_error_text(item) for item in errors]
        first = errors[0]
        code = first.get("code") if isinstance(first, dict) else None
        return _clip("; ".join(p for p in parts if p)), _str_or_none(code)
    error = payload.get("error")
    if isinstance(error, dict):  # {"error": {"message": ..., "code": ...}}
        return _from_json({"message": error.get("message"), "code": error.get("code")})
    description = payload.get("error_description")
    if isinstance(error, str):  # OAuth2 (RFC 6749 section 5.2)
        text = f"{error}: {description}" if description else error
        return _clip(text), error
    for key in ("message", "detail", "title"):
        if isinstance(payload.get(key), str):
            return _clip(payload[key]), _str_or_none(payload.get("code"))
    return None, None


def _error_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("detail", "message", "title"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return ""


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
