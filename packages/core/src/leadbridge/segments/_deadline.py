"""A time limit on the statements that evaluate regular-expression filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ._errors import FilterTimeoutError

_REGEXP = ("regexp", "!regexp")
_QUERY_CANCELED = "57014"


@asynccontextmanager
async def regexp_deadline(
    session: AsyncSession,
    filters: Sequence[Mapping[str, Any]],
    seconds: float,
    *,
    segment: str | None = None,
) -> AsyncIterator[None]:
    """Bound every later statement of the transaction when ``filters`` use ``regexp``.

    On PostgreSQL a regular expression can cost exponential time: the transaction's
    ``statement_timeout`` becomes ``seconds``, and a statement it cancels raises
    :class:`FilterTimeoutError` naming the regexp filters. SQLite needs no limit: its
    ``REGEXP`` runs on RE2, in time linear in the text.
    """
    regexps = [
        (index, item) for index, item in enumerate(filters) if item.get("operator") in _REGEXP
    ]
    bounded = bool(regexps) and session.get_bind().dialect.name == "postgresql"
    if bounded:
        milliseconds = max(1, round(seconds * 1000))
        await session.execute(
            text("SELECT set_config('statement_timeout', :limit, true)"),
            {"limit": f"{milliseconds}ms"},
        )
    try:
        yield
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if not bounded or code != _QUERY_CANCELED:
            raise
        first, item = regexps[0]
        named = "; ".join(
            f"filters[{index}] (field {regexp.get('field')!r}, "
            f"operator {regexp.get('operator')!r}, pattern {regexp.get('value')!r})"
            for index, regexp in regexps
        )
        prefix = f"segment {segment!r}: " if segment is not None else ""
        raise FilterTimeoutError(
            f"{prefix}{named}: matching took longer than the {seconds:g} s allowed for "
            "regular expressions; simplify the pattern",
            field=f"filters[{first}].value",
            value=item.get("value"),
        ) from exc
