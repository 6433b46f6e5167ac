"""Control characters: refused in text coming in, escaped in text going out (logs, terminals)."""

from __future__ import annotations

import re
import unicodedata

# C0 controls, DEL and C1 controls (Unicode's Cc), and lone surrogates, which no encoding can
# write: a NUL cannot even be sent to PostgreSQL, and SQLite would store any of them silently.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Multi-line text (todo notes, a list of redirect URIs) may also hold tabs and line breaks;
# browsers send a textarea's lines separated by CRLF.
CONTROL_IN_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def code_point(character: str) -> str:
    return f"U+{ord(character):04X}"


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Say why ``text`` may not be stored, or None when it may."""
    found = (CONTROL_IN_MULTILINE if multiline else CONTROL).search(text)
    if found is None:
        return None
    character = found.group()
    if "\ud800" <= character <= "\udfff":
        return f"This text is not valid Unicode (a lone surrogate, {code_point(character)})."
    if character in "\r\n" or character == "\t":
        return "Write this on one line, without line breaks or tabs."
    return f"Remove the control character {code_point(character)} from this text."


def format_character_problem(text: str) -> str | None:
    """Say why ``text`` may not name or address anything people judge by eye, or None.

    Unicode's format characters (category Cf: direction overrides such as U+202E, zero-width
    spaces and joiners, soft hyphens) are invisible or reorder what is shown, so a client
    name or a redirect URI holding one can read as something it is not (OA-32).
    """
    for character in text:
        if unicodedata.category(character) == "Cf":
            return f"Remove the invisible formatting character {code_point(character)}."
    return None


def scripts_of(text: str) -> set[str]:
    """The writing systems of the letters in ``text`` (``LATIN``, ``CYRILLIC``, ``GREEK``…),
    from each letter's Unicode name: enough to tell that a host mixes alphabets."""
    found = set()
    for character in text:
        if character.isalpha():
            name = unicodedata.name(character, "")
            found.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return found


def escape_controls(text: str) -> str:
    """Write every character a terminal or log reader would act on as a visible escape.

    Line breaks become ``\\n``, ESC becomes ``\\x1b``, direction overrides ``\\u202e``: one
    value stays on one line and cannot forge another line or recolour the terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
