"""A fake Livestorm for tests, demos and benchmarks: a real HTTP server on loopback.

::

    from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace

    with FakeLivestorm(generate_workspace(seed=7, people=1_000)) as fake:
        client = httpx.Client(base_url=fake.base_url, headers=fake.auth_headers)
        client.get("/sessions", params={"page[size]": 50})

See the package README, section "Trying the integration without a Livestorm account".
"""

from ._app import BodyFault, TaskShape
from ._generator import generate_workspace
from ._growth import Growth
from ._server import (
    DEFAULT_TOKEN,
    DEFAULT_WEBHOOK_SECRET,
    FakeLivestorm,
    RecordedRequest,
    Scopes,
    WebhookDelivery,
)
from ._serving import LoopbackServer
from ._store import (
    DEFAULT_NOW,
    WEBHOOK_EVENTS,
    EventRecord,
    FormField,
    JobRecord,
    PersonRecord,
    RegistrationConflictError,
    RegistrationRecord,
    SessionRecord,
    TaskRecord,
    WebhookRecord,
    Workspace,
    default_form,
)

__all__ = [
    "DEFAULT_NOW",
    "DEFAULT_TOKEN",
    "DEFAULT_WEBHOOK_SECRET",
    "WEBHOOK_EVENTS",
    "BodyFault",
    "EventRecord",
    "FakeLivestorm",
    "FormField",
    "Growth",
    "JobRecord",
    "LoopbackServer",
    "PersonRecord",
    "RecordedRequest",
    "RegistrationConflictError",
    "RegistrationRecord",
    "Scopes",
    "SessionRecord",
    "TaskRecord",
    "TaskShape",
    "WebhookDelivery",
    "WebhookRecord",
    "Workspace",
    "default_form",
    "generate_workspace",
]
