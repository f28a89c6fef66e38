"""Errors the gateway returns on purpose, each with ``extensions.code``.

Any other exception raised while resolving is masked as ``INTERNAL_SERVER_ERROR``; its details
go to the ``leadbridge.gateway`` log only.
"""

from __future__ import annotations

from graphql import GraphQLError


class GatewayError(GraphQLError):
    """Base of the errors shown to clients as they are."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class UnauthenticatedError(GatewayError):
    """No valid API token: send ``Authorization: Bearer <token>``."""

    code = "UNAUTHENTICATED"


class ForbiddenError(GatewayError):
    """The token lacks the scope the field needs; create one with that scope."""

    code = "FORBIDDEN"


class BadUserInputError(GatewayError):
    """An argument is out of range or malformed (a cursor, an ID, ``first``)."""

    code = "BAD_USER_INPUT"


class ServiceUnavailableError(GatewayError):
    """The database is busy (a lock held too long): retry after ``extensions.retryAfter`` s."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code, "retryable": True, "retryAfter": retry_after}


class QueryTooComplexError(GatewayError):
    """The query could return more nodes than the gateway allows."""

    code = "QUERY_TOO_COMPLEX"
