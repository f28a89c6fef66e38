"""Relay building blocks: global IDs, the Node interface, connections and keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from leadbridge import Scope

from .._errors import BadUserInputError

#: ``first`` bounds of every connection.
MIN_PAGE = 1
MAX_PAGE = 100
DEFAULT_PAGE = 20

NodeT = TypeVar("NodeT")


def encode_id(type_name: str, pk: int | str) -> str:
    """The opaque global ID of an object (Relay convention: base64 of ``Type:pk``)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_id(global_id: str, argument: str = "id") -> tuple[str, str]:
    """``(type name, pk)`` of a global ID; a malformed one is a ``BAD_USER_INPUT`` error."""
    try:
        raw = base64.b64decode(global_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    type_name, sep, pk = raw.partition(":")
    if not sep or not type_name or not pk:
        raise BadUserInputError(f"`{argument}`: {global_id!r} is not a valid global ID")
    return type_name, pk


#: Primary keys are 64-bit integers (``BIGINT``): a larger number is no key of ours.
MAX_PK = 2**63 - 1


def parse_pk(pk: str) -> int | None:
    """The primary key written ``pk`` (ASCII digits, 1 to :data:`MAX_PK`), else ``None``."""
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 19:
        return None
    value = int(pk)
    return value if 1 <= value <= MAX_PK else None


def decode_int_id(global_id: str, type_name: str, argument: str = "id") -> int:
    """The integer primary key behind a global ID that must name a ``type_name``."""
    found, pk = decode_id(global_id, argument)
    value = parse_pk(pk) if found == type_name else None
    if value is None:
        raise BadUserInputError(f"`{argument}`: {global_id!r} is not the ID of a {type_name}")
    return value


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")


@strawberry.type(description="Where a page stands in its connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="True when the page was asked for `after` a cursor."
    )
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this node.")
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The nodes of the page, without their cursors.")
    def nodes(self) -> list[NodeT]:
        return [e.node for e in self.edges]

    @strawberry.field(description="How many nodes the whole connection has (all pages).")
    async def total_count(self) -> int:
        return await self._count()


def _children(selections: Sequence[Selection], name: str) -> list[Selection]:
    out: list[Selection] = []
    for sel in selections:
        if isinstance(sel, SelectedField):
            if sel.name == name:
                out.extend(sel.selections)
        else:  # a fragment: look inside
            out.extend(_children(sel.selections, name))
    return out


def _names(selections: Sequence[Selection]) -> set[str]:
    names: set[str] = set()
    for sel in selections:
        if isinstance(sel, SelectedField):
            names.add(sel.name)
        else:
            names |= _names(sel.selections)
    return names


def node_fields(info: Info[Any, Any]) -> set[str]:
    """Fields asked of the nodes of the connection being resolved (edges.node and nodes).

    A connection resolver fetches what its nodes need for the whole page in one statement
    each; the nodes' own resolvers then answer without awaiting, the executor's fast path.
    """
    page = [sel for field in info.selected_fields for sel in field.selections]
    return _names(_children(_children(page, "edges"), "node")) | _names(_children(page, "nodes"))


def check_first(first: int) -> int:
    if not MIN_PAGE <= first <= MAX_PAGE:
        raise BadUserInputError(
            f"`first` must be between {MIN_PAGE} and {MAX_PAGE}, got {first}: "
            "page through larger sets with `after`"
        )
    return first


def encode_cursor(order: str, value: Any, pk: int) -> str:
    """A keyset cursor: the order it belongs to, the sort value and the id of the last node."""
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([order, value, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[Any, int]:
    """``(sort value, id)`` from a cursor made by :func:`encode_cursor` for ``order``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, value, pk = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        valid = (
            isinstance(found, str)
            and isinstance(pk, int)
            and not isinstance(pk, bool)
            and 0 <= pk <= MAX_PK
            and _fits_64_bits(value)
        )
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError, RecursionError):
        valid = False
    if not valid:
        raise BadUserInputError(f"`after`: {cursor!r} is not a cursor this API issued")
    if found != order:
        raise BadUserInputError(
            f"`after`: the cursor belongs to the order {found}, not {order}: "
            "keep the same `orderBy` while paging"
        )
    return value, pk


def _fits_64_bits(value: Any) -> bool:
    """A cursor's sort value is a scalar column value: an integer must fit a ``BIGINT``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return -MAX_PK - 1 <= value <= MAX_PK
    return value is None or isinstance(value, str | float | datetime | bool)


def connection(
    nodes: Sequence[NodeT],
    cursors: Sequence[str],
    *,
    has_next: bool,
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    edges = [Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        _count=count,
    )


@dataclass(frozen=True)
class NodeKind:
    """How ``node(id:)`` finds one type: the scope it needs and a batched loader."""

    type_name: str
    scope: Scope
    #: Objects by primary key (each a valid key: :func:`parse_pk`), ``None`` where missing.
    load: Callable[[Any, Sequence[int]], Awaitable[Sequence[Any]]]


#: Node types by GraphQL type name; each schema module registers its own.
NODE_KINDS: dict[str, NodeKind] = {}


def register_node(kind: NodeKind) -> None:
    NODE_KINDS[kind.type_name] = kind
