"""What ChatGPT tells the API about the conversation, read once per request into ``g``.

The request log line names the conversation and the ephemeral user (plugin/logs.py reads
the same headers); the API reads the person's region through ``plugin.api.context``, where
this module registers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, g

from plugin.api.context import register_region_reader
from plugin.web import request_header

# ISO 3166-2: a country, a dash and one to three letters or digits, e.g. "US-CA", "FR-75".
SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class ChatGPTContext:
    conversation_id: str | None = None
    ephemeral_user_id: str | None = None
    subdivision: str | None = None


def init_app(app: Flask) -> None:
    app.before_request(_read_context)
    register_region_reader(app, _region)


def chatgpt_context() -> ChatGPTContext:
    """This request's context; empty outside ChatGPT's calls."""
    if "chatgpt" not in g:
        _read_context()
    context: ChatGPTContext = g.chatgpt
    return context


def _region() -> str | None:
    return chatgpt_context().subdivision


def _read_context() -> None:
    g.chatgpt = ChatGPTContext(
        conversation_id=_header("openai-conversation-id", SANE_ID),
        ephemeral_user_id=_header("openai-ephemeral-user-id", SANE_ID),
        subdivision=_header("openai-subdivision-1-iso-code", SUBDIVISION),
    )


def _header(name: str, pattern: re.Pattern[str]) -> str | None:
    # Anything malformed is treated as absent: these headers end up in logs and answers.
    value = request_header(name).strip()
    return value if pattern.fullmatch(value) else None
