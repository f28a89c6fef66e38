"""The root of core's exception hierarchy.

Branches say what a caller does next:

* :class:`ValidationError` — bad input; fix it and retry. Nothing was written.
* :class:`NotFoundError` — the thing named does not exist.
* :class:`ConflictError` — the write collides with stored data (a duplicate email).
* :class:`ConfigurationError` — the installation is wrong (settings, plugins, database).
"""

from __future__ import annotations

from typing import Any


class LeadBridgeError(Exception):
    """Root of every error LeadBridge raises on purpose."""

    code: str = "LEADBRIDGE_ERROR"


class ValidationError(LeadBridgeError, ValueError):
    """Input that cannot be stored. ``field`` names the culprit, ``value`` is what was given."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFoundError(LeadBridgeError, LookupError):
    code = "NOT_FOUND"


class ConflictError(LeadBridgeError):
    code = "CONFLICT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigurationError(LeadBridgeError):
    code = "CONFIGURATION"
