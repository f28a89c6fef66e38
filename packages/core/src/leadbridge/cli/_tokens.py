from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from ..tokens import ApiToken, Scope
from ._common import console, err_console, print_json, print_list, run

app = typer.Typer(help="API tokens of the GraphQL gateway.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("create")
def create_cmd(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="What the token may do (or several, comma-separated): "
            + ", ".join(s.value for s in Scope)
            + ".",
        ),
    ],
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", min=1, help="Expire after N days.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a token. Its secret is shown this once: store it now."""
    expires = timedelta(days=expires_in_days) if expires_in_days is not None else None
    issued = run(lambda c: c.token_service().create(name, scope, expires_in=expires))
    if json_:
        print_json({**issued.token.to_dict(), "token": issued.secret})
        return
    console.print(
        f"token [bold]{issued.token.id}[/bold] ({issued.token.name}) created with scopes "
        + ", ".join(s.value for s in issued.token.scopes)
    )
    # The secret alone on stdout's last line, so `| tail -1` captures it.
    err_console.print("[yellow]Copy the token now: it is not stored and cannot be shown again.[/]")
    console.print(issued.secret, highlight=False, soft_wrap=True)


@app.command("list")
def list_cmd(json_: JsonOpt = False) -> None:
    """List tokens (never their secrets)."""
    tokens: list[ApiToken] = run(lambda c: c.token_service().list())
    if json_:
        print_list(t.to_dict() for t in tokens)
        return
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "expires", "status")
    for t in tokens:
        status = "revoked" if t.revoked_at else "active" if t.is_active() else "expired"
        table.add_row(
            str(t.id),
            t.name,
            t.prefix + "…",
            ", ".join(s.value for s in t.scopes),
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "",
            status,
        )
    console.print(table)


@app.command("revoke")
def revoke_cmd(
    token_id: Annotated[int, typer.Argument(metavar="ID")], json_: JsonOpt = False
) -> None:
    """Revoke a token at once; requests that present it are refused from now on."""
    token = run(lambda c: c.token_service().revoke(token_id))
    if json_:
        print_json(token.to_dict())
    else:
        console.print(f"token [bold]{token.id}[/bold] ({token.name}) revoked")
