from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from leadbridge.integrations import BasePluginContainer
from leadbridge.sync import BatchSynced

from ._batch import AwardChanges, LivestormBatchWriter
from ._cli import register
from ._contact_data import contact_data
from ._demo import LivestormDemo
from ._exchange import LivestormExchange
from ._filters import segment_filters
from ._integration import LivestormIntegration
from ._points import point_action_types
from ._route import StoredSecretWebhookApp, StoredWebhookSecret
from ._store import LivestormStore
from ._webhook_job import WebhookJob
from ._webhooks import WebhookReceiver

#: The plugin's Alembic version directory (branch label ``livestorm``).
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


class LivestormContainer(BasePluginContainer):
    """The Livestorm plugin's container; core mounts it with its own providers as ``core``."""

    core = providers.DependenciesContainer()

    #: The plugin API version this release was built for: core refuses to load the plugin if
    #: it speaks another major version.
    plugin_api = providers.Object("1.0")
    integration = providers.Singleton(LivestormIntegration)
    migrations = providers.Object(MIGRATIONS)
    cli = providers.Object(register)

    store = providers.Singleton(LivestormStore)
    #: Core's points service, handed over as its provider: core builds it from the plugins'
    #: point action types, this plugin's too, so it cannot be built while they are read.
    points = providers.Delegate(core.points_service)
    #: Awards point actions for registrations written outside a pull (webhooks, push).
    award_changes = providers.Singleton(AwardChanges, points=points)
    exchange = providers.Singleton(
        LivestormExchange,
        settings_service=core.integration_settings_service,
        session_factory=core.session_factory,
        store=store,
        on_registered=award_changes,
    )
    batch_writer = providers.Singleton(LivestormBatchWriter, store=store, points=points)
    event_subscribers = providers.List(
        providers.Callable(lambda writer: (BatchSynced, writer), batch_writer)
    )
    segment_filters = providers.Callable(segment_filters)
    point_action_types = providers.Callable(point_action_types)
    contact_data = providers.Callable(contact_data)

    webhook_secret = providers.Singleton(
        StoredWebhookSecret, settings_service=core.integration_settings_service
    )
    webhook_receiver = providers.Singleton(
        WebhookReceiver,
        secret=webhook_secret,
        url_secret_digest=webhook_secret.provided.url_secret_digest,
        session_factory=core.session_factory,
        contact_service=core.contact_service,
        store=store,
        on_changes=award_changes,
        # Handed over as its provider: the queue is built from the job kinds, this one's too.
        job_queue=providers.Delegate(core.job_queue),
    )
    #: PostgreSQL: a worker applies the deliveries the receiver stored and queued.
    job_kinds = providers.List(providers.Singleton(WebhookJob, receiver=webhook_receiver))
    #: The gateway mounts it at ``/webhooks/livestorm`` (signed deliveries) and
    #: ``/webhooks/livestorm/<url secret>`` (unsigned ones, :mod:`._signing`).
    webhook_app = providers.Singleton(
        StoredSecretWebhookApp, receiver=webhook_receiver, secret=webhook_secret
    )
    #: ``leadbridge demo``: the fake Livestorm server with a seeded workspace.
    demo = providers.Factory(LivestormDemo)
