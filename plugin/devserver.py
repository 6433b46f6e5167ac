"""``flask dev``: one command from a fresh checkout to a running server with a demo client."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import make_url
from werkzeug.serving import run_simple

from plugin.database import commit
from plugin.oauth.clients.manage import create_client, find_client, rotate_client_secret
from plugin.oauth.models import OAuthClient

DEMO_REDIRECT_URI = "https://chat.openai.com/aip/plugin-demo/oauth/callback"


def ensure_demo_client() -> tuple[OAuthClient, str | None]:
    """The demo client and its secret, kept in the instance folder (development only)."""
    path = Path(current_app.instance_path) / "demo-client.json"
    saved: dict[str, str] = {}
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            saved = {}
    client = find_client(saved.get("client_id", "")) if saved.get("client_id") else None
    if client is None:
        client, secret = create_client("ChatGPT (demo)", [DEMO_REDIRECT_URI])
    elif client.check_client_secret(saved.get("client_secret")):
        secret = saved["client_secret"]
    else:
        secret = rotate_client_secret(client)
    commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"client_id": client.client_id, "client_secret": secret}))
    path.chmod(0o600)
    return client, secret


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5003, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Migrate and print the demo client, then exit.")
@with_appcontext
def dev(host: str, port: int, no_serve: bool) -> None:
    """Migrate, make sure a demo client exists, and serve on http://localhost:5003."""
    # Under the reloader this runs twice; the child process only serves.
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        if not no_serve and not _port_is_free(host, port):
            raise click.ClickException(
                f"Port {port} on {host} is already in use (another server running?); "
                "stop it or pass --port."
            )
        upgrade()
        client, secret = ensure_demo_client()
        base = (current_app.config["PLUGIN_BASE_URL"] or f"http://localhost:{port}").rstrip("/")
        database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string()
        click.echo(
            f"""
Database ready: {database}

Manifest:       {base}/.well-known/ai-plugin.json
OpenAPI:        {base}/openapi.yaml
Demo OAuth client (kept in {Path(current_app.instance_path) / "demo-client.json"}):
  client_id:     {client.client_id}
  client_secret: {secret}
  redirect URIs: {", ".join(client.redirect_uris)}

Next:
  - create an admin:  flask --app plugin users create you@example.com --admin
  - sign in at {base}/login; the admin area is {base}/admin/
  - ChatGPT needs a public https address: put a tunnel or proxy in front, set
    PLUGIN_BASE_URL, and register the redirect URI ChatGPT shows (see docs/chatgpt-setup.md).
"""
        )
    if no_serve:
        return
    # Flask refuses app.run() inside its own CLI, so serve with Werkzeug directly.
    run_simple(
        host,
        port,
        current_app._get_current_object(),  # type: ignore[attr-defined]
        use_reloader=current_app.debug,
        use_debugger=current_app.debug,
        threaded=True,
    )


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
