"""The lint registry that ``flask check`` runs: each feature adds a check of what it serves.

A check is given a fetch function (URL -> text, raising ``FetchError``) and the origin, and
returns ``Finding``s, which the command prints alike whichever feature found them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

CHECKS = "plugin.checks"


@dataclass(frozen=True)
class Finding:
    """One line of ``flask check``: an ``error`` fails it, a ``warning`` or ``info`` does not."""

    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


class FetchError(Exception):
    """A document could not be fetched; the message says which and why."""


Fetch = Callable[[str], str]
ExtraCheck = Callable[[Fetch, str], list[Finding]]


def register_check(app: Flask, check: ExtraCheck) -> None:
    """Have ``flask check`` also run ``check`` (each feature lints its own surface)."""
    app.extensions.setdefault(CHECKS, []).append(check)


def registered_checks(app: Flask) -> list[ExtraCheck]:
    """The checks features registered, in registration order."""
    return list(app.extensions.get(CHECKS, []))
