"""What ChatGPT reads: the manifest, the operation registry and OpenAPI document, CORS,
context headers and ``check``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.chatgpt import views

    views.init_app(app)
