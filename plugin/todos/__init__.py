"""The sample plugin: a personal todo list, shaped as a template for your own endpoints."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.todos import api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
