"""Transport wrappers: retries, rate limiting and call counting, for any request a client sends.

They layer like httpx's own transports, so they apply below auth flows and event hooks::

    RetryTransport(RateLimitedTransport(httpx.AsyncHTTPTransport(), limiter), policy=...)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
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

    ``retries`` extra attempts at most for failures (5xx, timeouts, connection errors); the
    n-th waits about ``backoff * 2**(n-1)`` seconds (capped at ``max_backoff``, with jitter so
    many clients do not retry in step).

    429s are waited out, not counted as ``retries``: each waits the server's ``Retry-After``
    (at least ``backoff``; the backoff when the server gave none) until ``rate_limit_budget``
    seconds of waiting for this request are spent, then the 429 is returned so the caller can
    stop cleanly and resume later. A ``Retry-After`` longer than ``max_retry_after`` is not
    slept through: the 429 (or 503) is returned at once.

    Retried: connection errors and timeouts — also a connection reset while the body was being
    read — and ``statuses`` (502/503/504) for idempotent requests only (``IDEMPOTENT_METHODS``
    or ``extensions={"idempotent": True}``), and 429 for every method (the server refused the
    request unprocessed). A request whose body is a stream cannot be replayed and is never
    retried.
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    rate_limit_budget: float = 120.0
    statuses: frozenset[int] = field(default=frozenset({502, 503, 504}))

    def __post_init__(self) -> None:
        for name in ("retries", "backoff", "max_backoff", "max_retry_after", "rate_limit_budget"):
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
    """Never more than the server's limit in any sliding window, at an even pace.

    ``requests_per_second`` over a ``window`` of seconds gives the limit a server counts in
    any window (5 per 1 s: a request may never be the sixth within one second). Two rules:

    - **pace**: requests start ``1 / requests_per_second`` apart, ``burst`` of them back to
      back at most (a generic cell rate algorithm);
    - **window**: a request counts from when it is sent until its answer came back plus
      ``window`` + ``margin`` seconds. The server stamped it somewhere in between, so however
      late it stamped, and however our clock and its clock drift, no window of the server's
      ever holds more than the limit. ``margin`` absorbs clock-rate differences.

    A 429 that reaches :meth:`pause` holds every caller until its ``Retry-After`` has passed,
    without forgetting the requests already in the window. Async; share one instance among
    every client of an integration (within one event loop).
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        burst: int = 1,
        window: float = 1.0,
        margin: float = 0.01,
    ) -> None:
        if not requests_per_second > 0:
            raise ValidationError(
                f"requests_per_second must be > 0, got {requests_per_second!r}",
                field="requests_per_second",
                value=requests_per_second,
            )
        if burst < 1:
            raise ValidationError(f"burst must be >= 1, got {burst!r}", field="burst", value=burst)
        for name, value in (("window", window), ("margin", margin)):
            if value < 0:
                raise ValidationError(
                    f"{name} must be >= 0, got {value!r}", field=name, value=value
                )
        self.requests_per_second = requests_per_second
        self.burst = burst
        self.window = window
        self.margin = margin
        #: The most requests a server window may hold.
        self.limit = max(1, math.floor(requests_per_second * window + 1e-9))
        self._interval = 1.0 / requests_per_second
        self._tolerance = (min(burst, self.limit) - 1) * self._interval
        self._next = 0.0  # theoretical arrival time of the next request (pace)
        self._in_flight = 0
        self._answered: deque[float] = deque()  # answer times still inside a window
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._changed: asyncio.Event | None = None

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_second={self.requests_per_second!r}, "
            f"burst={self.burst}, window={self.window!r}, margin={self.margin!r})"
        )

    async def acquire(self) -> None:
        """Wait until a request may be sent; pair every call with :meth:`release`."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._changed = asyncio.Event()
        async with self._lock:  # first come, first served
            while True:
                delay = self._delay(time.monotonic())
                if delay is None or delay > 0:
                    await self._wait(delay)
                    continue
                break
            now = time.monotonic()
            self._next = max(self._next, now) + self._interval
            self._in_flight += 1

    def release(self) -> None:
        """The answer to an acquired request came back (or it failed): its window starts."""
        self._in_flight = max(0, self._in_flight - 1)
        self._answered.append(time.monotonic())
        if self._changed is not None:
            self._changed.set()

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the server said ``Retry-After``)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _delay(self, now: float) -> float | None:
        """Seconds until a request may go; ``None``: when an answer comes back."""
        hold = self.window + self.margin
        while self._answered and self._answered[0] + hold <= now:
            self._answered.popleft()
        delay = max(self._next - self._tolerance - now, self._paused_until - now)
        if self._in_flight + len(self._answered) >= self.limit:
            if not self._answered:
                return None
            delay = max(delay, self._answered[0] + hold - now)
        return delay

    async def _wait(self, delay: float | None) -> None:
        assert self._changed is not None
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=delay)


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
        try:
            response = await self._transport.handle_async_request(request)
        finally:
            self.limiter.release()
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers)
            if retry_after:
                self.limiter.pause(retry_after)
        return response


class RetryTransport(_WrappingTransport):
    """Retries per ``policy``, counts calls, logs each attempt and maps transport errors.

    Every request sent is counted on ``counter`` here, retries included: this is the one
    place a run's API calls are counted. The body of each answer is read here too, so a
    connection reset halfway through a body is retried like a 503 (send
    ``extensions={"stream": True}`` to keep a large body streamed instead). Each attempt is
    logged on ``leadbridge.http`` at DEBUG (method, redacted URL, status, attempt). A request
    that gets no response raises :class:`RetriableAPIError` (timeouts, network errors) or
    :class:`FatalAPIError`; error responses are returned as they are — map them with
    :func:`raise_for_status`.
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
        failures = 0
        throttled = 0.0  # seconds waited on 429s
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                error = type(exc).__name__
                logger.debug("%s %s failed: %s (attempt %d)", request.method, url, error, attempt)
                failures += 1
                if (
                    failures <= policy.retries
                    and replayable
                    and isinstance(exc, _RETRIABLE_ERRORS)
                    and (idempotent or not sent)
                ):
                    await self._wait(request, url, policy.backoff_delay(failures), attempt)
                    continue
                secrets = secret_values(request, self._secret_params)
                raise transport_error(exc, request.method, url, secrets) from exc
            logger.debug(
                "%s %s -> %d (attempt %d)", request.method, url, response.status_code, attempt
            )
            if response.status_code == 429:
                delay = self._throttle_delay(response, throttled, replayable)
                if delay is None:
                    return response
                throttled += delay
            else:
                failures += 1
                delay = self._retry_delay(response, failures, idempotent and replayable)
                if delay is None:
                    return response
            await response.aclose()
            await self._wait(request, url, delay, attempt)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """One attempt, counted once it reached the wire, its body read unless streamed."""
        try:
            response = await self._transport.handle_async_request(request)
        except _NOT_SENT:
            raise
        except httpx.TransportError:
            self._count(True, request.method)
            raise
        self._count(True, request.method, response.status_code)
        if request.extensions.get("stream"):
            return response
        return await _buffered(response, request)

    def _throttle_delay(
        self, response: httpx.Response, waited: float, replayable: bool
    ) -> float | None:
        """How long to wait out this 429, or ``None`` when the budget does not allow it."""
        policy = self.policy
        if not replayable:
            return None
        retry_after = parse_retry_after(response.headers)
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None
        delay = max(policy.backoff, retry_after if retry_after is not None else policy.backoff)
        if waited + delay > policy.rate_limit_budget:
            return None
        return delay

    def _retry_delay(
        self, response: httpx.Response, failures: int, may_resend: bool
    ) -> float | None:
        policy = self.policy
        if failures > policy.retries or response.status_code not in policy.statuses:
            return None
        if not may_resend:
            return None
        retry_after = parse_retry_after(response.headers)
        if retry_after is None:
            return policy.backoff_delay(failures)
        if retry_after > policy.max_retry_after:
            return None
        return retry_after

    async def _wait(self, request: httpx.Request, url: str, delay: float, attempt: int) -> None:
        logger.debug(
            "retrying %s %s in %.2fs (attempt %d)", request.method, url, delay, attempt + 1
        )
        record_api_retry()
        await asyncio.sleep(delay)

    def _count(self, sent: bool, method: str, status_code: int | None = None) -> None:
        if sent:
            record_api_call(method, status_code)
        if sent and self.counter is not None:
            self.counter.increment()


async def _buffered(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """``response`` with its body read now (raw bytes: decoding stays with the client)."""
    if isinstance(response.stream, httpx.ByteStream):  # already in memory
        return response
    try:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return httpx.Response(
        status_code=response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
        request=request,
    )
