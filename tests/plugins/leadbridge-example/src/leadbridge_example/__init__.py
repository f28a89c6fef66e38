"""An example LeadBridge integration: what core's tests install through real entry points."""

from ._container import ExampleContainer
from ._integration import ExampleCredentials, ExampleIntegration, ExampleSettings
from ._widgets import SEEN_CONTACTS, WidgetRepository

__all__ = [
    "SEEN_CONTACTS",
    "ExampleContainer",
    "ExampleCredentials",
    "ExampleIntegration",
    "ExampleSettings",
    "WidgetRepository",
]
