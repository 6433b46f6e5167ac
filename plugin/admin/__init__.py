"""The operator's pages: clients, users, settings and the audit log."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.admin import passkey_gate, views
    from plugin.paths import register_paths

    app.register_blueprint(views.bp)
    passkey_gate.init_app(app)
    register_paths(app, "credentials", prefixes=("/admin",))
