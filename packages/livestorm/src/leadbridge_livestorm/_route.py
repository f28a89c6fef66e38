"""The gateway's webhook route, built from the stored ``webhook_secret`` and URL secret."""

from __future__ import annotations

import time
from typing import Any

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.integrations import IntegrationSettingsService

from ._exchange import INTEGRATION
from ._signing import URL_SECRET_CREDENTIAL
from ._webhooks import WebhookReceiver, webhook_app

#: Seconds stored secrets are reused before they are read again.
SECRET_TTL = 30.0


def _revealed(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return str(value or "")


class StoredWebhookSecret:
    """The stored webhook credentials, re-read at most every ``ttl`` seconds.

    Calling the instance gives the ``webhook_secret`` signed deliveries are checked with
    (empty while none is stored: the receiver then refuses every signed delivery);
    :meth:`url_secret_digest` the digest of the receiver's URL secret (``None`` without one).
    Call :meth:`refresh` (async) before a delivery.
    """

    def __init__(self, settings_service: IntegrationSettingsService, ttl: float = SECRET_TTL):
        self._settings = settings_service
        self._ttl = ttl
        self._value = ""
        self._digest = ""
        self._read_at = float("-inf")

    def __repr__(self) -> str:
        return "StoredWebhookSecret('***')"

    async def refresh(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._read_at < self._ttl:
            return
        credentials = await self._settings.credentials(INTEGRATION)
        self._value = _revealed(credentials.get("webhook_secret"))
        self._digest = _revealed(credentials.get(URL_SECRET_CREDENTIAL))
        self._read_at = time.monotonic()

    def __call__(self) -> str:
        return self._value

    def url_secret_digest(self) -> str | None:
        return self._digest or None


class StoredSecretWebhookApp:
    """An ASGI app: refresh the stored secrets, then hand the request to :func:`webhook_app`.

    Build the ``receiver`` with ``secret=stored`` and
    ``url_secret_digest=stored.url_secret_digest``. Without a stored webhook secret every
    signed delivery is refused (403); without a URL secret every ``…/<secret>`` is a 404.
    """

    def __init__(self, receiver: WebhookReceiver, secret: StoredWebhookSecret) -> None:
        self._secret = secret
        self._app: ASGIApp = webhook_app(receiver)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._secret.refresh()
        await self._app(scope, receive, send)
