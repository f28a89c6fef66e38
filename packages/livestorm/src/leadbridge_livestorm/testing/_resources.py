"""Records → JSON:API resource objects, shaped like Livestorm's (see livestorm-api.md)."""

from __future__ import annotations

from typing import Any

from ._store import (
    EventRecord,
    JobRecord,
    PersonRecord,
    RegistrationRecord,
    SessionRecord,
    TaskRecord,
    WebhookRecord,
    Workspace,
)

APP_URL = "https://app.livestorm.co"


def _ref(kind: str, ident: str) -> dict[str, Any]:
    return {"data": {"type": kind, "id": ident}}


def organization_resource(workspace: Workspace) -> dict[str, Any]:
    org = workspace.organization
    return {
        "id": org.id,
        "type": "organizations",
        "attributes": {"name": org.name, "slug": org.slug},
    }


def event_resource(workspace: Workspace, event: EventRecord) -> dict[str, Any]:
    owner = workspace.people.get(event.owner_id) if event.owner_id else None
    return {
        "id": event.id,
        "type": "events",
        "attributes": {
            "title": event.title,
            "slug": event.slug,
            "registration_link": f"{APP_URL}/p/{event.slug}",
            "estimated_duration": event.estimated_duration,
            "description": event.description,
            "status": event.status,
            "scheduling_status": workspace.scheduling_status(event),
            "language": event.language,
            "published_at": event.published_at,
            "created_at": event.created_at,
            "updated_at": event.updated_at,
            "owner": person_resource(owner) if owner else None,
            "sessions_count": len(event.session_ids),
            "fields": [item.to_json() for item in event.fields],
        },
        "relationships": {
            "sessions": {"data": [{"type": "sessions", "id": sid} for sid in event.session_ids]}
        },
    }


def session_resource(workspace: Workspace, session: SessionRecord) -> dict[str, Any]:
    event = workspace.events[session.event_id]
    return {
        "id": session.id,
        "type": "sessions",
        "attributes": {
            "event_id": session.event_id,
            "status": session.status,
            "timezone": session.timezone,
            "room_link": f"{APP_URL}/p/{event.slug}/live?s={session.id}",
            "name": session.name,
            "attendees_count": session.attendees_count,
            "registrants_count": len(session.registrations),
            "duration": session.duration,
            "estimated_started_at": session.estimated_started_at,
            "started_at": session.started_at,
            "ended_at": session.ended_at,
            "canceled_at": session.canceled_at,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "breakout_room_parent_session_id": session.breakout_room_parent_session_id,
        },
        "relationships": {"event": _ref("events", session.event_id)},
    }


def person_resource(
    person: PersonRecord,
    registration: RegistrationRecord | None = None,
    event: EventRecord | None = None,
) -> dict[str, Any]:
    """A person; with a registration (and its event) it carries ``registrant_detail``."""
    resource: dict[str, Any] = {
        "id": person.id,
        "type": "people",
        "attributes": {
            "role": person.role,
            "created_at": person.created_at,
            "updated_at": person.updated_at,
            "timezone": person.timezone,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "avatar_link": person.avatar_link,
            "registrant_detail": None,
            "messages_count": 0,
            "questions_count": 0,
            "votes_count": 0,
            "up_votes_count": 0,
            "replay_view_detail": None,
        },
    }
    if registration is None or event is None:
        return resource
    attributes = resource["attributes"]
    attributes["registrant_detail"] = _registrant_detail(person, registration, event)
    attributes["messages_count"] = registration.messages_count
    attributes["questions_count"] = registration.questions_count
    attributes["votes_count"] = registration.votes_count
    attributes["up_votes_count"] = registration.up_votes_count
    if registration.replay_watched_at:
        attributes["replay_view_detail"] = {"watched_at": registration.replay_watched_at}
    resource["relationships"] = {
        "session": _ref("sessions", registration.session_id),
        "event": _ref("events", registration.event_id),
    }
    return resource


def _registrant_detail(
    person: PersonRecord, registration: RegistrationRecord, event: EventRecord
) -> dict[str, Any]:
    builtin = {
        "email": person.email,
        "first_name": person.first_name,
        "last_name": person.last_name,
    }
    team_member = person.is_team_member
    fields: list[dict[str, Any]] = []
    for item in event.fields:
        if team_member and item.id != "email":
            continue  # team members carry a partial detail
        answer: dict[str, Any] = {
            "id": item.id,
            "type": item.type,
            "value": builtin[item.id] if item.id in builtin else registration.answers.get(item.id),
            "required": item.required,
        }
        if item.custom:
            answer["custom"] = True
        fields.append(answer)
    return {
        "event_id": registration.event_id,
        "session_id": registration.session_id,
        "created_at": registration.created_at,
        "updated_at": registration.updated_at,
        "fields": fields,
        "referrer": registration.referrer,
        "utm_source": registration.utm_source,
        "utm_medium": registration.utm_medium,
        "utm_term": registration.utm_term,
        "utm_content": registration.utm_content,
        "utm_campaign": registration.utm_campaign,
        "browser_name": registration.browser_name,
        "os_name": registration.os_name,
        "ip_city": registration.ip_city,
        "ip_country_code": registration.ip_country_code,
        "connection_link": None
        if team_member
        else f"{APP_URL}/p/{event.slug}/live?s={registration.session_id}&p={person.id}",
        "attended": registration.attended,
        "attendance_rate": registration.attendance_rate,
        "attendance_duration": registration.attendance_duration,
        "has_viewed_replay": registration.replay_watched_at != 0,
        "registration_type": registration.registration_type,
        "is_highlighted": registration.is_highlighted,
        "is_guest_speaker": registration.is_guest_speaker,
        "session_role": registration.session_role,
    }


def registration_resource(workspace: Workspace, registration: RegistrationRecord) -> dict[str, Any]:
    return person_resource(
        registration.person, registration, workspace.events[registration.event_id]
    )


def job_resource(job: JobRecord) -> dict[str, Any]:
    return {
        "id": job.id,
        "type": "jobs",
        "attributes": {
            "status": job.status,
            "total_items": len(job.tasks),
            "total_processed_items": job.total_success + job.total_fail,
            "total_success": job.total_success,
            "total_fail": job.total_fail,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        },
        "relationships": {"session": _ref("sessions", job.session_id)},
    }


def task_resource(task: TaskRecord) -> dict[str, Any]:
    return {
        "id": task.id,
        "type": "tasks",
        "attributes": {
            "index": task.index,
            "status": task.status,
            "email": task.email,
            "person_id": task.person_id,
            "errors": list(task.errors),
        },
    }


def webhook_resource(webhook: WebhookRecord) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "type": "webhooks",
        "attributes": {
            "event": webhook.event,
            "url": webhook.target_url,
            "created_at": webhook.created_at,
        },
    }
