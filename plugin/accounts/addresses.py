"""E-mail addresses: the one normal form that sign-up, login, the CLI and the admin share, and
what cannot be a real address.

Look-alikes must not become separate accounts: ``ＡＤＭＩＮ@example.com`` (fullwidth),
``admin@example.com.`` (the DNS root dot) and ``Admin@Example.com`` are one address. What only
deceives — invisible characters, control characters, letters of two scripts in one label
(a Cyrillic ``а`` among Latin ones) — is refused.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 254
INVALID = "Enter a valid email address."
INVISIBLE = "This address contains invisible or control characters; type it again."
MIXED_SCRIPTS = "This address mixes letters of different alphabets; type it again."

# Characters allowed in a local part besides letters, digits and marks (RFC 5322 atext).
LOCAL_SYMBOLS = frozenset("!#$%&'*+-/=?^_`{|}~.")
DOMAIN_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-)*[^\W_])?$")
# Scripts that are written together (UTS #39 "highly restrictive"): Latin with Japanese,
# Chinese or Korean.
SCRIPT_FAMILIES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)
# Letter names whose first word is not a script.
NOT_A_SCRIPT = frozenset({"MODIFIER", "KATAKANA-HIRAGANA"})


def normalize_email(email: str | None) -> str:
    """The form an address is stored and looked up in: NFKC, trimmed, lower-case, no
    trailing dot after the domain."""
    value = unicodedata.normalize("NFKC", email or "").strip()
    # Lower-casing can decompose a letter (İ); compose again so equal strings stay equal.
    value = unicodedata.normalize("NFKC", value.lower())
    local, at, domain = value.rpartition("@")
    if at and domain.endswith(".") and not domain.endswith(".."):
        value = f"{local}@{domain[:-1]}"
    return value


def legacy_form(email: str | None) -> str:
    """How addresses were stored before normalisation (trimmed, lower-case), for look-ups
    of accounts made then."""
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    """Why a normalised address cannot be accepted, or None."""
    if not email or len(email) > MAX_LENGTH:
        return INVALID
    # Cc control, Cf format (zero-width, bidi controls), Co/Cn/Cs private and unassigned.
    if any(unicodedata.category(ch)[0] == "C" for ch in email):
        return INVISIBLE
    local, at, domain = email.rpartition("@")
    if not at or not _local_ok(local) or not _domain_ok(domain):
        return INVALID
    if any(_mixes_scripts(label) for label in (*local.split("."), *domain.split("."))):
        return MIXED_SCRIPTS
    return None


def _local_ok(local: str) -> bool:
    if not local or len(local) > 64 or "@" in local:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    # Letters, marks and digits of any script, and the symbols; never a space (Z).
    return all(ch in LOCAL_SYMBOLS or unicodedata.category(ch)[0] in "LMN" for ch in local)


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253:
        return False
    return all(len(label) <= 63 and DOMAIN_LABEL.match(label) for label in labels)


def _script(ch: str) -> str | None:
    if unicodedata.category(ch)[0] != "L":
        return None  # digits, marks and symbols belong to every script
    word = unicodedata.name(ch, "").split(" ")[0]
    return None if word in NOT_A_SCRIPT else word


def _mixes_scripts(label: str) -> bool:
    scripts = {script for ch in label if (script := _script(ch))}
    if len(scripts) <= 1:
        return False
    return not any(scripts <= family for family in SCRIPT_FAMILIES)
