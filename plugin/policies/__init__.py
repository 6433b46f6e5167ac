"""The public privacy, terms and support pages: truthful built-in texts the operator may
replace with their own (``<instance>/policies/<page>.md``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.policies import views

    app.register_blueprint(views.bp)
