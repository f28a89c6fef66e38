"""Plugin-provided Contact fields (``livestormRegistrations``) over HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import override

from leadbridge import ConfigurationError, CoreContainer, Scope
from leadbridge.integrations import BaseContactData, ColumnType, DataColumn
from leadbridge_gateway import build_schema, create_app
from leadbridge_gateway.export_schema import installed_contact_data, schema_sdl

from .conftest import GQL, MakeToken, codes

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


async def add_registrations(
    container: CoreContainer, contact_ids: Sequence[int], sessions: int = 3
) -> None:
    """One event with ``sessions`` sessions, a day apart; each contact registered to each."""
    from leadbridge_livestorm import EventRow, RegistrationRow, SessionRow

    async with container.session_factory().begin() as session:
        session.add(EventRow(id="ev1", title="Onboarding webinar"))
        await session.flush()
        session.add_all(
            SessionRow(id=f"s{n}", event_id="ev1", estimated_started_at=T0 + timedelta(days=n))
            for n in range(sessions)
        )
        await session.flush()
        session.add_all(
            RegistrationRow(
                session_id=f"s{n}",
                event_id="ev1",
                person_id=f"p{contact_id}",
                contact_id=contact_id,
                registered_at=T0 - timedelta(days=1),
                attended=n == 0,
                attendance_rate=80 if n == 0 else None,
                attendance_duration=2550 if n == 0 else None,
                questions_count=n,
                up_votes_count=2 * n,
                utm_source="newsletter" if n == 1 else None,
            )
            for contact_id in contact_ids
            for n in range(sessions)
        )


QUERY = """
query($email: String!) {
  contact(email: $email) {
    email
    livestormRegistrations {
      eventId eventTitle sessionId sessionScheduledAt sessionStartedAt registeredAt
      attended attendanceRate durationMinutes replayWatched questions upVotes utmSource
    }
  }
}"""


async def test_registrations_of_a_contact_newest_session_first(
    gql: GQL, container: CoreContainer
) -> None:
    ann = await container.contact_service().create("ann@x.io")
    await container.contact_service().create("bob@x.io")
    await add_registrations(container, [ann.id])

    rows = (await gql.data(QUERY, {"email": "ann@x.io"}))["contact"]["livestormRegistrations"]
    assert [r["sessionId"] for r in rows] == ["s2", "s1", "s0"]
    assert rows[2] == {
        "eventId": "ev1",
        "eventTitle": "Onboarding webinar",
        "sessionId": "s0",
        "sessionScheduledAt": "2026-03-01T09:00:00+00:00",
        "sessionStartedAt": None,
        "registeredAt": "2026-02-28T09:00:00+00:00",
        "attended": True,
        "attendanceRate": 80,
        "durationMinutes": 42.5,
        "replayWatched": False,
        "questions": 0,
        "upVotes": 0,
        "utmSource": None,
    }
    assert rows[1]["utmSource"] == "newsletter" and rows[1]["upVotes"] == 2
    assert not rows[0]["attended"] and rows[0]["durationMinutes"] is None

    bob = (await gql.data(QUERY, {"email": "bob@x.io"}))["contact"]
    assert bob == {"email": "bob@x.io", "livestormRegistrations": []}


PLUGIN_FIELDS = [d.name for d in installed_contact_data()]


@pytest.mark.parametrize("field", PLUGIN_FIELDS)
async def test_plugin_field_needs_integrations_read(
    gql: GQL, make_token: MakeToken, container: CoreContainer, field: str
) -> None:
    await container.contact_service().create("ann@x.io")
    operation = f'{{ contact(email: "ann@x.io") {{ email {field} {{ __typename }} }} }}'

    contacts_only = await make_token(*(s for s in Scope if s is not Scope.INTEGRATIONS_READ))
    refused = await GQL(gql.client, contacts_only)(operation)
    assert codes(refused) == ["FORBIDDEN"], refused
    assert refused["errors"][0]["message"] == (
        f"this API token lacks the scope `integrations:read`, which `Contact.{field}` needs"
    )
    assert refused["errors"][0]["path"] == ["contact", field]

    integrations_only = await make_token(Scope.INTEGRATIONS_READ)
    assert codes(await GQL(gql.client, integrations_only)(operation)) == ["FORBIDDEN"]

    both = await make_token(Scope.CONTACTS_READ, Scope.INTEGRATIONS_READ)
    allowed = await GQL(gql.client, both)(operation)
    assert "errors" not in allowed and allowed["data"]["contact"][field] == []


class Visits(BaseContactData):
    name = "exampleVisits"
    type_name = "ExampleVisit"
    integration = "example"
    columns = (DataColumn("url", ColumnType.TEXT, nullable=False),)

    @override
    async def load(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
        return {i: [{"url": f"/{i}"}] for i in contact_ids}


def test_names_the_schema_already_has_are_refused() -> None:
    class Email(Visits):
        name = "email"

    with pytest.raises(ConfigurationError, match="'email' is the name of a field Contact"):
        build_schema(contact_data=[Email()])
    for taken in ("Segment", "DateTime", "ContactFilter", "PageInfo"):
        rows = type("Rows", (Visits,), {"type_name": taken})()
        with pytest.raises(ConfigurationError) as info:
            build_schema(contact_data=[rows])
        assert str(info.value) == (
            f"plugin 'example': contact data 'exampleVisits' names its type '{taken}', "
            "a type the schema already has"
        )
    sdl = str(build_schema(contact_data=[Visits()]))
    assert "exampleVisits: [ExampleVisit!]!" in sdl
    assert "Data of the example integration (needs `integrations:read`)." in sdl


def test_a_clash_stops_the_gateway_at_startup(container: CoreContainer) -> None:
    class Tags(Visits):
        name = "tags"

    container.contact_data.override(providers.Object([Tags()]))
    try:
        with pytest.raises(ConfigurationError, match="'tags' is the name of a field Contact"):
            create_app(container)
    finally:
        container.contact_data.reset_override()


def test_the_exported_schema_has_the_installed_plugins_fields() -> None:
    sdl = schema_sdl()
    assert sdl == schema_sdl()  # deterministic
    assert "livestormRegistrations: [LivestormRegistration!]!" in sdl
    assert "type LivestormRegistration {" in sdl
