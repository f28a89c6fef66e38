"""The contact data contract: what plugins declare is checked when they load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import override

from leadbridge import ConfigurationError, CoreContainer
from leadbridge.integrations import (
    BaseContactData,
    ColumnType,
    DataColumn,
    IntegrationRegistry,
    check_contact_data,
)


class Visits(BaseContactData):
    name = "exampleVisits"
    type_name = "ExampleVisit"
    description = "Pages the contact visited."
    integration = "example"
    columns = (
        DataColumn("url", ColumnType.TEXT, "The page.", nullable=False),
        DataColumn("seconds", ColumnType.INTEGER),
    )

    @override
    async def load(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
        return {i: [{"url": f"/{i}", "seconds": i}] for i in contact_ids}


def variant(**attrs: Any) -> BaseContactData:
    return type("Variant", (Visits,), attrs)()  # type: ignore[no-any-return]


def test_a_well_formed_declaration_passes() -> None:
    visits = Visits()
    assert check_contact_data(visits, "example") is visits
    assert ColumnType.DATETIME.python_type.__name__ == "datetime"
    assert repr(visits) == "<Visits 'exampleVisits'>"


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"name": "example_visits"}, "name 'example_visits' must be camelCase"),
        ({"name": "ExampleVisits"}, "must be camelCase"),
        ({"type_name": "exampleVisit"}, "type_name 'exampleVisit' must be PascalCase"),
        ({"integration": "other"}, "integration is 'other', but the plugin is 'example'"),
        ({"columns": ()}, "must declare its columns"),
        ({"columns": [DataColumn("url", ColumnType.TEXT)]}, "must declare its columns"),
        ({"columns": (DataColumn("pageUrl", ColumnType.TEXT),)}, "'pageUrl' must be snake_case"),
        ({"columns": (DataColumn("class", ColumnType.TEXT),)}, "'class' must be snake_case"),
        ({"columns": (("url", "text"),)}, "must be DataColumn instances, not tuple"),
        (
            {"columns": (DataColumn("url", ColumnType.TEXT), DataColumn("url", ColumnType.TEXT))},
            "declares the column 'url' twice",
        ),
    ],
)
def test_mistakes_name_the_plugin_and_the_field(attrs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match="plugin 'example'") as info:
        check_contact_data(variant(**attrs), "example")
    assert message in str(info.value)


def test_missing_attributes_and_foreign_objects_are_refused() -> None:
    class Nameless(BaseContactData):
        integration = "example"

        @override
        async def load(
            self, session: AsyncSession, contact_ids: Sequence[int]
        ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
            return {}

    with pytest.raises(ConfigurationError, match="Nameless must set the class attribute 'name'"):
        check_contact_data(Nameless(), "example")
    with pytest.raises(ConfigurationError, match="BaseContactData instances, not dict"):
        check_contact_data({"name": "x"}, "example")


def test_an_unknown_column_type_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="'money'; use one of text, integer, float"):
        DataColumn("price", "money")  # type: ignore[arg-type]
    assert DataColumn("price", "float").type is ColumnType.FLOAT  # type: ignore[arg-type]


def _plugin_registry(container: CoreContainer, **contact_data: Any) -> IntegrationRegistry:
    """A registry of example and livestorm whose ``contact_data`` providers are replaced."""
    registry = IntegrationRegistry(container, plugins=["example", "livestorm"])
    for loaded in registry.all():
        if loaded.name in contact_data:
            loaded.container.set_provider("contact_data", contact_data[loaded.name])
    return registry


def test_registry_collects_every_plugins_contact_data(container: CoreContainer) -> None:
    registry = _plugin_registry(container, example=providers.Object([Visits()]))
    names = [d.name for d in registry.contact_data()]
    assert names == ["exampleVisits", "livestormRegistrations"]  # plugins in name order
    # Core's container exposes the loaded plugins' contact data, for the gateway.
    assert "livestormRegistrations" in [d.name for d in container.contact_data()]


def test_two_plugins_cannot_publish_the_same_name(container: CoreContainer) -> None:
    class Clash(Visits):
        name = "livestormRegistrations"
        integration = "example"

    registry = _plugin_registry(container, example=providers.Object([Clash()]))
    with pytest.raises(
        ConfigurationError,
        match="plugin 'livestorm': contact data name 'livestormRegistrations' is already used "
        "by plugin 'example'",
    ):
        registry.contact_data()

    registry = _plugin_registry(
        container, example=providers.Object([Visits(), variant(name="exampleOther")])
    )
    with pytest.raises(ConfigurationError, match="type_name 'ExampleVisit' is already used"):
        registry.contact_data()


def test_a_failing_provider_is_recorded_and_the_others_stay(container: CoreContainer) -> None:
    def broken() -> list[BaseContactData]:
        raise RuntimeError("no database yet")

    registry = _plugin_registry(container, example=providers.Callable(broken))
    assert [d.name for d in registry.contact_data()] == ["livestormRegistrations"]
    errors = {e.name: e.error for e in registry.errors}
    assert errors["example"] == "contact_data: RuntimeError: no database yet"
