"""``/webhooks/{integration}``: hand each request to the integration that receives it.

An integration receives webhooks by declaring a ``webhook_app`` provider in its plugin
container (the one core's integration registry mounts): it provides an ASGI application, or an
async handler ``(starlette.requests.Request) -> starlette.responses.Response``. The app sees the
request with ``root_path`` ending in ``/webhooks/<name>``, the way a Starlette ``Mount`` does,
so a Starlette app's own routes are relative to it. Webhooks carry no API token: the
integration checks their signature. ``create_app(..., webhooks={name: app})`` adds or
replaces receivers explicitly.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge import LeadBridgeError

from ._json_depth import MAX_JSON_DEPTH, nests_deeper_than
from ._view import error_response

log = logging.getLogger("leadbridge.gateway")

Handler = Callable[[Request], Awaitable[Response]]


def _as_asgi(target: Any) -> ASGIApp:
    try:
        params = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) != 1:
        return target  # type: ignore[no-any-return]
    handler: Handler = target

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    return app


def discover(core: Any, name: str) -> ASGIApp | None:
    """The webhook app of the integration ``name``, from core's integration registry."""
    provider = getattr(core, "providers", {}).get("integration_registry")
    if provider is None:
        return None
    try:
        app = provider().get(name).webhook_app()
    except LeadBridgeError as exc:  # not installed, not loaded, or broken (logged by core)
        log.info("webhook for %r: %s", name, exc)
        return None
    return None if app is None else _as_asgi(app)


class WebhookDispatcher:
    """The ASGI endpoint of ``/webhooks/{integration}[/...]``."""

    def __init__(self, explicit: Mapping[str, Any], find: Callable[[str], ASGIApp | None]) -> None:
        self._apps: dict[str, ASGIApp] = {k: _as_asgi(v) for k, v in explicit.items()}
        self._find = find

    def app_for(self, name: str) -> ASGIApp | None:
        if name not in self._apps:
            found = self._find(name)
            if found is None:
                return None
            self._apps[name] = found
        return self._apps[name]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path_params"]["integration"]
        app = self.app_for(name)
        if app is None:
            response = error_response(
                404,
                f"no integration named {name!r} receives webhooks here",
                "NOT_FOUND",
            )
            await response(scope, receive, send)
            return
        child = dict(scope)
        child["root_path"] = f"{scope.get('root_path', '')}/webhooks/{name}"
        _serve_both_spellings(app, child)
        body, replay = await _buffered(receive)
        if body.lstrip()[:1] in (b"{", b"[") and nests_deeper_than(body):
            # Refused for every receiver: parsing it would exhaust the parser's recursion.
            response = error_response(
                400, f"the JSON document nests deeper than {MAX_JSON_DEPTH} levels", "BAD_REQUEST"
            )
            await response(scope, receive, send)
            return
        await app(child, replay, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request's body (bounded by the gateway's body size limit), and a ``receive`` that
    hands it on unchanged."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _serve_both_spellings(app: ASGIApp, scope: Scope) -> None:
    """Route ``…/name`` and ``…/name/`` (and any path with or without its final slash) alike.

    A Starlette app would answer the spelling its routes lack with a redirect, and webhook
    senders do not follow redirects: every delivery would be lost. ``/webhooks/name`` reaches
    the app as its root, ``/``; for a Starlette app, a path none of its routes takes is given
    to it with its final slash added or removed when a route takes that one.
    """
    path: str = scope["path"]
    if path == scope["root_path"]:
        _set_path(scope, path + "/")
        return
    routes = getattr(app, "routes", None)
    if not routes or any(route.matches(scope)[0] is not Match.NONE for route in routes):
        return
    other = path[:-1] if path.endswith("/") else path + "/"
    if other == scope["root_path"]:
        return
    trial = {**scope, "path": other}
    if any(route.matches(trial)[0] is not Match.NONE for route in routes):
        _set_path(scope, other)


def _set_path(scope: Scope, path: str) -> None:
    raw = scope.get("raw_path")
    if raw is not None:
        scope["raw_path"] = raw + b"/" if path.endswith("/") else raw.rstrip(b"/")
    scope["path"] = path
