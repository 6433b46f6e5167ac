"""The OAuth 2 authorization server: clients, codes, tokens, consent and the CLI."""

from __future__ import annotations

import logging

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.accounts.hooks import add_account_panel, add_destination_namer, add_exporter
    from plugin.oauth import connected_apps, discovery, services, views  # noqa: F401 - routes
    from plugin.oauth.server import authorization
    from plugin.oauth.traces import calls  # noqa: F401 - listens to the resource guards
    from plugin.paths import register_paths

    authorization.init_app(app)
    if app.config["OAUTH_CIMD_ALLOW_LOOPBACK"]:
        logging.getLogger("plugin.oauth").warning(
            "OAUTH_CIMD_ALLOW_LOOPBACK is on: client metadata documents may be fetched from "
            "loopback addresses over plain http. Use it for development and tests only."
        )
    app.register_blueprint(views.bp)
    add_account_panel(app, connected_apps.connected_apps_panel)
    add_destination_namer(app, connected_apps.app_asking)
    add_exporter(app, "connected_apps", services.export_connected_apps)
    # Clients call these with credentials: JSON errors. People sign in and consent at /oauth/.
    register_paths(
        app,
        "machine",
        prefixes=(
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/introspect",
            "/oauth/register",
            "/.well-known/oauth-protected-resource",
        ),
        exact=("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"),
    )
    register_paths(app, "credentials", prefixes=("/oauth/",))
