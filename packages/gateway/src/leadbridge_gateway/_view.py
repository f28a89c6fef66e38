"""The GraphQL endpoint: Strawberry's ASGI view with our context, auth and JSON errors."""

from __future__ import annotations

import json
import logging
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ._context import GatewayContext, GatewayServices
from ._errors import UnauthenticatedError
from ._graphiql import graphiql_page

log = logging.getLogger("leadbridge.gateway")


def error_response(status: int, message: str, code: str) -> JSONResponse:
    """A GraphQL-shaped error document for requests that never reached execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


#: The longest close reason a WebSocket frame carries (RFC 6455: 125 bytes less the code).
_MAX_CLOSE_REASON = 123


class _WebSocket(ASGIWebSocketAdapter):
    """Closes a refused connection (4403) with the reason ``on_ws_connect`` gave."""

    async def close(self, code: int, reason: str) -> None:
        if code == 4403:
            reason = getattr(self.ws.state, "rejection", None) or reason
        await super().close(code, reason)


class GraphQLView(GraphQL[GatewayContext, None]):
    """``/graphql`` over HTTP (GET for queries, POST) and websockets (graphql-transport-ws).

    Only graphql-transport-ws is offered: the legacy ``graphql-ws`` protocol carries
    subscriptions only, so a client offering both (Python ``gql``'s default) would pick it
    and then fail every query. Refused at the handshake, such clients fall back.
    """

    websocket_adapter_class = _WebSocket

    def __init__(
        self,
        schema: BaseSchema,
        services: GatewayServices,
        *,
        graphiql: bool,
        allowed_origins: tuple[str, ...] = (),
        graphiql_token: str | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.services = services
        self._graphiql_token = graphiql_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        context = GatewayContext(
            self.services, authorization=request.headers.get("authorization"), request=request
        )
        try:
            response = await self.run(request, context=context)
        except HTTPException as exc:
            response = error_response(
                exc.status_code, exc.reason, _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            )
        finally:
            await context.close()  # before answering: the connection goes back to the pool
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        doc = json.loads(data)
        # A JSON body that is not an object (a number, a string) is a bad request, not a crash.
        if not isinstance(doc, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        if isinstance(doc, list) and not all(isinstance(d, dict) for d in doc):
            raise HTTPException(400, "a batch must be a list of JSON objects")
        return doc

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        # Only websocket connections get here (HTTP requests build theirs in __call__); they
        # live long, so their reads do not share a session.
        return GatewayContext(
            self.services,
            authorization=request.headers.get("authorization"),
            request=request,
            response=response,
            shared_reads=False,
        )

    async def on_ws_connect(self, context: GatewayContext) -> Any:
        # Authenticate the connection once; each operation still checks its scopes.
        try:
            await context.token()
        except UnauthenticatedError as exc:
            log.info("websocket connection refused: %s", exc.message)
            reason = exc.message.encode()[:_MAX_CLOSE_REASON].decode(errors="ignore")
            context.request.state.rejection = reason
            raise ConnectionRejectionError() from exc
        return await super().on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(
            request.url_for("graphiql_static", name="").path, token=self._graphiql_token
        )
