"""People: accounts, server-side sessions, the sign-up, login and account pages, the CLI."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.accounts import (
        data_views,
        email_views,
        passkey_views,
        recovery_views,
        sessions,
        upstream,
        views,
    )
    from plugin.accounts.hooks import add_account_panel
    from plugin.accounts.pages import pending_next
    from plugin.paths import register_paths

    for module in (views, recovery_views, email_views, data_views, passkey_views):
        app.register_blueprint(module.bp)
    # First among the account page's sections from features: it is how the person signs in.
    add_account_panel(app, passkey_views.passkeys_panel)
    # Second: the other ways in, from the providers people already have accounts with.
    upstream.init_app(app)
    register_paths(app, "machine", exact=passkey_views.JSON_PATHS)
    app.context_processor(
        lambda: {
            "current_user": sessions.current_user_for_templates(),
            "pending_next": pending_next(),
        }
    )
    register_paths(
        app,
        "credentials",
        prefixes=(
            "/login",
            "/signup",
            "/logout",
            "/account",
            "/reset",
            "/forgot-password",
            "/verify-email",
        ),
    )
