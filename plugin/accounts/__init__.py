"""People: accounts, server-side sessions, the sign-up, login and account pages, the CLI.

Names: a module that adds routes is ``<thing>_views.py``, named for the pages it serves
(``signin_views``, ``account_views``, ``recovery_views``, ``email_views``, ``data_views``,
``passkey_views``), each with its own blueprint except that sign-in and the account page share
``accounts``; what the views share (that blueprint, answering a form, the pending ``next``
target, wording) is ``view_helpers.py``. The other modules are services and models, named for
what they hold. ``upstream/`` follows the same rule.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.accounts import (  # noqa: F401 - account_views and signin_views add routes
        account_views,
        data_views,
        email_views,
        passkey_views,
        recovery_views,
        sessions,
        signin_views,
        upstream,
        view_helpers,
    )
    from plugin.accounts.hooks import add_account_panel
    from plugin.accounts.view_helpers import pending_next
    from plugin.paths import register_paths

    for module in (view_helpers, recovery_views, email_views, data_views, passkey_views):
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
