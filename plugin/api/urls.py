"""Absolute URLs for endpoints, on the public origin (``plugin.web.public_url``)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from plugin.web import public_url


def base_url() -> str:
    """The public origin without a trailing slash, e.g. ``https://todo.example.com``."""
    return public_url()


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for`` made absolute on the public origin."""
    return public_url(url_for(endpoint, _external=False, **values))
