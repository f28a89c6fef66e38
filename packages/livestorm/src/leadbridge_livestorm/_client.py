"""``LivestormClient``: the typed Livestorm REST API on core's HTTP client.

::

    async with LivestormClient(api_token=token) as livestorm:
        await livestorm.ping()
        async for person in livestorm.session_people(session_id, updated_since=cursor):
            ...
        async for page in livestorm.sessions(updated_since=cursor).pages():
            ...  # one API call per page; page.meta.current_page is a resumable cursor
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

import httpx

from leadbridge import ConfigurationError, ValidationError
from leadbridge.auth import APIKey, APIKeyCredentials, APIKeyHeaderAuth
from leadbridge.http import (
    ApiCallCounter,
    APIError,
    AuthenticationError,
    RateLimiter,
    RetriableAPIError,
    RetryPolicy,
    create_client,
    decode_json,
    invalid_response,
    raise_for_status,
)
from leadbridge.observability import record_quota

from ._answer_lookup import FieldValue
from ._errors import (
    AlreadyRegisteredError,
    BulkJobError,
    ContactsAllowanceReachedError,
    LivestormAPIError,
    LivestormAuthenticationError,
    LivestormConflictError,
    LivestormInvalidResponseError,
    LivestormNotFoundError,
    LivestormPermissionError,
    LivestormRateLimitedError,
    LivestormRequestError,
    LivestormUnavailableError,
    LivestormValidationError,
)
from ._jsonapi import JSONAPI_MEDIA_TYPE, ApiError, JsonApiModel, Page, to_timestamp
from ._models import (
    Event,
    Job,
    JobTask,
    Organization,
    Person,
    Session,
    TaskOutcome,
    Webhook,
)
from ._quota import QuotaState
from ._records import PersonLike, decode_people_page
from ._version import __version__

R = TypeVar("R")
M = TypeVar("M", bound=JsonApiModel)

DEFAULT_BASE_URL = "https://api.livestorm.co/v1"
#: Livestorm's largest page: every list is read 50 at a time (each page costs one call).
PAGE_SIZE = 50
#: The most registrations one bulk job takes.
MAX_BULK_REGISTRATIONS = 50
#: Tracking attributes a registration can carry besides its fields.
TRACKING_ATTRIBUTES = (
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)

#: A filter time: an aware datetime, Unix seconds, or an ISO 8601 string.
TimeFilter = datetime | int | str


class Paginated(Generic[R]):
    """A Livestorm list, read lazily 50 at a time.

    ``async for item in listing`` walks every item; ``async for page in listing.pages()``
    walks the pages (``start=`` resumes at a page number). Pages are requested only while the
    last one names a ``next_page``: never a page past the end.
    """

    def __init__(self, fetch: Callable[[int], Awaitable[Page[R]]], *, describe: str) -> None:
        self._fetch = fetch
        self._describe = describe

    def __repr__(self) -> str:
        return f"<Paginated {self._describe}>"

    async def pages(self, start: int = 0) -> AsyncIterator[Page[R]]:
        number = start
        while True:
            page = await self._fetch(number)
            yield page
            following = page.meta.next_page
            if following is None or following <= number:
                return
            number = following

    async def __aiter__(self) -> AsyncIterator[R]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def all(self) -> list[R]:
        """Every item, in order (read every page first)."""
        return [item async for item in self]


@dataclass(frozen=True, slots=True)
class Registrant:
    """Someone to register on a session: the email, names, form answers and tracking.

    ``answers`` are keyed by the event's form field id (``company``, ``job_title``…):
    strings for text and single-select fields, lists of strings for multi-selects.
    """

    email: str
    first_name: str | None = None
    last_name: str | None = None
    answers: Mapping[str, FieldValue] = field(default_factory=dict)
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, FieldValue], **tracking: str | None) -> Registrant:
        """From ``{"email": …, "first_name": …, "company": …}`` plus tracking keywords."""
        email = fields.get("email")
        if not isinstance(email, str) or not email.strip():
            raise ValidationError("a registration needs an email in its fields", field="email")
        unknown = set(tracking) - set(TRACKING_ATTRIBUTES)
        if unknown:
            raise ValidationError(
                f"unknown tracking attribute {sorted(unknown)[0]!r}: use "
                + ", ".join(TRACKING_ATTRIBUTES),
                field=sorted(unknown)[0],
            )
        first, last = fields.get("first_name"), fields.get("last_name")
        return cls(
            email=email.strip(),
            first_name=first if isinstance(first, str) else None,
            last_name=last if isinstance(last, str) else None,
            answers={
                key: value
                for key, value in fields.items()
                if key not in ("email", "first_name", "last_name")
            },
            **tracking,
        )

    def to_attributes(self) -> dict[str, Any]:
        """The ``attributes`` of Livestorm's registration body (the email goes in ``fields``)."""
        fields: list[dict[str, Any]] = [{"id": "email", "value": self.email}]
        for key in ("first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                fields.append({"id": key, "value": value})
        fields.extend(
            {"id": key, "value": value} for key, value in self.answers.items() if value is not None
        )
        attributes: dict[str, Any] = {"fields": fields}
        for name in TRACKING_ATTRIBUTES:
            value = getattr(self, name)
            if value is not None:
                attributes[name] = value
        return attributes


@dataclass(frozen=True, slots=True)
class BulkRegistration:
    """A bulk registration job once it ended: the job, the people sent, the tasks read."""

    job: Job
    registrants: tuple[Registrant, ...]
    tasks: tuple[JobTask, ...]

    def task_for(self, index: int) -> JobTask | None:
        """The task that speaks for the ``index``-th registrant (``None``: none does)."""
        return self.results()[index][1]

    def results(self) -> list[tuple[Registrant, JobTask | None]]:
        """Each registrant with the one task that speaks for it, in the order they were sent.

        A task is matched by the registrant's email (case-insensitive), else by its position
        when it names one. A registrant two tasks claim with different outcomes, or none, gets
        ``None``: its outcome is unknown and it goes to the single endpoint.
        """
        by_email: dict[str, list[JobTask]] = {}
        by_index: dict[int, list[JobTask]] = {}
        for task in self.tasks:
            if task.email:
                by_email.setdefault(task.email.strip().lower(), []).append(task)
            elif task.index is not None:
                by_index.setdefault(task.index, []).append(task)
        results: list[tuple[Registrant, JobTask | None]] = []
        for position, person in enumerate(self.registrants):
            claims = by_email.get(person.email.strip().lower()) or by_index.get(position) or []
            outcomes = {task.outcome for task in claims}
            results.append((person, claims[0] if len(outcomes) == 1 else None))
        return results

    def outcomes(self) -> list[tuple[Registrant, TaskOutcome, JobTask | None]]:
        """Each registrant with what its task proves (``UNKNOWN`` without a task)."""
        return [
            (person, task.outcome if task else TaskOutcome.UNKNOWN, task)
            for person, task in self.results()
        ]


def _time_param(value: TimeFilter) -> str:
    if isinstance(value, datetime):
        return str(to_timestamp(value))
    if isinstance(value, bool):
        raise ValidationError("a time filter takes a datetime, Unix seconds or ISO 8601")
    return str(value)


def _filters(**values: Any) -> dict[str, str]:
    """``filter[name]`` query parameters for the values that are set."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[f"filter[{name}]"] = "true" if value else "false"
        elif isinstance(value, datetime | int) and name.endswith(
            ("_since", "_until", "_from", "_to")
        ):
            params[f"filter[{name}]"] = _time_param(value)
        else:
            params[f"filter[{name}]"] = str(value)
    return params


def _token_credentials(token: str | APIKeyCredentials | None) -> APIKeyCredentials:
    if not isinstance(token, str):
        if token is None:  # pragma: no cover - the constructor checks first
            raise ConfigurationError("no Livestorm API token")
        return token
    if not token.strip():
        raise ConfigurationError("the Livestorm API token is empty")
    if token.strip().lower().startswith("bearer "):
        raise ConfigurationError(
            "the Livestorm private API token is sent raw, without 'Bearer ': remove the prefix "
            "(an OAuth access token goes through auth=BearerTokenAuth(...))"
        )
    return APIKey(token.strip())


_PHRASES: dict[int, str] = {
    400: "Livestorm refused the request",
    401: "the Livestorm API token is invalid or lacks a scope",
    402: "the Livestorm workspace reached its active-contacts allowance",
    403: "the Livestorm token's scope is not granted for this, or the workspace is not validated",
    409: "Livestorm reports a conflict",
    422: "Livestorm refused the data",
    429: "Livestorm is still rate-limiting after the retries",
}

_CLASSES: dict[int, type[LivestormAPIError]] = {
    401: LivestormAuthenticationError,
    402: ContactsAllowanceReachedError,
    403: LivestormPermissionError,
    404: LivestormNotFoundError,
    409: LivestormConflictError,
    422: LivestormValidationError,
    429: LivestormRateLimitedError,
}


def _document(response: httpx.Response, *, listing: bool = False) -> Mapping[str, Any]:
    """The JSON:API document of a successful answer, or a typed error naming the call."""
    document: Mapping[str, Any] = decode_json(
        response, error_class=LivestormInvalidResponseError, service="Livestorm", expect=dict
    )
    data = document.get("data", None if listing else {})
    if (
        "data" not in document
        or (listing and not isinstance(data, list))
        or (not listing and not isinstance(data, dict))
    ):
        shape = "a list" if listing else "one resource"
        raise invalid_response(
            response,
            f"with a JSON document whose 'data' is not {shape}",
            error_class=LivestormInvalidResponseError,
            service="Livestorm",
        )
    return document


class LivestormClient:
    """The Livestorm API, typed: lists as :class:`Paginated`, resources as models.

    Built from explicit values:

    - ``api_token``: the workspace's private API token (sent raw in ``Authorization``, never
      with ``Bearer``), as a string or any object with an ``api_key`` attribute (read on every
      request, so a rotated token applies at once); or ``auth``: any ``httpx.Auth``, e.g.
      ``BearerTokenAuth(StaticToken(access_token))`` or an OAuth2 provider for partner apps.
    - ``base_url``: ``https://api.livestorm.co/v1`` by default (the fake server's URL in tests).
    - ``requests_per_second``: the burst limit (5 in any sliding second: a
      ``RateLimiter(5, burst=5)`` counting each request until its answer plus one second),
      or a shared ``RateLimiter``, or ``None``.
    - ``quota_reserve``: monthly calls kept unused; a call that would leave fewer raises
      :class:`QuotaReserveReachedError` before it is sent. ``quota`` shares a
      :class:`QuotaState` between clients of one workspace.
    - ``counter``: an ``ApiCallCounter`` that counts every request sent (retries included).

    429s wait ``Retry-After`` until ``retries.rate_limit_budget`` seconds are spent; 5xx,
    timeouts and connections reset mid-body on reads are retried (``retries.retries``); what
    still fails is raised as a :class:`LivestormAPIError` subclass that says what happened in
    Livestorm's terms, and a body that is not JSON:API as
    :class:`LivestormInvalidResponseError`. The token never appears in a repr, a log line or
    an error.
    """

    def __init__(
        self,
        *,
        api_token: str | APIKeyCredentials | None = None,
        auth: httpx.Auth | None = None,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_second: float | RateLimiter | None = 5,
        quota_reserve: int = 500,
        counter: ApiCallCounter | None = None,
        quota: QuotaState | None = None,
        retries: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        job_poll_interval: float = 0.25,
        job_poll_max_interval: float = 5.0,
        job_timeout: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if (api_token is None) == (auth is None):
            raise ConfigurationError(
                "LivestormClient needs exactly one of api_token (the private API token) "
                "or auth (an OAuth2 bearer provider)"
            )
        provider: httpx.Auth
        if auth is not None:
            provider = auth
        else:
            credentials = _token_credentials(api_token)
            provider = APIKeyHeaderAuth(credentials, header="Authorization")
        if quota_reserve < 0:
            raise ValidationError(
                f"quota_reserve must be >= 0, got {quota_reserve}", field="quota_reserve"
            )
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValidationError(f"page_size must be 1 to {PAGE_SIZE}", field="page_size")
        self.base_url = base_url.rstrip("/")
        self.quota_reserve = quota_reserve
        self.quota = quota if quota is not None else QuotaState()
        self.counter = counter if counter is not None else ApiCallCounter()
        self.page_size = page_size
        self.job_poll_interval = job_poll_interval
        self.job_poll_max_interval = job_poll_max_interval
        self.job_timeout = job_timeout
        limiter = requests_per_second
        if isinstance(limiter, int | float) and not isinstance(limiter, bool):
            limiter = RateLimiter(limiter, burst=max(1, int(limiter)))
        self._http = create_client(
            base_url=self.base_url,
            auth=provider,
            timeout=timeout,
            retries=retries,
            rate_limit=limiter,
            counter=self.counter,
            headers={
                "Accept": JSONAPI_MEDIA_TYPE,
                "User-Agent": f"leadbridge-livestorm/{__version__}",
            },
            event_hooks={"response": [self._read_quota]},
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"LivestormClient(base_url={self.base_url!r}, token='***')"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> LivestormClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- plumbing --------------------------------------------------------------------------

    async def _read_quota(self, response: httpx.Response) -> None:
        self.quota.update(response.headers)
        record_quota("livestorm", "monthly", self.quota.monthly_remaining, self.quota.monthly_limit)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        what: str | None = None,
    ) -> httpx.Response:
        """One call: the quota check first, then the request, then errors mapped.

        ``what`` names the resource for a 404 ("session 0abb…").
        """
        self.quota.check(self.quota_reserve)
        content = None
        headers = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            headers = {"Content-Type": JSONAPI_MEDIA_TYPE}
        self.quota.in_flight += 1
        try:
            response = await self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except LivestormAPIError:
            raise
        except AuthenticationError as exc:  # an OAuth provider could not get a token
            raise LivestormAuthenticationError(
                f"the Livestorm OAuth authorization failed: {exc.message}",
                method=method,
                url=exc.url,
            ) from exc
        except RetriableAPIError as exc:
            raise LivestormUnavailableError(
                f"Livestorm could not be reached: {exc.message}", method=method, url=exc.url
            ) from exc
        except APIError as exc:
            raise LivestormRequestError(
                f"the request to Livestorm could not be sent: {exc.message}",
                method=method,
                url=exc.url,
            ) from exc
        finally:
            self.quota.in_flight -= 1
        if response.status_code >= 400:
            raise self._error(response, what)
        return response

    def _error(self, response: httpx.Response, what: str | None) -> LivestormAPIError:
        status = response.status_code
        try:
            raise_for_status(response)
        except APIError as exc:
            base = exc
        else:  # pragma: no cover - only called for failed responses
            raise AssertionError("not an error response")
        try:
            errors = ApiError.parse_all(response.json())
        except ValueError:
            errors = ()
        if status == 404:
            phrase = f"Livestorm has no {what}" if what else "Livestorm has no such resource"
        elif status >= 500:
            phrase = "Livestorm is unavailable"
        else:
            phrase = _PHRASES.get(status, "Livestorm refused the request")
        detail = f": {base.server_message}" if base.server_message else ""
        message = f"{phrase}{detail} ({response.request.method} {base.url} → {status})"
        cls = _CLASSES.get(status)
        if cls is None:
            cls = LivestormUnavailableError if status >= 500 else LivestormRequestError
        fields: dict[str, Any] = {
            "status": status,
            "method": response.request.method,
            "url": base.url,
            "server_message": base.server_message,
            "server_code": base.server_code,
            "errors": errors,
        }
        if cls is LivestormRateLimitedError:
            fields["retry_after"] = getattr(base, "retry_after", None)
        return cls(message, **fields)

    async def _get(self, path: str, what: str | None = None) -> Mapping[str, Any]:
        return _document(await self._send("GET", path, what=what))

    def _list(
        self,
        path: str,
        model: type[M],
        params: Mapping[str, str] | None = None,
        *,
        what: str | None = None,
    ) -> Paginated[M]:
        def read(response: httpx.Response) -> Page[M]:
            return Page.parse(_document(response, listing=True), model)

        return self._paginate(path, read, params, what=what)

    def _people(
        self, path: str, params: Mapping[str, str] | None = None, *, what: str | None = None
    ) -> Paginated[PersonLike]:
        """A people list: each page decoded straight into records, or, when the strict decode
        cannot read it, parsed person by person (unreadable people skipped, as any list)."""

        def read(response: httpx.Response) -> Page[PersonLike]:
            page = decode_people_page(response.content)
            if page is None:
                parsed = Page.parse(_document(response, listing=True), Person)
                return cast("Page[PersonLike]", parsed)
            return page

        return self._paginate(path, read, params, what=what)

    def _paginate(
        self,
        path: str,
        read: Callable[[httpx.Response], Page[R]],
        params: Mapping[str, str] | None,
        *,
        what: str | None,
    ) -> Paginated[R]:
        fixed = dict(params or {})

        async def fetch(number: int) -> Page[R]:
            query: dict[str, str | int] = {
                **fixed,
                "page[number]": number,
                "page[size]": self.page_size,
            }
            return read(await self._send("GET", path, params=query, what=what))

        return Paginated(fetch, describe=f"GET {path} {fixed}".rstrip(" {}"))

    # -- identity --------------------------------------------------------------------------

    async def ping(self) -> None:
        """Check the credentials (``GET /ping``); raises on a refused token."""
        await self._send("GET", "/ping")

    async def organization(self) -> Organization:
        """The workspace the token belongs to (needs the Identity scope)."""
        return Organization.from_document(await self._get("/organization", "organization"))

    # -- events and sessions ---------------------------------------------------------------

    def events(
        self,
        *,
        updated_since: TimeFilter | None = None,
        updated_until: TimeFilter | None = None,
        created_since: TimeFilter | None = None,
        title: str | None = None,
        scheduling_status: str | None = None,
        tag: str | None = None,
    ) -> Paginated[Event]:
        """The workspace's events (``GET /events``), filtered."""
        params = _filters(
            updated_since=updated_since,
            updated_until=updated_until,
            created_since=created_since,
            title=title,
            scheduling_status=scheduling_status,
            tag=tag,
        )
        return self._list("/events", Event, params)

    async def event(self, event_id: str) -> Event:
        return Event.from_document(await self._get(f"/events/{event_id}", f"event {event_id}"))

    def sessions(
        self,
        event_id: str | None = None,
        *,
        updated_since: TimeFilter | None = None,
        updated_until: TimeFilter | None = None,
        status: str | None = None,
        date_from: TimeFilter | None = None,
        date_to: TimeFilter | None = None,
    ) -> Paginated[Session]:
        """Sessions of one event (``GET /events/{id}/sessions``) or of the workspace."""
        params = _filters(
            updated_since=updated_since,
            updated_until=updated_until,
            status=status,
            date_from=date_from,
            date_to=date_to,
        )
        if event_id is None:
            return self._list("/sessions", Session, params)
        return self._list(f"/events/{event_id}/sessions", Session, params, what=f"event {event_id}")

    async def session(self, session_id: str) -> Session:
        document = await self._get(f"/sessions/{session_id}", f"session {session_id}")
        return Session.from_document(document)

    # -- people ----------------------------------------------------------------------------

    def session_people(
        self,
        session_id: str,
        *,
        updated_since: TimeFilter | None = None,
        created_since: TimeFilter | None = None,
        attended: bool | None = None,
        email: str | None = None,
        role: str | None = None,
    ) -> Paginated[PersonLike]:
        """The registrants of a session with their attendance (``registrant_detail``), as
        :class:`PersonRecord` (or :class:`Person` for a page only the tolerant parse reads)."""
        params = _filters(
            updated_since=updated_since,
            created_since=created_since,
            attended=attended,
            email=email,
            role=role,
        )
        return self._people(f"/sessions/{session_id}/people", params, what=f"session {session_id}")

    def event_people(
        self, event_id: str, *, email: str | None = None, role: str | None = None
    ) -> Paginated[PersonLike]:
        """The people of every session of an event."""
        params = _filters(email=email, role=role)
        return self._people(f"/events/{event_id}/people", params, what=f"event {event_id}")

    def people(
        self,
        *,
        updated_since: TimeFilter | None = None,
        created_since: TimeFilter | None = None,
        email: str | None = None,
        role: str | None = None,
    ) -> Paginated[PersonLike]:
        """Every person of the workspace (``GET /people``; no registration detail)."""
        params = _filters(
            updated_since=updated_since, created_since=created_since, email=email, role=role
        )
        return self._people("/people", params)

    async def person(self, person_id: str) -> Person:
        return Person.from_document(await self._get(f"/people/{person_id}", f"person {person_id}"))

    # -- registration ----------------------------------------------------------------------

    async def register(
        self,
        session_id: str,
        fields: Registrant | Mapping[str, FieldValue],
        *,
        referrer: str | None = None,
        utm_source: str | None = None,
        utm_medium: str | None = None,
        utm_campaign: str | None = None,
        utm_term: str | None = None,
        utm_content: str | None = None,
    ) -> Person:
        """Register one person on a session (201); the person with its registration.

        ``fields`` is a :class:`Registrant` or ``{"email": …, "first_name": …, "company": …}``
        (only ``email`` is required). Raises :class:`AlreadyRegisteredError` (409) when the
        email is already registered there.
        """
        tracking = {
            "referrer": referrer,
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "utm_term": utm_term,
            "utm_content": utm_content,
        }
        if isinstance(fields, Registrant):
            attributes = fields.to_attributes()
            attributes.update({k: v for k, v in tracking.items() if v is not None})
            email = fields.email
        else:
            registrant = Registrant.from_fields(
                fields, **{k: v for k, v in tracking.items() if v is not None}
            )
            attributes = registrant.to_attributes()
            email = registrant.email
        body = {"data": {"type": "people", "attributes": attributes}}
        try:
            response = await self._send(
                "POST", f"/sessions/{session_id}/people", body=body, what=f"session {session_id}"
            )
        except LivestormConflictError as exc:
            raise AlreadyRegisteredError(
                f"{email} is already registered on Livestorm session {session_id}",
                session_id=session_id,
                email=email,
                status=exc.status,
                method=exc.method,
                url=exc.url,
                server_message=exc.server_message,
                server_code=exc.server_code,
                errors=exc.errors,
            ) from exc
        return Person.from_document(_document(response))

    async def register_bulk(
        self, session_id: str, people: Sequence[Registrant]
    ) -> BulkRegistration:
        """Register up to 50 people in one job, wait for it to end, read each item's result.

        ``POST /sessions/{id}/people/bulk`` (202), then ``GET /jobs/{id}`` with a growing
        interval until the job ends (``job_timeout`` bounds the wait; :class:`BulkJobError`
        past it), then ``GET /jobs/{id}/tasks``. An item already registered comes back as a
        failed task whose :attr:`JobTask.already_registered` is true.
        """
        people = tuple(people)
        if not 1 <= len(people) <= MAX_BULK_REGISTRATIONS:
            raise ValidationError(
                f"a bulk registration takes 1 to {MAX_BULK_REGISTRATIONS} people, "
                f"got {len(people)}",
                field="people",
            )
        # The job costs at least three calls (create, one poll, the tasks): never start one
        # the reserve would cut short, leaving its outcome unknown.
        self.quota.check(self.quota_reserve, cost=3)
        body = {
            "data": {
                "type": "jobs",
                "attributes": {"tasks": [{"attributes": p.to_attributes()} for p in people]},
            }
        }
        response = await self._send(
            "POST", f"/sessions/{session_id}/people/bulk", body=body, what=f"session {session_id}"
        )
        job = await self.wait_for_job(Job.from_document(_document(response)))
        tasks = await self.job_tasks(job.id).all()
        return BulkRegistration(job=job, registrants=people, tasks=tuple(tasks))

    async def job(self, job_id: str) -> Job:
        return Job.from_document(await self._get(f"/jobs/{job_id}", f"job {job_id}"))

    def job_tasks(self, job_id: str) -> Paginated[JobTask]:
        return self._list(f"/jobs/{job_id}/tasks", JobTask, what=f"job {job_id}")

    async def wait_for_job(self, job: Job | str) -> Job:
        """Poll ``GET /jobs/{id}`` until the job ends, doubling the wait each time."""
        current = job if isinstance(job, Job) else await self.job(job)
        delay = self.job_poll_interval
        deadline = time.monotonic() + self.job_timeout
        while not current.is_finished:
            if time.monotonic() + delay > deadline:
                raise BulkJobError(
                    f"Livestorm job {current.id} did not end within {self.job_timeout:g}s "
                    f"({current.total_processed_items} of {current.total_items} items done)",
                    job_id=current.id,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.job_poll_max_interval)
            current = await self.job(current.id)
        return current

    async def unregister(self, session_id: str, email: str) -> None:
        """Remove a registration (``DELETE /sessions/{id}/people?filter[email]=…``)."""
        await self._send(
            "DELETE",
            f"/sessions/{session_id}/people",
            params={"filter[email]": email},
            what=f"registration of {email} on session {session_id}",
        )

    # -- webhooks --------------------------------------------------------------------------

    def webhooks(self) -> Paginated[Webhook]:
        return self._list("/webhooks", Webhook)

    async def create_webhook(self, event: str, url: str) -> Webhook:
        """Subscribe ``url`` to one webhook ``event`` (``people.attended``…) for the workspace."""
        body = {"data": {"type": "webhooks", "attributes": {"event": event, "url": url}}}
        response = await self._send("POST", "/webhooks", body=body)
        return Webhook.from_document(_document(response))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._send("DELETE", f"/webhooks/{webhook_id}", what=f"webhook {webhook_id}")
