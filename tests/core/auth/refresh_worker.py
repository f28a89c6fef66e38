"""One worker process of the shared-token test: an OAuth provider on the stored token.

Run as a script (``python refresh_worker.py``) with the database in ``LEADBRIDGE_*`` and the
authorization server in ``OAUTH_*`` environment variables. It prints ``ready``, waits for a
line on stdin (so that every worker starts its requests together), makes three API requests,
and prints one JSON line: the statuses and a digest of the token it ended with (never the
token itself), or the error it met.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys

from dependency_injector import providers

from leadbridge import CoreContainer, LeadBridgeError
from leadbridge.auth import ClientIdSecret, OAuth2AuthorizationCodeAuth
from leadbridge.container import shutdown
from leadbridge.http import create_client
from leadbridge.settings import Settings

INTEGRATION = "example"


def digest(secret: str | None) -> str:
    return hashlib.sha256((secret or "").encode()).hexdigest()


async def work() -> dict[str, object]:
    container = CoreContainer(settings=providers.Object(Settings.from_env()))
    try:
        auth = OAuth2AuthorizationCodeAuth(
            ClientIdSecret(os.environ["OAUTH_CLIENT_ID"], os.environ["OAUTH_CLIENT_SECRET"]),
            authorize_url=os.environ["OAUTH_AUTHORIZE_URL"],
            token_url=os.environ["OAUTH_TOKEN_URL"],
            redirect_uri="https://app.example.com/callback",
            store=container.integration_settings_service().token_store(INTEGRATION),
            integration=INTEGRATION,
        )
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        statuses = []
        try:
            async with create_client(base_url=os.environ["OAUTH_API_URL"], auth=auth) as client:
                for _ in range(3):
                    statuses.append((await client.get("/api/me")).status_code)
            token = await auth.get_token()
        except LeadBridgeError as exc:
            return {"statuses": statuses, "error": f"{type(exc).__name__}: {exc}"}
        return {"statuses": statuses, "token": digest(token.access_token)}
    finally:
        await shutdown(container)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(work())), flush=True)
