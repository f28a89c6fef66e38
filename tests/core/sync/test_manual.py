"""The mapping manual, options and the value normalizer refuse what cannot work, by name."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import pytest

from leadbridge import ConfigurationError, CoreContainer, ValidationError
from leadbridge.contacts import CORE_FIELDS, FieldSpec, FieldType
from leadbridge.sync import (
    BIDIRECTIONAL,
    MappedField,
    MappingManual,
    SyncEngine,
    SyncOptions,
    ValueNormalizer,
)
from leadbridge.testing import MemoryIntegration


class Direction(enum.StrEnum):  # what the integration framework provides
    TO_INTERNAL = "to_internal"


def test_manual_accepts_mappings_and_tuples() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class FieldMapping:
        internal_field: str
        integration_field: str
        direction: str

    manual = MappingManual.build(
        "crm",
        {
            "people": [
                FieldMapping("email", "Email", Direction.TO_INTERNAL),
                ("first_name", "FirstName", BIDIRECTIONAL),
            ]
        },
        conflict_winner="integration",
    )
    (obj,) = manual.objects
    assert [f.direction for f in obj.fields] == ["to_internal", "bidirectional"]
    assert type(obj.fields[0].direction) is str
    assert [f.internal_field for f in obj.push_fields] == ["first_name"]
    manual.check(CORE_FIELDS)
    assert manual.to_dict()["objects"][0]["fields"][0]["integration_field"] == "Email"


def test_manual_refuses_by_name() -> None:
    with pytest.raises(ValidationError, match="direction 'sideways' is unknown"):
        MappedField("email", "Email", "sideways")
    with pytest.raises(ValidationError, match="conflict winner 'both'"):
        MappingManual.build(
            "crm", {"people": [("email", "Email", BIDIRECTIONAL)]}, conflict_winner="both"
        )
    cases = {
        "internal field 'shoe_size' does not exist": [
            ("email", "Email", BIDIRECTIONAL),
            ("shoe_size", "Shoe", BIDIRECTIONAL),
        ],
        "internal field 'email' is mapped twice": [
            ("email", "Email", BIDIRECTIONAL),
            ("email", "Mail", BIDIRECTIONAL),
        ],
        "unique identifier 'email' must be mapped": [("first_name", "Name", BIDIRECTIONAL)],
    }
    for message, fields in cases.items():
        manual = MappingManual.build("crm", {"people": fields})
        with pytest.raises(ConfigurationError, match=message):
            manual.check(CORE_FIELDS)


async def test_engine_checks_the_manual_before_starting(container: CoreContainer) -> None:
    remote = MemoryIntegration()
    engine = SyncEngine(
        container.session_factory(),
        container.contact_service(),
        container.change_log_service(),
        container.event_bus(),
        custom_fields=container.custom_field_service(),
    )
    # The memory manual maps custom fields this store does not define yet.
    with pytest.raises(ConfigurationError, match="internal field 'website' does not exist"):
        await engine.run(remote.exchange(), remote.manual())
    with pytest.raises(ValidationError, match="trigger 'cron'"):
        await engine.run(remote.exchange(), remote.manual(only=("email",)), trigger="cron")
    assert await container.sync_run_service().runs() == []


def test_options_refuse_contradictions() -> None:
    with pytest.raises(ValidationError, match="not both"):
        SyncOptions(pull_only=True, push_only=True)
    with pytest.raises(ValidationError, match="timezone-aware"):
        SyncOptions(since=datetime(2024, 1, 1))
    assert SyncOptions(ids=frozenset({"1"}), since=datetime(2024, 1, 1, tzinfo=UTC)).to_dict()[
        "ids"
    ] == ["1"]


def test_value_normalizer_conventions() -> None:
    specs = {
        **CORE_FIELDS,
        "born": FieldSpec("born", "Born", FieldType.DATE, False),
        "seen": FieldSpec("seen", "Seen", FieldType.DATETIME, False),
        "tags": FieldSpec("tags", "Tags", FieldType.MULTISELECT, False, ("a", "b", "c")),
        "score": FieldSpec("score", "Score", FieldType.NUMBER, False),
        "vip": FieldSpec("vip", "VIP", FieldType.BOOLEAN, False),
    }
    n = ValueNormalizer(specs, null_values={"0", "N/A"})
    assert n.normalize("first_name", "  Ann ") == "Ann"
    assert n.normalize("first_name", "N/A") is None
    assert n.normalize("city", "") is None
    assert n.normalize("born", "0000-00-00") is None
    assert n.normalize("born", "1990-04-01T10:00:00Z") == "1990-04-01"
    assert n.normalize("seen", 0.0) == "1970-01-01T00:00:00Z"
    assert n.normalize("seen", "2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00Z"
    assert n.normalize("seen", "0000-00-00 00:00:00") is None
    assert n.normalize("tags", "a|c") == ["a", "c"]
    assert n.normalize("tags", ["b", "b"]) == ["b"]
    assert n.normalize("score", "0") is None  # the source's "0" means no value
    assert n.normalize("score", "7.0") == 7
    assert n.normalize("vip", "no") is False
    with pytest.raises(ValidationError, match="score: 'lots' is not a valid number"):
        n.normalize("score", "lots")
    with pytest.raises(ValidationError, match="tags: 'z'"):
        n.normalize("tags", "a|z")
    with pytest.raises(ValidationError, match="unknown field 'nope'"):
        n.normalize("nope", 1)
