"""Regular-expression filters: one syntax both databases read alike, and a bound on cost.

The same tables run on SQLite (RE2 behind ``REGEXP``) and PostgreSQL (``~*``): a pattern is
either refused on write on both, or matches the same contacts on both. The expectations are
written from the documented syntax, not computed by either engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from leadbridge import CoreContainer, ValidationError
from leadbridge.segments import FilterTimeoutError, SegmentMemberRow, SegmentService

from .conftest import NOW

EMAILS = {
    "ann": "ann.smith@example.com",
    "bob": "Bob_Jones@Example.org",
    "cid": "cid+news@mail.example.net",
    "dee": "dee{1}@braces.io",
    "eve": "eve.2024@numbers.com",
}

#: pattern → the contacts it matches (a search, ignoring case)
MATCHES: list[tuple[str, set[str]]] = [
    ("^ann", {"ann"}),
    (r"\.org$", {"bob"}),
    ("EXAMPLE", {"ann", "bob", "cid"}),
    ("b.b", {"bob"}),
    ("(ann|bob)[._]", {"ann", "bob"}),
    (r"\d{4}", {"eve"}),
    (r"^\w+\.\w+@", {"ann", "eve"}),
    (r"\+", {"cid"}),
    (r"\{1\}", {"dee"}),
    ("[[:digit:]]", {"dee", "eve"}),
    ("[^a-z@._+{}]", {"dee", "eve"}),  # digits (and capitals, folded to lower case)
    ("^[]a]", {"ann"}),  # a ] first in brackets is a literal ]
    ("(?:s|j)[a-z]+@", {"ann", "bob"}),
    ("o{2,}", set()),
    ("^.{20,22}$", {"ann", "bob", "eve"}),
    (r"\Aeve", {"eve"}),
    ("e.*?@", {"bob", "cid", "dee", "eve"}),
    ("(.*.){8}!", set()),  # catastrophic for a backtracking engine
]

#: pattern → a phrase of the refusal
REFUSED: list[tuple[str, str]] = [
    ("(", "not a valid regular expression"),
    (r"\bann", r"word-boundary escape \b"),
    (r"\yann", r"word-boundary escape \y"),
    (r"(a)\1", r"back-reference or octal escape \1"),
    ("ann(?=@)", "(?…) group"),
    ("(?i)ann", "(?…) group"),
    (r"\x41", r"escape \x"),
    (r"\pL", r"escape \p"),
    (r"[\W]", "inside brackets"),
    ("[[:upper:]]", "character class [:upper:]"),
    ("[[.a.]]", "collating elements"),
    ("a{256}", "above 255"),
    ("a{3,2}", "minimum exceeds its maximum"),
    ("a{,2}", "literal brace"),
    ("(.{1,200}){1,200}", "not a valid regular expression"),
    ("a" * 1001, "longer than 1000 characters"),
]


@pytest.fixture
async def people(container: CoreContainer) -> dict[str, int]:
    contacts = container.contact_service()
    return {name: (await contacts.create(email)).id for name, email in EMAILS.items()}


def _service(container: CoreContainer, regexp_timeout: float = 30.0) -> SegmentService:
    return SegmentService(
        container.session_factory(), clock=lambda: NOW, regexp_timeout=regexp_timeout
    )


def _regexp(value: Any, operator: str = "regexp") -> list[dict[str, Any]]:
    return [{"field": "email", "operator": operator, "value": value}]


async def test_patterns_match_the_same_contacts_on_both_databases(
    container: CoreContainer, people: dict[str, int]
) -> None:
    service = _service(container)
    await service.create("R", alias="r")
    for pattern, expected in MATCHES:
        await service.update("r", filters=_regexp(pattern))
        await service.rebuild("r")
        members = {name for name, pk in people.items() if await service.is_member("r", pk)}
        assert members == expected, pattern
        assert await service.preview_count(_regexp(pattern)) == len(expected), pattern
        assert await service.preview_count(_regexp(pattern, "!regexp")) == len(people) - len(
            expected
        ), pattern


@pytest.mark.parametrize(("pattern", "phrase"), REFUSED)
async def test_patterns_outside_the_shared_syntax_are_refused_on_write(
    container: CoreContainer, pattern: str, phrase: str
) -> None:
    service = _service(container)
    with pytest.raises(ValidationError) as caught:
        await service.create("R", alias="r", filters=_regexp(pattern))
    assert caught.value.field == "filters[0].value"
    assert phrase in caught.value.message
    assert "field 'email'" in caught.value.message
    assert await service.list() == []


async def test_hostile_pattern_over_thousands_of_contacts_is_prompt(
    container: CoreContainer,
) -> None:
    contacts = container.contact_service()
    await contacts.bulk_upsert([{"email": f"{'x' * 30}.{i}@example.com"} for i in range(3000)])
    service = _service(container)
    # Python's re needed seconds for ten contacts; a hang here is caught by the suite's
    # timeout, and no timing is asserted.
    assert await service.preview_count(_regexp("(.*.){8}!")) == 0
    assert await service.preview_count(_regexp("(x+x+)+y")) == 0
    assert await service.preview_count(_regexp("(.*.){8}!", "!regexp")) == 3000


async def test_a_regexp_past_its_time_limit_is_a_typed_error_and_writes_nothing(
    container: CoreContainer, db_backend: str, people: dict[str, int]
) -> None:
    contacts = container.contact_service()
    await contacts.bulk_upsert([{"email": f"{'y' * 40}.{i}@example.com"} for i in range(3000)])
    # About a tenth of a second of PostgreSQL's time over these contacts: a limit of 5 ms
    # is hit whatever the machine's load.
    pattern = "((.*.){1,30}){1,30}!"
    service = _service(container, regexp_timeout=0.005)
    await service.create("Slow", alias="slow", filters=_regexp(pattern))
    await service.add_contacts("slow", [people["ann"]])
    if db_backend != "postgres":
        # RE2 runs in linear time: SQLite needs no limit and answers.
        assert await service.preview_count(_regexp(pattern)) == 0
        assert (await service.rebuild("slow")).total == 1
        return
    with pytest.raises(FilterTimeoutError) as caught:
        await service.preview_count(_regexp(pattern))
    assert caught.value.field == "filters[0].value"
    assert caught.value.value == pattern
    assert "field 'email'" in caught.value.message and pattern in caught.value.message
    with pytest.raises(FilterTimeoutError, match="segment 'slow'"):
        await service.rebuild("slow")
    with pytest.raises(FilterTimeoutError):
        await service.count("slow")
    async with container.session_factory()() as session:
        stored = set((await session.scalars(select(SegmentMemberRow.contact_id))).all())
    assert stored == {people["ann"]}
    assert (await service.get_by_alias("slow")).last_built_at is None
    # The limit ends with the transaction: other statements of the connection run unbounded.
    assert await _service(container).preview_count(_regexp(pattern)) == 0
