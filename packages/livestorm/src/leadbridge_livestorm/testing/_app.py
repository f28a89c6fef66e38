"""The fake's Starlette app: Livestorm's endpoints, envelope, paging, filters and errors, and
the gate in front of them (call log, injected faults, auth, burst limit, monthly quota)."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._jsonapi import JSONAPI_MEDIA_TYPE
from ._resources import (
    event_resource,
    job_resource,
    organization_resource,
    person_resource,
    registration_resource,
    session_resource,
    task_resource,
    webhook_resource,
)
from ._store import (
    WEBHOOK_EVENTS,
    EventRecord,
    FormField,
    JobRecord,
    RegistrationRecord,
    SessionRecord,
    TaskRecord,
    Workspace,
)

if TYPE_CHECKING:
    from ._server import FakeLivestorm

T = TypeVar("T")

API_PREFIX = "/v1"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
MAX_BULK_TASKS = 50
BUILTIN_FIELDS = ("email", "first_name", "last_name")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER = re.compile(r"^-?\d+$")

_STATUS_WORDS = {
    400: ("Bad Request", "bad_request"),
    401: ("Unauthorized", "unauthorized"),
    402: ("Payment Required", "payment_required"),
    403: ("Forbidden", "forbidden"),
    404: ("Not Found", "not_found"),
    405: ("Method Not Allowed", "method_not_allowed"),
    409: ("Conflict", "conflict"),
    422: ("Unprocessable Entity", "unprocessable_entity"),
    429: ("Too Many Requests", "too_many_requests"),
}


def error_object(status: int, detail: str) -> dict[str, str]:
    """One entry of Livestorm's error body: ``{title, detail, code: "", status: word}``."""
    if status in _STATUS_WORDS:
        title, word = _STATUS_WORDS[status]
    else:
        title = HTTPStatus(status).phrase
        word = title.lower().replace(" ", "_").replace("-", "_")
    return {"title": title, "detail": detail, "code": "", "status": word}


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def error_response(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    body = _dumps({"errors": [error_object(status, detail)]})
    return Response(body, status_code=status, media_type=JSONAPI_MEDIA_TYPE, headers=headers)


class Problem(Exception):
    """An error answer; ``person_id`` names the person a 409 collided with."""

    def __init__(self, status: int, detail: str, *, person_id: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.person_id = person_id


def _document(
    data: Any,
    *,
    meta: Mapping[str, Any] | None = None,
    included: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    document: dict[str, Any] = {"data": data}
    if meta is not None:
        document["meta"] = meta
    if included is not None:
        document["included"] = included
    return Response(_dumps(document), status_code=status, media_type=JSONAPI_MEDIA_TYPE)


# -- query parameters ---------------------------------------------------------------------


def parse_time(name: str, value: str) -> int:
    """A filter time: Unix seconds or ISO 8601 (naive means UTC) → Unix seconds."""
    text = value.strip()
    if _INTEGER.match(text):
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Problem(
            400, f"{name}={value!r} is neither Unix seconds nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _time(request: Request, name: str) -> int | None:
    value = request.query_params.get(f"filter[{name}]")
    return None if value in (None, "") else parse_time(f"filter[{name}]", value)


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(f"filter[{name}]")
    return None if value in (None, "") else value


def _flag(request: Request, name: str) -> bool | None:
    value = _text(request, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise Problem(400, f"filter[{name}]={value!r}: use true or false")


def _integer(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    if not _INTEGER.match(value):
        raise Problem(400, f"{name}={value!r} is not an integer")
    return int(value)


def _includes(request: Request, allowed: Iterable[str]) -> set[str]:
    raw = request.query_params.get("include") or ""
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = wanted - set(allowed)
    if unknown:
        choices = ", ".join(sorted(allowed)) or "nothing"
        raise Problem(400, f"include={','.join(sorted(unknown))} is not supported here ({choices})")
    return wanted


def paginate(request: Request, items: Sequence[T]) -> tuple[Sequence[T], dict[str, Any]]:
    """Slice ``items`` by ``page[number]`` (from 0) and ``page[size]`` (≤ 50); build ``meta``."""
    number = _integer(request, "page[number]", 0)
    size = _integer(request, "page[size]", DEFAULT_PAGE_SIZE)
    if number < 0:
        raise Problem(400, f"page[number]={number}: pages count from 0")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Problem(400, f"page[size]={size}: use 1 to {MAX_PAGE_SIZE}")
    count = len(items)
    page_count = math.ceil(count / size)
    if number > 0 and number >= page_count:
        raise Problem(
            400, f"page[number]={number} is past the last page ({max(page_count - 1, 0)})"
        )
    meta = {
        "current_page": number,
        "previous_page": number - 1 if number > 0 else None,
        "next_page": number + 1 if number + 1 < page_count else None,
        "record_count": count,
        "page_count": page_count,
        "items_per_page": size,
    }
    return items[number * size : (number + 1) * size], meta


def _since(value: int, since: int | None, until: int | None = None) -> bool:
    return (since is None or value >= since) and (until is None or value <= until)


# -- the endpoints ------------------------------------------------------------------------


class _Api:
    def __init__(self, fake: FakeLivestorm) -> None:
        self.fake = fake
        self._job_due: dict[str, float] = {}

    @property
    def ws(self) -> Workspace:
        return self.fake.workspace

    # lookups

    def _event(self, request: Request) -> EventRecord:
        event = self.ws.events.get(request.path_params["id"])
        if event is None:
            raise Problem(404, f"event {request.path_params['id']} not found")
        return event

    def _session(self, request: Request) -> SessionRecord:
        session = self.ws.sessions.get(request.path_params["id"])
        if session is None:
            raise Problem(404, f"session {request.path_params['id']} not found")
        return session

    def _job(self, request: Request) -> JobRecord:
        job = self.ws.jobs.get(request.path_params["id"])
        if job is None:
            raise Problem(404, f"job {request.path_params['id']} not found")
        if job.status == "processing" and time.monotonic() >= self._job_due.get(job.id, 0):
            self.finish_job(job.id)
        return job

    # identity

    async def ping(self, request: Request) -> Response:
        return Response(b"", status_code=200)

    def _updated(self, request: Request, endpoint: str) -> tuple[int | None, int | None]:
        """``filter[updated_since/until]``, or nothing where the fake is told to ignore it."""
        if endpoint in self.fake.ignore_updated_since:
            return None, None
        return _time(request, "updated_since"), _time(request, "updated_until")

    async def organization(self, request: Request) -> Response:
        return _document(organization_resource(self.ws))

    # events

    async def list_events(self, request: Request) -> Response:
        includes = _includes(request, ("sessions",))
        title = (_text(request, "title") or "").lower()
        scheduling = _text(request, "scheduling_status")
        created = _time(request, "created_since"), _time(request, "created_until")
        updated = self._updated(request, "events")
        with self.ws.lock:
            events = [
                event
                for event in self.ws.events.values()
                if title in event.title.lower()
                and (scheduling is None or self.ws.scheduling_status(event) == scheduling)
                and _since(event.created_at, *created)
                and _since(event.updated_at, *updated)
            ]
            page, meta = paginate(request, events)
            included = None
            if "sessions" in includes:
                included = [
                    session_resource(self.ws, self.ws.sessions[sid])
                    for event in page
                    for sid in event.session_ids
                ]
            data = [event_resource(self.ws, event) for event in page]
        return _document(data, meta=meta, included=included)

    async def get_event(self, request: Request) -> Response:
        includes = _includes(request, ("sessions",))
        with self.ws.lock:
            event = self._event(request)
            included = None
            if "sessions" in includes:
                included = [
                    session_resource(self.ws, self.ws.sessions[sid]) for sid in event.session_ids
                ]
            return _document(event_resource(self.ws, event), included=included)

    # sessions

    def _sessions(self, request: Request, sessions: Iterable[SessionRecord]) -> Response:
        includes = _includes(request, ("event", "people"))
        status = _text(request, "status")
        dates = _time(request, "date_from"), _time(request, "date_to")
        created = _time(request, "created_since"), _time(request, "created_until")
        updated = self._updated(request, "sessions")
        with self.ws.lock:
            chosen = [
                session
                for session in sessions
                if (status is None or session.status == status)
                and _since(session.estimated_started_at, *dates)
                and _since(session.created_at, *created)
                and _since(session.updated_at, *updated)
            ]
            page, meta = paginate(request, chosen)
            data = [session_resource(self.ws, session) for session in page]
            included = self._session_includes(page, includes) if includes else None
        return _document(data, meta=meta, included=included)

    def _session_includes(
        self, sessions: Iterable[SessionRecord], includes: set[str]
    ) -> list[dict[str, Any]]:
        included: list[dict[str, Any]] = []
        seen: set[str] = set()
        for session in sessions:
            if "event" in includes and session.event_id not in seen:
                seen.add(session.event_id)
                included.append(event_resource(self.ws, self.ws.events[session.event_id]))
            if "people" in includes:
                included.extend(
                    registration_resource(self.ws, reg) for reg in session.registrations.values()
                )
        return included

    async def event_sessions(self, request: Request) -> Response:
        with self.ws.lock:
            event = self._event(request)
            return self._sessions(request, [self.ws.sessions[sid] for sid in event.session_ids])

    async def list_sessions(self, request: Request) -> Response:
        with self.ws.lock:
            return self._sessions(request, list(self.ws.sessions.values()))

    async def get_session(self, request: Request) -> Response:
        includes = _includes(request, ("event", "people"))
        with self.ws.lock:
            session = self._session(request)
            included = self._session_includes([session], includes) if includes else None
            return _document(session_resource(self.ws, session), included=included)

    # people

    def _registrations(
        self, request: Request, registrations: Iterable[RegistrationRecord]
    ) -> Response:
        includes = _includes(request, ("event", "session"))
        attended = _flag(request, "attended")
        email = (_text(request, "email") or "").strip().lower() or None
        role = _text(request, "role")
        created = _time(request, "created_since"), _time(request, "created_until")
        updated = self._updated(request, "people")
        chosen = [
            reg
            for reg in registrations
            if (attended is None or reg.attended == attended)
            and (email is None or (reg.person.email or "").lower() == email)
            and (role is None or reg.person.role == role)
            and _since(reg.created_at, *created)
            and _since(reg.changed_at, *updated)
        ]
        page, meta = paginate(request, chosen)
        data = [registration_resource(self.ws, reg) for reg in page]
        included: list[dict[str, Any]] | None = None
        if includes:
            included = []
            seen: set[str] = set()
            for reg in page:
                if "event" in includes and reg.event_id not in seen:
                    seen.add(reg.event_id)
                    included.append(event_resource(self.ws, self.ws.events[reg.event_id]))
                if "session" in includes and reg.session_id not in seen:
                    seen.add(reg.session_id)
                    included.append(session_resource(self.ws, self.ws.sessions[reg.session_id]))
        return _document(data, meta=meta, included=included)

    async def session_people(self, request: Request) -> Response:
        with self.ws.lock:
            session = self._session(request)
            return self._registrations(request, list(session.registrations.values()))

    async def event_people(self, request: Request) -> Response:
        with self.ws.lock:
            event = self._event(request)
            return self._registrations(request, self.ws.event_registrations(event.id))

    async def list_people(self, request: Request) -> Response:
        _includes(request, ())
        email = (_text(request, "email") or "").strip().lower() or None
        role = _text(request, "role")
        created = _time(request, "created_since"), _time(request, "created_until")
        updated = self._updated(request, "people")
        with self.ws.lock:
            people = [
                person
                for person in self.ws.people.values()
                if (email is None or (person.email or "").lower() == email)
                and (role is None or person.role == role)
                and _since(person.created_at, *created)
                and _since(person.updated_at, *updated)
            ]
            page, meta = paginate(request, people)
            return _document([person_resource(person) for person in page], meta=meta)

    async def get_person(self, request: Request) -> Response:
        with self.ws.lock:
            person = self.ws.people.get(request.path_params["id"])
            if person is None:
                raise Problem(404, f"person {request.path_params['id']} not found")
            return _document(person_resource(person))

    # registration

    async def register(self, request: Request) -> Response:
        attributes = await _attributes(request, "people")
        with self.ws.lock:
            session = self._session(request)
            registration = self.register_attributes(session, attributes)
            return _document(registration_resource(self.ws, registration), status=201)

    def register_attributes(
        self, session: SessionRecord, attributes: Mapping[str, Any]
    ) -> RegistrationRecord:
        """Register from a ``people`` body's attributes, as Livestorm validates them."""
        event = self.ws.events[session.event_id]
        fields = attributes.get("fields", [])
        if not isinstance(fields, list) or not all(
            isinstance(item, Mapping) and isinstance(item.get("id"), str) for item in fields
        ):
            raise Problem(422, 'fields must be a list of {"id": …, "value": …} objects')
        values = {item["id"]: item.get("value") for item in fields}
        email = values.get("email")
        if email in (None, ""):
            raise Problem(422, 'email is required: send it in fields as {"id": "email", …}')
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise Problem(422, f"email {email!r} is not a valid email address")
        email = email.strip()
        answers: dict[str, Any] = {}
        for field_id, value in values.items():
            if field_id in BUILTIN_FIELDS:
                if field_id != "email" and value is not None and not isinstance(value, str):
                    raise Problem(422, f"field {field_id!r} takes a string")
                continue
            form_field = event.form_field(field_id)
            if form_field is None:
                raise Problem(422, f"field {field_id!r} is not in the event's registration form")
            _check_answer(form_field, value)
            answers[field_id] = value
        for form_field in event.fields:
            if form_field.required and values.get(form_field.id) in (None, "", []):
                raise Problem(422, f"field {form_field.id!r} is required")
        person = self.ws.find_person(email)
        if person is not None and person.id in session.registrations:
            raise Problem(
                409, f"{email} is already registered on this session", person_id=person.id
            )
        if person is None:
            person = self.ws.add_person(
                email, first_name=values.get("first_name"), last_name=values.get("last_name")
            )
        tracking = {
            name: attributes.get(name) or None
            for name in (
                "referrer",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_term",
                "utm_content",
            )
        }
        return self.ws.register(
            session.id, person, answers=answers, registration_type="API", **tracking
        )

    async def bulk_register(self, request: Request) -> Response:
        attributes = await _attributes(request, "jobs")
        tasks = attributes.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            raise Problem(422, "tasks must be a non-empty list")
        if len(tasks) > MAX_BULK_TASKS:
            raise Problem(422, f"a bulk job takes at most {MAX_BULK_TASKS} tasks, got {len(tasks)}")
        with self.ws.lock:
            session = self._session(request)
            records = []
            for index, task in enumerate(tasks):
                raw = task.get("attributes") if isinstance(task, Mapping) else None
                records.append(TaskRecord(id=self.ws.new_id(), index=index, attributes=raw or {}))
            job = JobRecord(
                id=self.ws.new_id(),
                session_id=session.id,
                created_at=self.ws.clock,
                updated_at=self.ws.clock,
                tasks=records,
            )
            self.ws.jobs[job.id] = job
            self._job_due[job.id] = time.monotonic() + self.fake.job_delay
            asyncio.get_running_loop().call_later(self.fake.job_delay, self.finish_job, job.id)
            return _document(job_resource(job), status=202)

    def finish_job(self, job_id: str) -> None:
        """Run a job's tasks: each registers, or fails with the error it would have got."""
        with self.ws.lock:
            job = self.ws.jobs.get(job_id)
            if job is None or job.status != "processing":
                return
            session = self.ws.sessions[job.session_id]
            for task in job.tasks:
                task.email = _task_email(task.attributes)
                try:
                    registration = self.register_attributes(session, task.attributes)
                except Problem as problem:
                    task.status = "failed"
                    task.person_id = problem.person_id
                    task.errors = [error_object(problem.status, problem.detail)]
                else:
                    task.status = "succeeded"
                    task.person_id = registration.person.id
            # Livestorm: "ended" if every task succeeded, "failed" if at least one failed.
            job.status = "failed" if any(t.status == "failed" for t in job.tasks) else "ended"
            job.updated_at = self.ws.clock

    async def unregister(self, request: Request) -> Response:
        email = _text(request, "email")
        if email is None:
            raise Problem(400, "filter[email] is required to unregister someone")
        with self.ws.lock:
            session = self._session(request)
            try:
                self.ws.unregister(session.id, email)
            except KeyError:
                raise Problem(404, f"{email} is not registered on this session") from None
        return Response(status_code=204)

    async def get_job(self, request: Request) -> Response:
        with self.ws.lock:
            return _document(job_resource(self._job(request)))

    async def job_tasks(self, request: Request) -> Response:
        with self.ws.lock:
            job = self._job(request)
            page, meta = paginate(request, job.tasks)
            return _document([self._task(job, task) for task in page], meta=meta)

    def _task(self, job: JobRecord, task: TaskRecord) -> dict[str, Any]:
        shape = self.fake.task_shape
        if shape is TaskShape.OPAQUE:
            return {"id": task.id, "type": "job_tasks", "attributes": {"state": "done"}}
        if shape is TaskShape.DOCUMENTED:
            registration = self.ws.sessions[job.session_id].registrations.get(task.person_id or "")
            if task.status == "succeeded" and registration is not None:
                return registration_resource(self.ws, registration)
            return {
                "id": task.id,
                "type": "tasks",
                "attributes": {"fields": task.attributes.get("fields"), "errors": task.errors},
            }
        return task_resource(task)

    # webhooks

    async def list_webhooks(self, request: Request) -> Response:
        with self.ws.lock:
            page, meta = paginate(request, list(self.ws.webhooks.values()))
            return _document([webhook_resource(hook) for hook in page], meta=meta)

    async def create_webhook(self, request: Request) -> Response:
        attributes = await _attributes(request, "webhooks")
        event, url = attributes.get("event"), attributes.get("url")
        if event not in WEBHOOK_EVENTS:
            raise Problem(422, f"event {event!r}: use one of {', '.join(WEBHOOK_EVENTS)}")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise Problem(422, "url must be an http(s) URL")
        with self.ws.lock:
            hook = self.fake.add_webhook(url, event)
            return _document(webhook_resource(hook), status=201)

    async def delete_webhook(self, request: Request) -> Response:
        with self.ws.lock:
            if self.ws.webhooks.pop(request.path_params["id"], None) is None:
                raise Problem(404, f"webhook {request.path_params['id']} not found")
        return Response(status_code=204)


def _check_answer(form_field: FormField, value: Any) -> None:
    if value is None:
        return
    field_id, options = form_field.id, form_field.options
    if options is not None and form_field.multiple_answers:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise Problem(422, f"field {field_id!r} takes several answers: send a list of strings")
        bad = [item for item in value if item not in options]
    elif options is not None:
        if not isinstance(value, str):
            raise Problem(422, f"field {field_id!r} takes one answer: send a string")
        bad = [value] if value not in options else []
    else:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise Problem(422, f"field {field_id!r} takes text")
        bad = []
    if bad:
        raise Problem(422, f"field {field_id!r}: {bad[0]!r} is not one of {list(options or ())}")


def _task_email(attributes: Mapping[str, Any]) -> str | None:
    for item in attributes.get("fields") or ():
        if isinstance(item, Mapping) and item.get("id") == "email":
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


async def _attributes(request: Request, kind: str) -> Mapping[str, Any]:
    try:
        document = json.loads(await request.body())
    except ValueError:
        raise Problem(400, "the request body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    shape = f'{{"data": {{"type": "{kind}", "attributes": {{…}}}}}}'
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        raise Problem(400, f"expected a body like {shape}")
    if data.get("type", kind) != kind:
        raise Problem(400, f"data.type must be {kind!r}, got {data.get('type')!r}")
    attributes: Mapping[str, Any] = data["attributes"]
    return attributes


# -- the gate -----------------------------------------------------------------------------


class TaskShape(StrEnum):
    """How ``GET /jobs/{id}/tasks`` describes each item (Livestorm does not publish it)."""

    #: ``{"index", "status", "email", "person_id", "errors"}`` — our first guess.
    INFERRED = "inferred"
    #: What the docs say: a created item is the registrant (a ``people`` resource), a failed
    #: one carries its fields and its error.
    DOCUMENTED = "documented"
    #: Nothing a client can use: only an id and a status word of its own.
    OPAQUE = "opaque"


class BodyFault(StrEnum):
    """Broken answers a real deployment meets between it and Livestorm."""

    #: The connection is dropped halfway through the body.
    RESET = "reset"
    #: ``200 text/html``: a proxy's or a maintenance page.
    HTML = "html"
    #: ``200`` JSON:API whose document is cut short.
    TRUNCATED = "truncated"


_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head>"
    b"<body><h1>We'll be right back</h1></body></html>"
)
_CUT_DOCUMENT = b'{"data": [{"id": "5d2f", "type": "people", "attributes": {"email": "ja'


def _broken_body(kind: BodyFault) -> Any:
    """An ASGI app answering 200 with a body broken the way ``kind`` says."""
    if kind is BodyFault.HTML:
        return Response(_HTML_PAGE, status_code=200, media_type="text/html; charset=utf-8")
    if kind is BodyFault.TRUNCATED:
        return Response(_CUT_DOCUMENT, status_code=200, media_type=JSONAPI_MEDIA_TYPE)

    async def reset(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JSONAPI_MEDIA_TYPE.encode()),
                    (b"content-length", b"4096"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _CUT_DOCUMENT, "more_body": True})
        raise ConnectionResetError("injected: connection dropped mid-body")

    return reset


#: Which token scope each top-level path needs; ``None`` means any valid token.
_SCOPES = {
    "ping": None,
    "me": "identity",
    "organization": "identity",
    "events": "events",
    "sessions": "events",
    "people": "events",
    "jobs": "events",
    "users": "admin",
    "webhooks": "webhooks",
}
_LEVELS = {"none": 0, "read": 1, "write": 2}


class Gate:
    """ASGI middleware in front of the routes: log, faults, auth, burst limit, quota, headers."""

    def __init__(self, app: ASGIApp, fake: FakeLivestorm) -> None:
        self.app = app
        self.fake = fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        authorization = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key == b"authorization"),
            None,
        )
        record = self.fake._record(scope["method"], api_path, scope["query_string"].decode())
        rejection, extra = self._admit(scope["method"], api_path, authorization)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (key.lower().encode(), value.encode()) for key, value in extra.items()
                ]
            await send(message)

        if rejection is not None:
            await rejection(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _admit(
        self, method: str, path: str, authorization: str | None
    ) -> tuple[Response | None, dict[str, str]]:
        fake = self.fake
        with fake._lock:
            fault = fake._take_fault(method, path)
            if fault is not None and fault.body is not None:
                return _broken_body(fault.body), fake._rate_headers()
            if fault is not None:
                extra = fake._rate_headers()
                if fault.retry_after is not None:
                    extra["Retry-After"] = str(fault.retry_after)
                if fault.status == 429:
                    extra.setdefault("Retry-After", "1")
                    extra["RateLimit-Reset"] = str(fake.quota_reset_at)
                    extra["RateLimit-Interval-Remaining"] = "0"
                return error_response(fault.status, fault.detail), extra
            denied = self._authorize(method, path, authorization)
            if denied is not None:
                return denied, fake._rate_headers()
            now = time.monotonic()
            window = fake._window
            while window and window[0] <= now - fake.rate_window:
                window.popleft()
            if fake.rate_limit is not None and len(window) >= fake.rate_limit:
                wait = max(1, math.ceil(window[0] + fake.rate_window - now))
                extra = fake._rate_headers()
                extra.update(_retry(wait, fake.quota_reset_at))
                detail = f"Too many requests: the limit is {fake.rate_limit} per second"
                return error_response(429, detail), extra
            if fake.monthly_remaining <= 0:
                extra = fake._rate_headers()
                extra.update(_retry(max(1, fake.quota_reset_at - fake.clock), fake.quota_reset_at))
                detail = f"The monthly quota of {fake.monthly_limit} API calls is used up"
                return error_response(429, detail), extra
            fake.monthly_remaining -= 1
            window.append(now)
            return None, fake._rate_headers()

    def _authorize(self, method: str, path: str, authorization: str | None) -> Response | None:
        fake = self.fake
        if not authorization or not authorization.strip():
            return error_response(401, "No API token: send it in the Authorization header")
        value = authorization.strip()
        if value.lower().startswith("bearer "):
            scopes = fake._oauth_tokens.get(value[7:].strip(), _MISSING)
            if scopes is _MISSING:
                return error_response(401, "Invalid or expired OAuth access token")
        else:
            scopes = fake._api_tokens.get(value, _MISSING)
            if scopes is _MISSING:
                return error_response(401, "Invalid API token")
        root = path.strip("/").split("/", 1)[0]
        needed = _SCOPES.get(root)
        if needed is None or scopes is None:
            return None
        granted = _LEVELS.get(scopes.get(needed, "none"), 0)
        wanted = 1 if method in ("GET", "HEAD") else 2
        if granted < wanted:
            level = "read" if wanted == 1 else "write"
            return error_response(403, f"The token lacks the {needed} scope ({level})")
        return None


_MISSING: Any = object()


def _retry(after: int, reset_at: int) -> dict[str, str]:
    return {"Retry-After": str(after), "RateLimit-Reset": str(reset_at)}


def build_app(fake: FakeLivestorm) -> tuple[ASGIApp, _Api]:
    api = _Api(fake)
    route = Route
    routes = [
        route("/ping", api.ping, methods=["GET"]),
        route("/organization", api.organization, methods=["GET"]),
        route("/events", api.list_events, methods=["GET"]),
        route("/events/{id}", api.get_event, methods=["GET"]),
        route("/events/{id}/sessions", api.event_sessions, methods=["GET"]),
        route("/events/{id}/people", api.event_people, methods=["GET"]),
        route("/sessions", api.list_sessions, methods=["GET"]),
        route("/sessions/{id}", api.get_session, methods=["GET"]),
        route("/sessions/{id}/people", api.session_people, methods=["GET"]),
        route("/sessions/{id}/people", api.register, methods=["POST"]),
        route("/sessions/{id}/people", api.unregister, methods=["DELETE"]),
        route("/sessions/{id}/people/bulk", api.bulk_register, methods=["POST"]),
        route("/people", api.list_people, methods=["GET"]),
        route("/people/{id}", api.get_person, methods=["GET"]),
        route("/jobs/{id}", api.get_job, methods=["GET"]),
        route("/jobs/{id}/tasks", api.job_tasks, methods=["GET"]),
        route("/webhooks", api.list_webhooks, methods=["GET"]),
        route("/webhooks", api.create_webhook, methods=["POST"]),
        route("/webhooks/{id}", api.delete_webhook, methods=["DELETE"]),
    ]

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return error_response(exc.status, exc.detail)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = "No such endpoint" if exc.status_code == 404 else str(exc.detail)
        return error_response(exc.status_code, detail)

    app = Starlette(
        routes=[Mount(API_PREFIX, routes=routes)],
        exception_handlers={Problem: on_problem, HTTPException: on_http},
    )
    return Gate(app, fake), api
