"""``leadbridge livestorm …``: check credentials, manage webhook subscriptions.

Registered with core's CLI through the ``leadbridge.cli`` entry point group (:func:`register`).
The token and base URL come from ``--token``/``--base-url`` or ``LIVESTORM_API_TOKEN`` /
``LIVESTORM_BASE_URL``; without a token, from the integration's stored credentials/settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import SecretStr
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from leadbridge import LeadBridgeError
from leadbridge.cli import console, fail, print_json, print_list

from ._client import DEFAULT_BASE_URL, LivestormClient
from ._errors import LivestormPermissionError
from ._models import Organization, Webhook
from ._signing import URL_SECRET_CREDENTIAL, new_url_secret, url_secret_digest
from ._webhooks import HANDLED_EVENTS

T = TypeVar("T")

TOKEN_ENV = "LIVESTORM_API_TOKEN"
BASE_URL_ENV = "LIVESTORM_BASE_URL"

app = typer.Typer(
    name="livestorm",
    help="Livestorm: check the API token, manage webhook subscriptions.",
    no_args_is_help=True,
)
webhooks_app = typer.Typer(
    help="Livestorm webhook subscriptions and how the receiver authenticates deliveries; "
    "without a command, the receiver's state.",
    invoke_without_command=True,
)
app.add_typer(webhooks_app, name="webhooks")

TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help="The workspace's private API token (sent raw).",
        show_default=False,
    ),
]
BaseUrlOption = Annotated[
    str, typer.Option("--base-url", envvar=BASE_URL_ENV, help="The Livestorm API base URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def register(root: typer.Typer) -> None:
    """Add ``leadbridge livestorm`` to the ``leadbridge`` command."""
    root.add_typer(app, name="livestorm")


async def _stored(base_url: str) -> tuple[str | None, str]:
    """The token and base URL stored for ``livestorm`` (``leadbridge integrations configure``)."""
    from leadbridge.cli import container
    from leadbridge.container import shutdown

    core = container()
    try:
        service = core.integration_settings_service()
        credentials = await service.credentials("livestorm")
        stored = await service.get("livestorm")
    except (LeadBridgeError, SQLAlchemyError, OSError):
        # Nothing usable is stored (no database yet, or not configured): say what to pass.
        return None, base_url
    finally:
        await shutdown(core)
    token = credentials.get("api_token")
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    if base_url == DEFAULT_BASE_URL and stored.settings.get("base_url"):
        base_url = str(stored.settings["base_url"])
    return (str(token) if token else None), base_url


def _run(token: str | None, base_url: str, body: Callable[[LivestormClient], Awaitable[T]]) -> T:
    async def main() -> T:
        nonlocal token, base_url
        if not token or not token.strip():
            # No --token: use what is stored for the integration.
            token, base_url = await _stored(base_url)
        if not token or not token.strip():
            fail(
                f"no Livestorm API token: pass --token, set {TOKEN_ENV}, or store one with "
                "`leadbridge integrations configure livestorm --secret api_token`"
            )
        # CLI commands are what the quota reserve is kept for: they may use it.
        async with LivestormClient(api_token=token, base_url=base_url, quota_reserve=0) as client:
            return await body(client)

    try:
        return asyncio.run(main())
    except LeadBridgeError as exc:
        fail(str(exc), exc)
    except OSError as exc:
        fail(f"{type(exc).__name__}: {exc}", exc)


def _webhook_dict(hook: Webhook, **extra: Any) -> dict[str, Any]:
    return {
        "id": hook.id,
        "event": hook.event,
        "url": hook.url,
        "created_at": hook.created_at.isoformat() if hook.created_at else None,
        **extra,
    }


@app.command("ping")
def ping(
    token: TokenOption = None,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Check the API token: GET /ping, then the workspace's name when the token may read it."""

    async def body(client: LivestormClient) -> dict[str, Any]:
        await client.ping()
        organization: Organization | None = None
        # Without the Identity scope the name is not readable; the ping alone proves the token.
        with contextlib.suppress(LivestormPermissionError):
            organization = await client.organization()
        return {
            "ok": True,
            "base_url": client.base_url,
            "organization": (
                {"id": organization.id, "name": organization.name, "slug": organization.slug}
                if organization
                else None
            ),
            "quota": client.quota.to_dict(),
        }

    report = _run(token, base_url, body)
    if as_json:
        print_json(report)
        return
    org = report["organization"]
    where = f"workspace {org['name']} ({org['slug']})" if org else "workspace name not readable"
    console.print(
        f"[green]ok[/green] Livestorm token accepted at {report['base_url']}: {where}",
        soft_wrap=True,
    )
    quota = report["quota"]
    if quota["monthly_remaining"] is not None:
        console.print(
            f"{quota['monthly_remaining']:,} of {quota['monthly_limit']:,} monthly API calls left"
        )


