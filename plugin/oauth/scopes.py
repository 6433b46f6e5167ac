"""The scopes this server grants. Features register theirs with words a person understands."""

from __future__ import annotations

SCOPES: dict[str, str] = {}


def register_scope(name: str, description: str) -> None:
    """Make ``name`` grantable; ``description`` is shown on the consent page."""
    SCOPES[name] = description


def known_scopes(scope: str) -> list[str]:
    """Split a scope string, keeping only registered scopes, in a stable order."""
    wanted = set((scope or "").split())
    return [name for name in SCOPES if name in wanted]


def describe(scope: str) -> list[tuple[str, str]]:
    return [(name, SCOPES[name]) for name in known_scopes(scope)]
