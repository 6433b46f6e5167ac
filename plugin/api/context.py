"""What the calling client says about the person: today, the region they are in.

Each client reports it in its own way (ChatGPT in its ``openai-subdivision-1-iso-code`` header,
read by ``plugin.chatgpt.context``). The client's feature registers a reader here, and the API's
operations ask ``caller_region()`` without knowing, or importing, which client called.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

EXTENSION = "plugin.api.region_readers"

RegionReader = Callable[[], "str | None"]


def register_region_reader(app: Flask, reader: RegionReader) -> None:
    """Let ``reader`` answer ``caller_region()`` for this app's requests."""
    app.extensions.setdefault(EXTENSION, []).append(reader)


def caller_region() -> str | None:
    """The person's region (ISO 3166-2, e.g. ``US-CA``) as the calling client reports it."""
    readers: list[RegionReader] = current_app.extensions.get(EXTENSION, [])
    for reader in readers:
        region = reader()
        if region:
            return region
    return None
