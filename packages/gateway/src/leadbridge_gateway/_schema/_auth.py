"""Scope checks: every root field and mutation carries a :class:`RequireScope` extension."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from leadbridge import Scope

from .._context import GatewayContext


class RequireScope(FieldExtension):
    """Refuse the field unless the caller's token has ``scope``.

    ``scope=None`` asks only for a valid token: fields such as ``node`` check the scope of
    each object they return themselves. ``writes=True`` (mutations) lets the read connection go
    before the field runs and drops what the request read so far once it has.
    """

    def __init__(self, scope: Scope | None, *, writes: bool = False) -> None:
        self.scope = scope
        self.writes = writes

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[GatewayContext, None],
        **kwargs: Any,
    ) -> Any:
        await info.context.require(self.scope, info.field_name)
        if self.writes:
            await info.context.before_write()
        result = await next_(source, info, **kwargs)
        if self.writes:
            # The payload's fields resolve next: they must not see what was read before.
            await info.context.after_write()
        return result


def required_scope(extensions: list[FieldExtension]) -> RequireScope | None:
    """The scope check among a field's extensions (used by tests that walk the schema)."""
    return next((e for e in extensions if isinstance(e, RequireScope)), None)
