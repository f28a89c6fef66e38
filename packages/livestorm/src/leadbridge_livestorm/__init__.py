"""Livestorm webinars for LeadBridge."""

from ._container import LivestormContainer
from ._version import __version__

__all__ = ["LivestormContainer", "__version__"]
