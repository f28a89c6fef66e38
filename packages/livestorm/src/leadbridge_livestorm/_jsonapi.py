"""JSON:API plumbing shared by every Livestorm resource: time, resources, pages, errors.

Livestorm answers ``{"data": {"id", "type", "attributes", "relationships"?}}`` for one resource
and ``{"data": [...], "meta": {...}, "included"?: [...]}`` for a list. The models here accept a
resource object as it comes off the wire (``Model.model_validate(resource)``) and flatten its
``attributes`` into fields, so ``person.email`` reads the way one thinks of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"


def parse_timestamp(value: Any) -> datetime | None:
    """Livestorm's time rule, in one place: integer Unix seconds, ``0`` (or null) = not set.

    >>> parse_timestamp(0) is None
    True
    >>> parse_timestamp(1720628127).isoformat()
    '2024-07-10T16:15:27+00:00'
    """
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected Unix seconds, got {type(value).__name__}")
    seconds = int(value)  # a numeric string parses; anything else raises ValueError
    if seconds == 0:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_timestamp(value: datetime | None) -> int:
    """The inverse of :func:`parse_timestamp`: ``None`` → ``0``, aware datetimes → seconds."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


#: A Livestorm time field: Unix seconds on the wire, an aware UTC datetime or ``None`` here.
Timestamp = Annotated[datetime | None, BeforeValidator(parse_timestamp)]


class JsonApiModel(BaseModel):
    """Base of the read models: frozen, tolerant of attributes Livestorm adds later."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ResourceIdentifier(JsonApiModel):
    """``{"type": "sessions", "id": "…"}``: a link from one resource to another."""

    type: str
    id: str


def _identifiers(relationship: Any) -> tuple[ResourceIdentifier, ...]:
    data = relationship.get("data") if isinstance(relationship, Mapping) else None
    if data is None:
        return ()
    items = data if isinstance(data, Sequence) and not isinstance(data, str) else [data]
    return tuple(ResourceIdentifier.model_validate(item) for item in items)


class Resource(JsonApiModel):
    """A JSON:API resource whose ``attributes`` become the model's fields.

    ``relationships`` keeps the linked identifiers by name (always a tuple: one-to-one links
    hold zero or one identifier).
    """

    resource_type: ClassVar[str] = ""

    id: str
    relationships: Mapping[str, tuple[ResourceIdentifier, ...]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or "attributes" not in value:
            return value
        kind = value.get("type")
        if cls.resource_type and kind is not None and kind != cls.resource_type:
            raise ValueError(f"expected a {cls.resource_type!r} resource, got {kind!r}")
        flat: dict[str, Any] = dict(value["attributes"] or {})
        flat["id"] = value.get("id")
        flat["relationships"] = {
            name: _identifiers(rel) for name, rel in (value.get("relationships") or {}).items()
        }
        return flat

    def related_ids(self, name: str) -> tuple[str, ...]:
        """The ids linked under relationship ``name`` (empty when absent)."""
        return tuple(item.id for item in self.relationships.get(name, ()))

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Self:
        """Parse a single-resource document ``{"data": {...}}``."""
        return cls.model_validate(document["data"])


R = TypeVar("R", bound=JsonApiModel)
#: What a page holds: models, or records decoded straight from the bytes (``_records``).
T = TypeVar("T")


class PageMeta(JsonApiModel):
    """The ``meta`` of a list. ``current_page`` counts from 0; ``next_page`` is null at the end."""

    current_page: int = 0
    previous_page: int | None = None
    next_page: int | None = None
    record_count: int = 0
    page_count: int = 0
    items_per_page: int = 0


class SkippedRecord(JsonApiModel):
    """A record of a page that could not be read: its id (when it had one) and why."""

    id: str | None = None
    type: str | None = None
    reason: str


class Page(JsonApiModel, Generic[T]):
    """One page of a list: typed ``items``, its ``meta`` and the raw ``included`` resources.

    A record that cannot be read never fails its page: it is left out of ``items`` and kept
    in ``skipped`` with the reason, for the caller to record.
    """

    items: tuple[T, ...]
    meta: PageMeta
    included: tuple[Mapping[str, Any], ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()

    @classmethod
    def parse(cls, document: Mapping[str, Any], model: type[R]) -> Page[R]:
        """Parse ``{"data": [...], "meta": {...}, "included"?: [...]}`` into items of ``model``."""
        items: list[R] = []
        skipped: list[SkippedRecord] = []
        data = document.get("data") or ()
        for item in data if isinstance(data, list) else ():
            try:
                items.append(model.model_validate(item))
            except ValidationError as exc:
                skipped.append(_skipped(item, exc))
        meta = document.get("meta")
        try:
            page_meta = PageMeta.model_validate(meta if isinstance(meta, Mapping) else {})
        except ValidationError:
            page_meta = PageMeta()
        included = document.get("included")
        return Page(
            items=tuple(items),
            meta=page_meta,
            included=tuple(entry for entry in included or () if isinstance(entry, Mapping))
            if isinstance(included, list)
            else (),
            skipped=tuple(skipped),
        )

    @property
    def is_last(self) -> bool:
        return self.meta.next_page is None

    def included_of(self, model: type[R]) -> tuple[R, ...]:
        """The included resources of ``model``'s type, parsed."""
        return tuple(
            model.model_validate(item)
            for item in self.included
            if item.get("type") == getattr(model, "resource_type", None)
        )


def _skipped(item: Any, error: ValidationError) -> SkippedRecord:
    ident = item.get("id") if isinstance(item, Mapping) else None
    kind = item.get("type") if isinstance(item, Mapping) else None
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'record'}: {problem['msg']}"
        for problem in error.errors()[:3]
    )
    return SkippedRecord(
        id=str(ident) if ident is not None else None,
        type=str(kind) if kind is not None else None,
        reason=f"unreadable record ({problems})",
    )


class ApiError(JsonApiModel):
    """One entry of Livestorm's error body ``{"errors": [{title, detail, code, status}]}``.

    ``status`` is a word (``"unauthorized"``), not the numeric HTTP status.
    """

    title: str = ""
    detail: str = ""
    code: str = ""
    status: str = ""

    @model_validator(mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # Codes and statuses come as numbers from some APIs (409): read them as text.
        if isinstance(value, Mapping):
            return {
                key: "" if item is None else str(item)
                for key, item in value.items()
                if key in ("title", "detail", "code", "status")
            }
        return value

    @classmethod
    def parse_all(cls, document: Any) -> tuple[ApiError, ...]:
        """The errors of an error document; ``()`` when the body is not one."""
        if not isinstance(document, Mapping):
            return ()
        errors = document.get("errors")
        if not isinstance(errors, list):
            return ()
        return tuple(cls.model_validate(item) for item in errors if isinstance(item, Mapping))
