"""Which paths are for programs, which ask for credentials, which other sites may fetch.

Each feature registers its own paths from its ``init_app``; the core's error handlers,
security headers and CORS read them here, and never list a feature's paths themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from flask import Flask, current_app

EXTENSION = "plugin.paths"
# "machine": callers are programs, errors are JSON; "credentials": a person types a password
# or grants access there (never framed, cached or referred); "cors": browsers on the listed
# origins may read it.
PathKind = Literal["machine", "credentials", "cors"]


@dataclass
class PathSet:
    prefixes: tuple[str, ...] = ()
    exact: frozenset[str] = field(default_factory=frozenset)

    def matches(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)


def register_paths(
    app: Flask, kind: PathKind, *, prefixes: tuple[str, ...] = (), exact: tuple[str, ...] = ()
) -> None:
    """Mark paths starting with ``prefixes``, and the ``exact`` ones, as ``kind`` on ``app``."""
    registry: dict[str, PathSet] = app.extensions.setdefault(EXTENSION, {})
    current = registry.setdefault(kind, PathSet())
    current.prefixes = tuple(dict.fromkeys(current.prefixes + prefixes))
    current.exact = current.exact | frozenset(exact)


def is_path(kind: PathKind, path: str) -> bool:
    """Tell whether ``path`` was registered as ``kind`` on the current app."""
    paths: PathSet | None = current_app.extensions.get(EXTENSION, {}).get(kind)
    return paths is not None and paths.matches(path)
