"""Connection traces: each authorization attempt, step by step, until its first API call.

Core-level like ``audit``: the OAuth feature notes steps here (``services.note``); the
admin page and ``flask connections`` read them (``queries``). Nothing here imports a feature.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register: steps are saved through ``plugin.database.write_apart``."""
