from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from ._redact import mask_all_query_values
from ._transports import (
    ApiCallCounter,
    RateLimitedTransport,
    RateLimiter,
    RetryPolicy,
    RetryTransport,
)

EventHook = Callable[..., Any]


def create_client(
    *,
    base_url: str = "",
    auth: httpx.Auth | None = None,
    timeout: float | httpx.Timeout = 30.0,
    retries: RetryPolicy = RetryPolicy(),
    rate_limit: float | RateLimiter | None = None,
    counter: ApiCallCounter | None = None,
    headers: Mapping[str, str] | None = None,
    event_hooks: Mapping[str, list[EventHook]] | None = None,
    secret_params: Iterable[str] = (),
    transport: httpx.AsyncBaseTransport | None = None,
    verify: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for an integration, built from explicit values.

    - ``auth``: a provider from :mod:`leadbridge.auth` (or any ``httpx.Auth``).
    - ``retries``: a :class:`RetryPolicy`; ``RetryPolicy(retries=0)`` disables retries.
    - ``rate_limit``: requests per second, or a :class:`RateLimiter` shared with other clients
      of the same integration. Every attempt, retries included, waits for its slot.
    - ``counter``: an :class:`ApiCallCounter` incremented for every request that reached the
      wire (retries included).
    - ``event_hooks``: httpx hooks; response hooks see the final response of each send (after
      retries), e.g. to read quota headers. Do not raise from them: an OAuth provider must see
      a 401 to refresh. Call :func:`raise_for_status` on the result instead.
    - ``secret_params``: extra query parameter names to mask in logs and errors.
    - ``transport``: the innermost transport (default ``httpx.AsyncHTTPTransport()``).
    - ``verify``: the TLS context of that default transport (a private CA's, say). Without
      one, clients share one verifying context per process (``default_ssl_context``).

    Redirects are not followed: a custom API-key header would follow them to another host.
    """
    install_httpx_log_redaction()
    inner: httpx.AsyncBaseTransport = transport or httpx.AsyncHTTPTransport(
        verify=verify or default_ssl_context()
    )
    if rate_limit is not None:
        limiter = rate_limit if isinstance(rate_limit, RateLimiter) else RateLimiter(rate_limit)
        inner = RateLimitedTransport(inner, limiter)
    return httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        timeout=timeout,
        headers=dict(headers or {}),
        event_hooks={name: list(hooks) for name, hooks in (event_hooks or {}).items()},
        transport=RetryTransport(
            inner, policy=retries, counter=counter, secret_params=secret_params
        ),
        follow_redirects=False,
    )


class _SharedContext:
    """One context built on first use, whichever thread asks first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    def get(self) -> ssl.SSLContext:
        context = self._context
        if context is None:
            with self._lock:
                if self._context is None:
                    self._context = httpx.create_ssl_context()
                context = self._context
        return context


_SHARED_CONTEXT = _SharedContext()


def default_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying TLS context (certifi's CA bundle, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` as set when first asked), built once per process.

    Building one loads the CA bundle (a tenth of a second or so), which every client — every
    sync run and job — would otherwise pay again. A context is safe to share between clients
    and threads; hostname checks and certificate verification stay on. (httpcore sets its ALPN
    list on each connection: the same, HTTP/1.1, for every client built here.)
    """
    return _SHARED_CONTEXT.get()


class _HttpxURLRedactor(logging.Filter):
    """Masks query values in httpx's own "HTTP Request: GET <url>" records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                mask_all_query_values(a) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def install_httpx_log_redaction() -> None:
    """Make the ``httpx`` logger mask query values, where API keys travel (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _HttpxURLRedactor) for f in httpx_logger.filters):
        httpx_logger.addFilter(_HttpxURLRedactor())
