"""What is ChatGPT's alone: the manifest, the served OpenAPI document, CORS, context headers,
operator settings and ``check``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.chatgpt import views

    views.init_app(app)
