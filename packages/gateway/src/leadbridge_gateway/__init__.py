"""LeadBridge GraphQL gateway."""

from ._app import create_app
from ._version import __version__

__all__ = ["__version__", "create_app"]
