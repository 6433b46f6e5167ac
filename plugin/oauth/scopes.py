"""The scopes an app grants. Features register theirs, with words a person understands.

Scopes belong to the app, not the process: two apps in one process (tests, tools) each
know only what was registered on them.
"""

from __future__ import annotations

from flask import Flask, current_app

EXTENSION = "plugin.scopes"


def register_scope(app: Flask, name: str, description: str) -> None:
    """Make ``name`` grantable on ``app``; ``description`` is shown on the consent page."""
    app.extensions.setdefault(EXTENSION, {})[name] = description


def scopes(app: Flask | None = None) -> dict[str, str]:
    """Every scope registered on ``app`` (default: the current app), in registration order."""
    found: dict[str, str] = (app or current_app).extensions.get(EXTENSION, {})
    return found


def known_scopes(scope: str) -> list[str]:
    """Split a scope string, keeping only registered scopes, in a stable order."""
    wanted = set((scope or "").split())
    return [name for name in scopes() if name in wanted]


def describe(scope: str) -> list[tuple[str, str]]:
    """Each known scope of ``scope`` with the words shown for it."""
    registered = scopes()
    return [(name, registered[name]) for name in known_scopes(scope)]


def ordered(names: set[str] | list[str]) -> str:
    """The registered scopes among ``names``, space-separated in registration order."""
    wanted = set(names)
    return " ".join(name for name in scopes() if name in wanted)
