"""The gateway behind a real uvicorn server on loopback, for clients we did not write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

STARTUP_DEADLINE = 20.0


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """``host:port`` of ``app`` served on a free loopback port until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, ws="websockets-sansio", log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(STARTUP_DEADLINE):
            while not server.started:  # uvicorn has no "started" event to wait on
                if task.done():
                    task.result()  # startup failed: raise its error
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
