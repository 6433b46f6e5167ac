"""Where each policy page's text comes from, and the facts the built-in texts state.

An operator replaces a page by writing ``<instance>/policies/<page>.md`` (Markdown; raw HTML
is shown as text). Without one, the built-in template describes what this software stores
and for how long, from the same settings the code runs on, so the page cannot drift from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup

from plugin.mail.services import OUTBOX_DAYS

PAGES = ("privacy", "terms", "support")
FOLDER = "policies"
# Shown in each page's <head>, so that `check --directory` tells an edited page from the
# built-in one over HTTP too.
SOURCE_META = "policy-source"

log = logging.getLogger(__name__)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@dataclass(frozen=True)
class PolicyText:
    """A page's operator-written body (rendered), or None for the built-in text."""

    name: str
    body: Markup | None
    path: Path

    @property
    def source(self) -> str:
        return "instance" if self.body is not None else "built-in"


def policy_path(name: str) -> Path:
    """Where the operator's text for page ``name`` lives."""
    return Path(current_app.instance_path) / FOLDER / f"{name}.md"


def policy_text(name: str) -> PolicyText:
    """The operator's text for ``name`` if they wrote one, else the built-in marker."""
    path = policy_path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PolicyText(name, None, path)
    except (OSError, UnicodeDecodeError) as error:
        # The built-in text is truthful; a page that fails to answer helps no one.
        log.error("Cannot read %s (%s); showing the built-in %s page", path, error, name)
        return PolicyText(name, None, path)
    if not text.strip():
        return PolicyText(name, None, path)
    return PolicyText(name, Markup(_markdown.render(text)), path)  # noqa: S704 - escaped by markdown-it


def duration(seconds: int) -> str:
    """``seconds`` in the largest whole unit people read easily: "30 days", "1 hour"."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def retention_facts() -> dict[str, str]:
    """How long each kind of record lives, in words, from this deployment's settings."""
    config = current_app.config
    return {
        "access_token": duration(config["ACCESS_TOKEN_TTL"]),
        "refresh_token": duration(config["REFRESH_TOKEN_TTL"]),
        "auth_code": duration(config["AUTH_CODE_TTL"]),
        "pending_action": duration(config["PENDING_ACTION_TTL"]),
        "session_idle": duration(int(current_app.permanent_session_lifetime.total_seconds())),
        "connection_trace": duration(config["CONNECTION_TRACE_DAYS"] * 86_400),
        "outbox": duration(OUTBOX_DAYS * 86_400),
        "reset_link": duration(config["FORGOT_PASSWORD_TTL"]),
        "verification_link": duration(config["EMAIL_VERIFICATION_TTL"]),
    }
