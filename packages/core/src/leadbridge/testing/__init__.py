"""Test support for LeadBridge and for plugin authors (see :mod:`leadbridge.testing.plugin`)."""

from ._database import backend_from_env, create_database, drop_database, truncate_all

__all__ = ["backend_from_env", "create_database", "drop_database", "truncate_all"]
