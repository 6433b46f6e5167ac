"""Name a browser and its system from a User-Agent header: "Firefox on Windows".

A few ordered patterns instead of a parsing library: the pages only need a name a person
recognises (no versions, no device models), and a table of browsers and systems this small
needs no regex database to keep up to date. Order matters: Edge and Opera also say "Chrome",
Chrome also says "Safari", Android also says "Linux".
"""

from __future__ import annotations

import re

BROWSERS = (
    ("ChatGPT", r"ChatGPT-User|OpenAI"),
    ("Claude", r"Claude-User|Anthropic"),
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Version/[\d.]+.*Safari/"),
    ("curl", r"^curl/"),
    ("Python", r"python-requests|aiohttp|httpx|Python-urllib"),
)
SYSTEMS = (
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
)


def _first(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    return next((name for name, pattern in table if re.search(pattern, text)), None)


def describe_user_agent(user_agent: str | None) -> str:
    """A short, human name for the browser and system in ``user_agent``."""
    text = (user_agent or "").strip()
    if not text:
        return "Unknown browser"
    browser, system = _first(BROWSERS, text), _first(SYSTEMS, text)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown browser"
