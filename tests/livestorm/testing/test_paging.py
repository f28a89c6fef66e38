"""Envelope and paging: 0-based pages, 20 by default, at most 50, 400 past the end."""

from __future__ import annotations

import math

import httpx
import pytest

from leadbridge_livestorm import JSONAPI_MEDIA_TYPE, Page, Person
from leadbridge_livestorm.testing import FakeLivestorm, Workspace


def test_walking_pages_of_50_returns_every_person_once(
    client: httpx.Client, fake: FakeLivestorm, small_workspace: Workspace
) -> None:
    seen: list[str] = []
    number = 0
    while True:
        response = client.get("/people", params={"page[number]": number, "page[size]": 50})
        assert response.status_code == 200
        page = Page.parse(response.json(), Person)
        assert page.meta.current_page == number
        seen += [person.id for person in page.items]
        if page.meta.next_page is None:
            break
        assert page.meta.next_page == number + 1
        number += 1

    assert sorted(seen) == sorted(small_workspace.people)
    assert page.meta.record_count == len(small_workspace.people)
    assert page.meta.page_count == math.ceil(len(small_workspace.people) / 50)
    assert fake.call_count("GET", "/people") == page.meta.page_count


def test_first_page_meta_and_default_size(client: httpx.Client, small_workspace: Workspace) -> None:
    response = client.get("/people")

    assert response.headers["content-type"].startswith(JSONAPI_MEDIA_TYPE)
    document = response.json()
    assert len(document["data"]) == 20
    assert document["meta"] == {
        "current_page": 0,
        "previous_page": None,
        "next_page": 1,
        "record_count": len(small_workspace.people),
        "page_count": math.ceil(len(small_workspace.people) / 20),
        "items_per_page": 20,
    }


def test_last_page_has_no_next_and_a_previous(client: httpx.Client) -> None:
    first = client.get("/people", params={"page[size]": 50}).json()["meta"]
    last_number = first["page_count"] - 1

    last = client.get("/people", params={"page[size]": 50, "page[number]": last_number}).json()

    assert last["meta"]["next_page"] is None
    assert last["meta"]["previous_page"] == last_number - 1
    assert len(last["data"]) == first["record_count"] - 50 * last_number


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"page[size]": 51}, "page[size]=51"),
        ({"page[size]": 0}, "page[size]=0"),
        ({"page[number]": -1}, "page[number]=-1"),
        ({"page[number]": "two"}, "not an integer"),
    ],
)
def test_bad_paging_is_a_400(
    client: httpx.Client, params: dict[str, object], fragment: str
) -> None:
    response = client.get("/people", params=params)

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["status"] == "bad_request"
    assert fragment in error["detail"]


def test_a_page_past_the_end_is_a_400(client: httpx.Client) -> None:
    page_count = client.get("/people", params={"page[size]": 50}).json()["meta"]["page_count"]

    response = client.get("/people", params={"page[size]": 50, "page[number]": page_count})

    assert response.status_code == 400
    assert "past the last page" in response.json()["errors"][0]["detail"]


def test_an_empty_list_answers_page_0(client: httpx.Client) -> None:
    response = client.get("/people", params={"filter[email]": "nobody@nowhere.test"})

    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "meta": {
            "current_page": 0,
            "previous_page": None,
            "next_page": None,
            "record_count": 0,
            "page_count": 0,
            "items_per_page": 20,
        },
    }


def test_one_resource_envelope_and_404(client: httpx.Client, small_workspace: Workspace) -> None:
    event_id = next(iter(small_workspace.events))

    document = client.get(f"/events/{event_id}").json()
    missing = client.get("/events/00000000-0000-4000-8000-000000000000")

    assert document["data"]["id"] == event_id
    assert document["data"]["type"] == "events"
    assert "meta" not in document
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["status"] == "not_found"


def test_ping_is_an_empty_200(client: httpx.Client) -> None:
    response = client.get("/ping")

    assert response.status_code == 200
    assert response.content == b""


def test_organization(client: httpx.Client, small_workspace: Workspace) -> None:
    data = client.get("/organization").json()["data"]

    assert data["type"] == "organizations"
    assert data["attributes"] == {"name": "Acme Webinars", "slug": "acme-webinars"}
    assert data["id"] == small_workspace.organization.id
