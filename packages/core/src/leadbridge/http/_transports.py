"""Transport wrappers: retries, rate limiting and call counting, for any request a client sends.

They layer like httpx's own transports, so they apply below auth flows and event hooks::

    RetryTransport(RateLimitedTransport(httpx.AsyncHTTPTransport(), limiter), policy=...)
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from .._errors import ValidationError
from ..observability import record_api_call, record_api_retry
from ._errors import transport_error
from ._redact import request_url, secret_values
from ._retry_after import parse_retry_after

logger = logging.getLogger("leadbridge.http")

#: Methods retried without being marked; mark others with ``extensions={"idempotent": True}``.
IDEMPOTENT_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PUT", "TRACE"})

# Nothing reached the server, so even a POST can be sent again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRIABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    ``retries`` extra attempts at most; the n-th waits about ``backoff * 2**(n-1)`` seconds
    (capped at ``max_backoff``, with jitter so many clients do not retry in step). A server's
    ``Retry-After`` replaces the backoff; one longer than ``max_retry_after`` is not slept
    through: the 429/503 is returned at once so the caller can reschedule.

    Retried: connection errors and timeouts, ``statuses`` (502/503/504) for idempotent requests
    only (``IDEMPOTENT_METHODS`` or ``extensions={"idempotent": True}``), and 429 for every
    method (the server refused the request unprocessed). A request whose body is a stream cannot
    be replayed and is never retried.
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default=frozenset({502, 503, 504}))

    def __post_init__(self) -> None:
        for name in ("retries", "backoff", "max_backoff", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValidationError(
                    f"RetryPolicy.{name} must be >= 0, got {getattr(self, name)!r}",
                    field=name,
                    value=getattr(self, name),
                )

    def backoff_delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), with equal jitter."""
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class ApiCallCounter:
    """Counts requests that reached the wire (retries included); sync runs report ``count``.

    Share one counter among the clients of an integration run. Attempts that failed before a
    connection was made are not counted: the API never saw them.
    """

    __slots__ = ("_count",)

    def __init__(self) -> None:
        self._count = 0

    def __repr__(self) -> str:
        return f"ApiCallCounter(count={self._count})"

    @property
    def count(self) -> int:
        return self._count

    def increment(self) -> None:
        self._count += 1

    def reset(self) -> int:
        """Set the count back to zero and return what it was."""
        count, self._count = self._count, 0
        return count


class RateLimiter:
    """At most ``requests_per_second`` on average, with bursts of up to ``burst`` requests.

    Async and lock-free (a generic cell rate algorithm: each caller books the next slot, then
    sleeps until it); share one instance among every client of an integration.
    """

    def __init__(self, requests_per_second: float, *, burst: int = 1) -> None:
        if not requests_per_second > 0:
            raise ValidationError(
                f"requests_per_second must be > 0, got {requests_per_second!r}",
                field="requests_per_second",
                value=requests_per_second,
            )
        if burst < 1:
            raise ValidationError(f"burst must be >= 1, got {burst!r}", field="burst", value=burst)
        self.requests_per_second = requests_per_second
        self.burst = burst
        self._interval = 1.0 / requests_per_second
        self._tolerance = (burst - 1) * self._interval
        self._next = 0.0  # theoretical arrival time of the next request

    def __repr__(self) -> str:
        return f"RateLimiter(requests_per_second={self.requests_per_second!r}, burst={self.burst})"

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        delay = self._reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def _reserve(self) -> float:
        """Book the next slot; returns how long to wait for it."""
        now = time.monotonic()
        slot = max(self._next, now)
        self._next = slot + self._interval  # booked before sleeping, so callers queue up
        return max(0.0, slot - self._tolerance - now)


class _WrappingTransport(httpx.AsyncBaseTransport):
    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class RateLimitedTransport(_WrappingTransport):
    """Waits for the rate limiter before every request that goes to ``transport``."""

    def __init__(self, transport: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        super().__init__(transport)
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.limiter.acquire()
        return await self._transport.handle_async_request(request)


class RetryTransport(_WrappingTransport):
    """Retries per ``policy``, counts calls, logs each attempt and maps transport errors.

    Each attempt is logged on ``leadbridge.http`` at DEBUG (method, redacted URL, status,
    attempt). A request that gets no response raises :class:`RetriableAPIError` (timeouts,
    network errors) or :class:`FatalAPIError`; error responses are returned as they are — map
    them with :func:`raise_for_status`.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        policy: RetryPolicy | None = None,
        counter: ApiCallCounter | None = None,
        secret_params: Iterable[str] = (),
    ) -> None:
        super().__init__(transport)
        self.policy = policy or RetryPolicy()
        self.counter = counter
        self._secret_params = frozenset(p.lower() for p in secret_params)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        url = request_url(request, self._secret_params)
        replayable = isinstance(request.stream, httpx.ByteStream)
        marked = request.extensions.get("idempotent")
        idempotent = bool(marked) if marked is not None else request.method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._transport.handle_async_request(request)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                self._count(sent, request.method)
                error = type(exc).__name__
                logger.debug("%s %s failed: %s (attempt %d)", request.method, url, error, attempt)
                if (
                    attempt <= policy.retries
                    and replayable
                    and isinstance(exc, _RETRIABLE_ERRORS)
                    and (idempotent or not sent)
                ):
                    await self._wait(request, url, policy.backoff_delay(attempt), attempt)
                    continue
                secrets = secret_values(request, self._secret_params)
                raise transport_error(exc, request.method, url, secrets) from exc
            self._count(True, request.method, response.status_code)
            logger.debug(
                "%s %s -> %d (attempt %d)", request.method, url, response.status_code, attempt
            )
            delay = self._retry_delay(response, attempt, idempotent and replayable, replayable)
            if delay is None:
                return response
            await response.aclose()
            await self._wait(request, url, delay, attempt)

    def _retry_delay(
        self, response: httpx.Response, attempt: int, may_resend: bool, replayable: bool
    ) -> float | None:
        policy = self.policy
        status = response.status_code
        if attempt > policy.retries:
            return None
        if not (status == 429 and replayable) and not (status in policy.statuses and may_resend):
            return None
        retry_after = parse_retry_after(response.headers)
        if retry_after is None:
            return policy.backoff_delay(attempt)
        if retry_after > policy.max_retry_after:
            return None
        return retry_after

    async def _wait(self, request: httpx.Request, url: str, delay: float, attempt: int) -> None:
        logger.debug(
            "retrying %s %s in %.2fs (attempt %d of %d)",
            request.method,
            url,
            delay,
            attempt + 1,
            self.policy.retries + 1,
        )
        record_api_retry()
        await asyncio.sleep(delay)

    def _count(self, sent: bool, method: str, status_code: int | None = None) -> None:
        if sent:
            record_api_call(method, status_code)
        if sent and self.counter is not None:
            self.counter.increment()