@webhooks_app.command("subscribe")
def subscribe(
    url: Annotated[str, typer.Argument(help="The receiver's public URL.")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="A webhook event to subscribe (default: every event LeadBridge applies).",
            show_default=False,
        ),
    ] = None,
    token: TokenOption = None,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Subscribe URL to webhook events; subscriptions that already exist are kept."""
    events = list(dict.fromkeys(event or HANDLED_EVENTS))

    async def body(client: LivestormClient) -> list[dict[str, Any]]:
        existing = {(hook.event, hook.url): hook async for hook in client.webhooks()}
        rows = []
        for name in events:
            hook = existing.get((name, url))
            if hook is not None:
                rows.append(_webhook_dict(hook, status="existing"))
            else:
                rows.append(_webhook_dict(await client.create_webhook(name, url), status="created"))
        return rows

    rows = _run(token, base_url, body)
    if as_json:
        print_list(rows)
        return
    if not asyncio.run(_receiver_state())["signed"]["accepted"]:
        console.print(f"[yellow]warning:[/yellow] {_REFUSED}", soft_wrap=True)
    table = Table("event", "id", "status")
    for row in rows:
        table.add_row(row["event"], row["id"], row["status"])
    console.print(table)


@webhooks_app.command("list")
def list_webhooks(
    token: TokenOption = None,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    as_json: JsonOption = False,
) -> None:
    """List the workspace's webhook subscriptions."""

    async def body(client: LivestormClient) -> list[dict[str, Any]]:
        return [_webhook_dict(hook) async for hook in client.webhooks()]

    rows = _run(token, base_url, body)
    if as_json:
        print_list(rows)
        return
    if not rows:
        console.print("no webhook subscriptions")
        return
    table = Table("id", "event", "url")
    for row in rows:
        table.add_row(row["id"], row["event"], row["url"])
    console.print(table)


@webhooks_app.command("delete")
def delete_webhook(
    webhook_id: Annotated[str, typer.Argument(metavar="ID", help="The subscription's id.")],
    token: TokenOption = None,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
) -> None:
    """Delete a webhook subscription."""

    async def body(client: LivestormClient) -> None:
        await client.delete_webhook(webhook_id)

    _run(token, base_url, body)
    console.print(f"deleted webhook {webhook_id}", soft_wrap=True)


# -- the receiver: how deliveries are authenticated ----------------------------------------

_REFUSED = (
    "the receiver refuses every signed delivery until a webhook secret is stored: "
    "`leadbridge integrations configure livestorm --secret webhook_secret`"
)


async def _stored_credentials() -> dict[str, Any]:
    from leadbridge.cli import container
    from leadbridge.container import shutdown

    core = container()
    try:
        return await core.integration_settings_service().credentials("livestorm")
    except (LeadBridgeError, SQLAlchemyError, OSError):
        return {}
    finally:
        await shutdown(core)


async def _receiver_state() -> dict[str, Any]:
    credentials = await _stored_credentials()
    return {
        "signed": {
            "path": "/webhooks/livestorm",
            "accepted": bool(credentials.get("webhook_secret")),
        },
        "url_secret": {
            "path": "/webhooks/livestorm/<url secret>",
            "accepted": bool(credentials.get(URL_SECRET_CREDENTIAL)),
        },
    }


@webhooks_app.callback()
def receiver_state(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Without a command: which deliveries the gateway's receiver accepts, and why."""
    if ctx.invoked_subcommand is not None:
        return
    state = asyncio.run(_receiver_state())
    if as_json:
        print_json(state)
        return
    signed, unsigned = state["signed"], state["url_secret"]
    console.print(f"Signed deliveries (webhooks created through the API), POST {signed['path']}:")
    if signed["accepted"]:
        console.print("  [green]accepted[/green]: checked against the stored webhook secret")
    else:
        console.print(f"  [red]refused[/red]: {_REFUSED}", soft_wrap=True)
    console.print(
        f"Unsigned deliveries (Livestorm's Webhooks app), POST {unsigned['path']}:",
        soft_wrap=True,
    )
    if unsigned["accepted"]:
        console.print(
            "  [green]accepted[/green] at the secret URL shown when it was made "
            "(`leadbridge livestorm webhooks rotate-url-secret` makes a new one)",
            soft_wrap=True,
        )
    else:
        console.print(
            "  [red]off[/red]: make a secret URL with "
            "`leadbridge livestorm webhooks rotate-url-secret`",
            soft_wrap=True,
        )


@webhooks_app.command("rotate-url-secret")
def rotate_url_secret(
    public_url: Annotated[
        str,
        typer.Option(
            "--public-url",
            help="The gateway's public address, to print the whole receiver URL.",
        ),
    ] = "https://<gateway>",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Remove the URL secret: no unsigned delivery.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make a new secret URL for unsigned deliveries (the old one stops working); shown once.

    Only its SHA-256 is stored. The gateway reads it again within 30 seconds.
    """
    secret = None if revoke else new_url_secret()

    async def store() -> None:
        from leadbridge.cli import container
        from leadbridge.container import shutdown

        core = container()
        try:
            digest = None if secret is None else url_secret_digest(secret)
            await core.integration_settings_service().configure(
                "livestorm", credentials={URL_SECRET_CREDENTIAL: digest}
            )
        finally:
            await shutdown(core)

    try:
        asyncio.run(store())
    except LeadBridgeError as exc:
        fail(str(exc), exc)
    except (SQLAlchemyError, OSError) as exc:
        fail(f"{type(exc).__name__}: {exc}", exc)
    url = None if secret is None else f"{public_url.rstrip('/')}/webhooks/livestorm/{secret}"
    if as_json:
        print_json({"url": url, "revoked": revoke})
        return
    if url is None:
        console.print("URL secret removed: unsigned deliveries are refused (404)")
        return
    console.print("Receiver URL for Livestorm's Webhooks app (shown once, keep it secret):")
    console.print(url, soft_wrap=True, markup=False, highlight=False)
