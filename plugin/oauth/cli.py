"""``flask clients …``: the client_id/secret pairs pasted into ChatGPT."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from plugin.database import commit
from plugin.oauth.clients.manage import (
    ClientError,
    client_as_dict,
    create_client,
    delete_client,
    find_client,
    list_clients,
    rotate_client_secret,
    set_client_disabled,
    update_client,
)
from plugin.oauth.clients.registration import prune_self_made_clients
from plugin.oauth.models import OAuthClient
from plugin.oauth.services import active_grant_counts
from plugin.terminal import echo

clients = AppGroup(
    "clients", help="Manage OAuth clients (the client_id/secret pasted into ChatGPT)."
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _load(ref: str) -> OAuthClient:
    client = find_client(ref)
    if client is None:
        raise click.ClickException(f"No client with id {ref!r} (see `flask clients list`).")
    return client


def _print_secret(client: OAuthClient, secret: str, as_json: bool, heading: str) -> None:
    if as_json:
        fields = {"client_id": client.client_id, "client_secret": secret, "name": client.name}
        click.echo(
            json.dumps({**fields, "redirect_uris": client.redirect_uris, "scope": client.scope})
        )
        return
    base = (current_app.config["PLUGIN_BASE_URL"] or "https://<your host>").rstrip("/")
    echo(heading)
    click.echo(f"  client_id:      {client.client_id}")
    click.echo(f"  client_secret:  {secret}")
    click.echo("The secret is shown only now; store it where ChatGPT's settings are kept.")
    click.echo("In ChatGPT's OAuth settings:")
    click.echo(f"  Authorization URL: {base}/oauth/authorize")
    click.echo(f"  Token URL:         {base}/oauth/token")
    click.echo(f"  Scope:             {client.scope}")


@clients.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Exact callback URL ChatGPT shows (repeat for several).",
)
@click.option(
    "--scope", default=None, help="Space-separated scopes (default: every scope the app offers)."
)
@click.option("--public", is_flag=True, help="A public client (no secret, PKCE required).")
@json_option
def create(
    name: str, redirect_uris: tuple[str, ...], scope: str, public: bool, as_json: bool
) -> None:
    """Register a client and print its client_id and secret (shown once)."""
    try:
        client, secret = create_client(name, list(redirect_uris), scope, public=public)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    commit()
    if secret is None:
        click.echo(
            json.dumps(client_as_dict(client))
            if as_json
            else f"Created public client {client.client_id} (no secret; PKCE S256 required)."
        )
        return
    _print_secret(client, secret, as_json, f"Created client {client.name!r}.")


@clients.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List clients with their redirect URIs and active grants."""
    counts = active_grant_counts()
    rows = [client_as_dict(c, active_grants=counts.get(c.id, 0)) for c in list_clients()]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(
            "No clients yet. Create one with `flask clients create --name … --redirect-uri …`."
        )
        return
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        echo(
            f"{row['client_id']}  {row['name']}  [{state}, {row['kind']}]  "
            f"grants={row['active_grants']}  last_token={row['last_used_at'] or 'never'}  "
            f"scope={row['scope']!r}  redirect_uris={' '.join(row['redirect_uris'])}"
        )


@clients.command("show")
@click.argument("client_ref")
@json_option
def show(client_ref: str, as_json: bool) -> None:
    """Show one client (never its secret)."""
    client = _load(client_ref)
    row = client_as_dict(client, active_grants=active_grant_counts().get(client.id, 0))
    if as_json:
        click.echo(json.dumps(row))
        return
    for key, value in row.items():
        if isinstance(value, list):
            value = " ".join(value)
        echo(f"{key + ':':15} {value}")


@clients.command("set-scope")
@click.argument("client_ref")
@click.argument("scope")
def set_scope(client_ref: str, scope: str) -> None:
    """Change the scopes a client may be granted; narrowing cuts its live tokens down too."""
    client = _load(client_ref)
    try:
        update_client(client, scope=scope)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    commit()
    click.echo(f"{client.name!r} ({client.client_id}) may now be granted: {client.scope}")


@clients.command("rotate-secret")
@click.argument("client_ref")
@json_option
def rotate_secret(client_ref: str, as_json: bool) -> None:
    """Issue a new secret; the old one stops working at once."""
    client = _load(client_ref)
    try:
        secret = rotate_client_secret(client)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    commit()
    _print_secret(
        client, secret, as_json, f"New secret for {client.name!r} (the old one no longer works)."
    )


@clients.command("prune")
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Remove self-registered clients with no token for this many days.",
)
@json_option
def prune(unused_days: int, as_json: bool) -> None:
    """Delete self-made clients (dynamic registrations, metadata documents) that never got a
    token or went unused for N days."""
    removed = prune_self_made_clients(unused_days)
    commit()
    if as_json:
        click.echo(json.dumps({"removed": removed, "unused_days": unused_days}))
    else:
        click.echo(
            f"Removed {removed} unused self-made client(s) (dynamic or metadata-document, "
            f"unused for {unused_days}+ days)."
        )


def _simple(name: str, action: Callable[[OAuthClient], Any], done: str, help_text: str) -> None:
    @clients.command(name, help=help_text)
    @click.argument("client_ref")
    def command(client_ref: str) -> None:
        client = _load(client_ref)
        label = f"{client.name!r} ({client.client_id})"
        action(client)
        commit()
        click.echo(f"{done} {label}.")


_simple(
    "disable",
    lambda c: set_client_disabled(c, True),
    "Disabled",
    "Stop a client: its tokens stop working and it cannot sign anyone in.",
)
_simple(
    "enable", lambda c: set_client_disabled(c, False), "Enabled", "Re-enable a disabled client."
)
_simple("delete", delete_client, "Deleted", "Delete a client, revoking every token and consent.")
