"""The ``livestorm_webhook`` job: a worker applies a delivery the receiver stored and queued."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from leadbridge.jobs import BaseJobKind, FatalJobError, RetriableJobError

from ._webhooks import WEBHOOK_JOB, WebhookError, WebhookReceiver


class WebhookJob(BaseJobKind):
    """Applies one queued delivery (``arguments["body"]``: its raw body, base64).

    On PostgreSQL the receiver stores a delivery and defers this job in one transaction;
    the worker applies it in a transaction of its own. Any failure keeps nothing and is
    retried with the queue's backoff (a busy database, a point action that failed); a body
    that cannot be read again is fatal.
    """

    name = WEBHOOK_JOB

    def __init__(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver

    async def run(self, arguments: Mapping[str, Any]) -> str | None:
        try:
            raw_body = base64.b64decode(str(arguments["body"]), validate=True)
        except (KeyError, binascii.Error) as exc:
            raise FatalJobError("the queued Livestorm delivery carries no body") from exc
        try:
            result = await self._receiver.process(raw_body)
        except WebhookError as exc:
            raise FatalJobError(f"the queued Livestorm delivery is unreadable: {exc}") from exc
        except Exception as exc:
            raise RetriableJobError(
                f"the Livestorm delivery could not be applied ({type(exc).__name__}); retried"
            ) from exc
        return f"{result.event}: {result.outcome} ({result.detail})"
