"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID, with its type's scope."""

from __future__ import annotations

from collections import defaultdict

import strawberry
from strawberry.types import Info

from .._context import GatewayContext
from .._errors import BadUserInputError
from ._auth import RequireScope
from ._relay import MAX_PAGE, NODE_KINDS, Node, decode_id, parse_pk

Ctx = Info[GatewayContext, None]


async def _resolve(info: Ctx, ids: list[strawberry.ID], argument: str) -> list[Node | None]:
    wanted: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for position, global_id in enumerate(ids):
        type_name, raw_pk = decode_id(global_id, argument)
        if type_name not in NODE_KINDS:  # an unknown type is an object that does not exist
            continue
        pk = parse_pk(raw_pk)
        if pk is None:
            raise BadUserInputError(f"`{argument}`: {global_id!r} is not a valid global ID")
        wanted[type_name].append((position, pk))
    for type_name in wanted:
        kind = NODE_KINDS[type_name]
        await info.context.require(kind.scope, f"{info.field_name}({type_name})")
    out: list[Node | None] = [None] * len(ids)
    for type_name, items in wanted.items():
        found = await NODE_KINDS[type_name].load(info.context, [pk for _, pk in items])
        for (position, _), node in zip(items, found, strict=True):
            out[position] = node
    return out


@strawberry.type
class NodeQuery:
    @strawberry.field(
        extensions=[RequireScope(None)],
        description="Any object by its global ID; needs the read scope of the object's type.",
    )
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        return (await _resolve(info, [id], "id"))[0]

    @strawberry.field(
        extensions=[RequireScope(None)],
        description=f"Objects by global ID, in the order asked (at most {MAX_PAGE}).",
    )
    async def nodes(self, info: Ctx, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE:
            raise BadUserInputError(f"`ids`: at most {MAX_PAGE} IDs at once, got {len(ids)}")
        return await _resolve(info, ids, "ids")
