"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 8
MAX_LENGTH = 1024  # bytes of work are bounded; nothing is ever truncated below this

# OWASP's Argon2id minimum: 19 MiB of memory, 2 iterations, 1 lane.
PRODUCTION_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Argon2's cheapest parameters, for apps built with TESTING: the suite makes thousands of
# accounts, and at production cost their hashing was a large share of its time. A test pins
# the production parameters (WL-01); a hash verifies whatever parameters made it.
TESTING_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


def _hasher() -> PasswordHasher:
    testing = has_app_context() and current_app.testing
    return TESTING_HASHER if testing else PRODUCTION_HASHER


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A hash to verify against when an email is unknown, so that an unknown email and a
    wrong password take the same time."""
    return _dummy_hash(_hasher())


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password-for-timing-only")


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Return why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (12 or more is better)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _common_passwords():
        return "This password is too common. Choose something less predictable."
    if email and password.lower() == email.strip().lower():
        return "Don't use your email address as your password."
    return None
