"""The gateway's webhook route, built from the stored ``webhook_secret``."""

from __future__ import annotations

import time

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.integrations import IntegrationSettingsService

from ._exchange import INTEGRATION
from ._webhooks import WebhookReceiver, webhook_app

#: Seconds a secret read from the settings is reused before it is read again.
SECRET_TTL = 30.0


class StoredWebhookSecret:
    """The stored ``webhook_secret`` credential, re-read at most every ``ttl`` seconds.

    Call :meth:`refresh` (async) before a delivery; the receiver then calls the instance.
    """

    def __init__(self, settings_service: IntegrationSettingsService, ttl: float = SECRET_TTL):
        self._settings = settings_service
        self._ttl = ttl
        self._value = ""
        self._read_at = float("-inf")

    def __repr__(self) -> str:
        return "StoredWebhookSecret('***')"

    async def refresh(self) -> None:
        if time.monotonic() - self._read_at < self._ttl:
            return
        credentials = await self._settings.credentials(INTEGRATION)
        secret = credentials.get("webhook_secret")
        if isinstance(secret, SecretStr):
            secret = secret.get_secret_value()
        self._value = str(secret or "")
        self._read_at = time.monotonic()

    def __call__(self) -> str:
        return self._value


class StoredSecretWebhookApp:
    """An ASGI app: refresh the stored secret, then hand the request to :func:`webhook_app`.

    Without a stored secret every delivery's signature fails, so nothing is applied.
    """

    def __init__(self, receiver: WebhookReceiver, secret: StoredWebhookSecret) -> None:
        self._secret = secret
        self._app: ASGIApp = webhook_app(receiver)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._secret.refresh()
        await self._app(scope, receive, send)
