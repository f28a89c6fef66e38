"""A report's pages, read one ahead of the page being written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.asynccontextmanager
async def read_ahead(pages: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """The report's pages, one read ahead: the next page's API calls run while the engine
    writes the current one (a sync costs about the longer of the two, not their sum).

    When the pull stops early (cancel, error) the page being read is abandoned and the
    exchange's report generator closed.
    """
    source = aiter(pages)
    ahead: asyncio.Future[T] | None = None

    async def following() -> T:
        return await anext(source)

    async def iterate() -> AsyncGenerator[T, None]:
        nonlocal ahead
        ahead = asyncio.ensure_future(following())
        while True:
            try:
                page = await ahead
            except StopAsyncIteration:
                ahead = None
                return
            ahead = asyncio.ensure_future(following())
            yield page

    reader = iterate()
    try:
        yield reader
    finally:
        if ahead is not None:
            # Its outcome no longer matters: the pull is over (this is how it was stopped).
            ahead.cancel()
            await asyncio.wait({ahead})
            if not ahead.cancelled():
                ahead.exception()  # retrieved, so that asyncio does not log it
        await reader.aclose()
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()
