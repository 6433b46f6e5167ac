"""Consequential actions held until their owner confirms them, and the confirm page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.confirmations import views
    from plugin.paths import register_paths

    app.register_blueprint(views.bp)
    register_paths(app, "credentials", prefixes=("/confirm",))
