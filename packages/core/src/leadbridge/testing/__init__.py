"""Test support for LeadBridge and for plugin authors (see :mod:`leadbridge.testing.plugin`)."""

from ._database import backend_from_env, create_database, drop_database, truncate_all
from ._oauth_server import OAuthTestServer, ScriptedResponse

__all__ = [
    "OAuthTestServer",
    "ScriptedResponse",
    "backend_from_env",
    "create_database",
    "drop_database",
    "truncate_all",
]
