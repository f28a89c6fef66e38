"""Test support for LeadBridge and for plugin authors.

* :mod:`leadbridge.testing.plugin` — pytest fixtures (``container``, databases);
* :class:`MemoryIntegration` — the in-memory reference integration;
* :mod:`leadbridge.testing.contract` — the contract suite every data exchange should pass.
"""

from ._database import backend_from_env, create_database, drop_database, truncate_all
from ._memory_integration import (
    MEMORY_FIELDS,
    MEMORY_OBJECT,
    MEMORY_OPTIONS,
    MemoryExchange,
    MemoryIntegration,
    MemoryRecord,
    define_memory_fields,
)
from ._oauth_server import OAuthTestServer, ScriptedResponse

__all__ = [
    "MEMORY_FIELDS",
    "MEMORY_OBJECT",
    "MEMORY_OPTIONS",
    "MemoryExchange",
    "MemoryIntegration",
    "MemoryRecord",
    "OAuthTestServer",
    "ScriptedResponse",
    "backend_from_env",
    "create_database",
    "define_memory_fields",
    "drop_database",
    "truncate_all",
]
