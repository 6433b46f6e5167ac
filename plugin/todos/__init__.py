"""The sample plugin: a personal todo list, shaped as a template for your own endpoints."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.accounts.hooks import add_exporter

    # samples subscribes to reviewer_created on import.
    from plugin.todos import api, pages, samples, services  # noqa: F401

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    add_exporter(app, "todos", services.export_todos)
