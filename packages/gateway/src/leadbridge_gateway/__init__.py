"""LeadBridge GraphQL gateway: a Strawberry schema on Starlette over LeadBridge core."""

from ._app import create_app
from ._container import GatewayContainer
from ._context import GatewayContext, GatewayServices
from ._errors import (
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    QueryTooComplexError,
    ServiceUnavailableError,
    UnauthenticatedError,
)
from ._schema import GatewaySchema, build_schema
from ._settings import GatewaySettings
from ._version import __version__

__all__ = [
    "BadUserInputError",
    "ForbiddenError",
    "GatewayContainer",
    "GatewayContext",
    "GatewayError",
    "GatewaySchema",
    "GatewayServices",
    "GatewaySettings",
    "QueryTooComplexError",
    "ServiceUnavailableError",
    "UnauthenticatedError",
    "__version__",
    "build_schema",
    "create_app",
]
