"""Passkeys (WebAuthn): adding one to an account, signing in with one, renaming, removing.

py_webauthn checks each answer the browser relays (``ceremonies`` keeps its challenge
single-use); this module stores the credentials and words each refusal for the person.
Functions flush; the view that calls them commits (failures too, so a spent challenge stays
spent and the audit event is kept).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from plugin.accounts.ceremonies import (
    BAD_ANSWER,
    UNREADABLE,
    PasskeyError,
    check_client_data,
    credential_object,
    finish_ceremony,
    relying_party,
    start_ceremony,
)
from plugin.accounts.hooks import passkey_refusal
from plugin.accounts.models import Passkey, User
from plugin.accounts.reauth import reauthentication_problem
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.database import is_unique_violation, rows_affected
from plugin.extensions import db
from plugin.text import text_problem
from plugin.useragents import describe_user_agent

NAME_LENGTH = 100

UNKNOWN = (
    "This passkey does not open an account here (it may have been removed). "
    "Log in with your email and password instead."
)
CLONED = (
    "This passkey's use counter went backwards, as happens when a passkey was copied, so it "
    "was refused. Log in with your password and remove that passkey from your account."
)
ALREADY_ADDED = "This passkey is already on an account here."
LAST_WAY_IN = (
    "This is your account's only passkey and it has no password, so removing it would lock "
    "you out. Set a password or add another passkey first."
)


@dataclass
class SignedIn:
    user: User
    passkey: Passkey


def clean_name(name: object) -> str:
    """The name a person gives a passkey, or one naming this browser; PasskeyError if unusable."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        return f"Passkey on {describe_user_agent(request.user_agent.string)}"[:NAME_LENGTH]
    problem = text_problem(text)
    if problem is None and len(text) > NAME_LENGTH:
        problem = f"Use at most {NAME_LENGTH} characters."
    if problem:
        raise PasskeyError(problem, "bad_name", field="name")
    return text


def list_passkeys(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            sa.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
        )
    )


def has_passkeys(user: User) -> bool:
    return (
        db.session.scalar(sa.select(Passkey.id).where(Passkey.user_id == user.id).limit(1))
        is not None
    )


def passkey_counts(user_ids: list[int]) -> dict[int, int]:
    """How many passkeys each of these accounts has (those with none are left out)."""
    rows = db.session.execute(
        sa.select(Passkey.user_id, sa.func.count(Passkey.id))
        .where(Passkey.user_id.in_(user_ids))
        .group_by(Passkey.user_id)
    )
    return {user_id: count for user_id, count in rows}


def find_passkey(user: User, passkey_id: int) -> Passkey | None:
    """``user``'s passkey ``passkey_id``, or None (also when it is someone else's)."""
    return db.session.scalar(
        sa.select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
    )


def _refuse_if_ruled_out(user: User) -> None:
    refusal = passkey_refusal(user)
    if refusal:
        raise PasskeyError(refusal, "ruled_out", user=user)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    known = {transport.value for transport in AuthenticatorTransport}
    words = (passkey.transports or "").split()
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id),
        transports=[AuthenticatorTransport(word) for word in words if word in known] or None,
    )


def registration_options(user: User, name: object, password: object) -> dict[str, Any]:
    """The options for ``navigator.credentials.create()``, once the person proved again who
    they are (``reauth``), as removing one asks: a passkey outlives the session and the
    password, so a borrowed session must not plant one. The name waits in the session."""
    problem = reauthentication_problem(user, password if isinstance(password, str) else None)
    if problem:
        raise PasskeyError(problem, "password", field="password")
    _refuse_if_ruled_out(user)
    name = clean_name(name)
    existing = list_passkeys(user)
    handle = existing[0].user_handle if existing else secrets.token_bytes(32)
    challenge = start_ceremony("register", user.id, handle=bytes_to_base64url(handle), name=name)
    return creation_options(user.email, handle, challenge, existing)


def creation_options(
    email: str, handle: bytes, challenge: bytes, existing: list[Passkey]
) -> dict[str, Any]:
    """The options that make a passkey for the account ``email`` (WebAuthn user ``handle``)."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["PLUGIN_NAME_FOR_HUMAN"],
        user_id=handle,
        user_name=email,
        user_display_name=email,
        challenge=challenge,
        timeout=current_app.config["PASSKEY_CHALLENGE_TTL"] * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in existing],
    )
    return options_to_json_dict(options)


def add_passkey(user: User, credential: object) -> Passkey:
    """Check the browser's answer to ``registration_options`` and keep the new passkey."""
    kept = finish_ceremony("register", user.id)
    _refuse_if_ruled_out(user)
    passkey = verified_passkey(kept, credential, user)
    passkey.user_id = user.id
    try:
        # A savepoint keeps the request's transaction usable for the failure's audit event.
        with db.session.begin_nested():
            db.session.add(passkey)
            db.session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise PasskeyError(ALREADY_ADDED, "duplicate", user=user) from None
        raise
    record_passkey_event("user.passkey_added", user, passkey)
    return passkey


def verified_passkey(kept: dict[str, str], credential: object, user: User | None) -> Passkey:
    """The passkey the browser's answer to the spent challenge ``kept`` makes, not yet
    stored (nor given an account); PasskeyError if the answer does not hold."""
    challenge = base64url_to_bytes(kept["challenge"])
    rp_id, origin = relying_party()
    try:
        parsed = parse_registration_credential_json(credential_object(credential))
    except UNREADABLE:
        raise PasskeyError(BAD_ANSWER, "unreadable", user=user) from None
    check_client_data(parsed.response.client_data_json, challenge, origin)
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except UNREADABLE:
        raise PasskeyError(BAD_ANSWER, "invalid", user=user) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > 1400:
        raise PasskeyError(BAD_ANSWER, "invalid", user=user)
    transports = " ".join(t.value for t in parsed.response.transports or [])
    return Passkey(
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports[:255] or None,
        user_handle=base64url_to_bytes(kept["handle"]),
        name=kept.get("name") or clean_name(None),
    )


def sign_in_options() -> dict[str, Any]:
    """Options for ``navigator.credentials.get()`` that let the browser offer any passkey of
    this site: no email needed (discoverable credentials)."""
    rp_id, _origin = relying_party()
    challenge = start_ceremony("login", None)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=current_app.config["PASSKEY_CHALLENGE_TTL"] * 1000,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json_dict(options)


def verify_sign_in(credential: object) -> SignedIn:
    """The account whose passkey signed this browser's challenge; PasskeyError otherwise."""
    challenge = base64url_to_bytes(finish_ceremony("login", None)["challenge"])
    rp_id, origin = relying_party()
    try:
        parsed = parse_authentication_credential_json(credential_object(credential))
    except UNREADABLE:
        raise PasskeyError(BAD_ANSWER, "unreadable") from None
    check_client_data(parsed.response.client_data_json, challenge, origin)
    passkey = db.session.scalar(
        sa.select(Passkey).where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id))
    )
    handle = parsed.response.user_handle
    if passkey is None or (handle is not None and handle != passkey.user_handle):
        raise PasskeyError(UNKNOWN, "unknown_passkey")
    user = db.session.get(User, passkey.user_id)
    if user is None or user.is_disabled:
        raise PasskeyError(UNKNOWN, "disabled", user=user)
    try:
        # The counter is checked below, by the library's rule, once the signature is known
        # to be good: a bad answer is never reported as a copied passkey.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
        )
    except UNREADABLE:
        raise PasskeyError(BAD_ANSWER, "invalid", user=user) from None
    new_count = verified.new_sign_count
    # py_webauthn's rule, applied in the UPDATE so two answers at once cannot both pass: a
    # counter only grows, and an authenticator that keeps none always says 0.
    grows = Passkey.sign_count < new_count if new_count > 0 else Passkey.sign_count == 0
    counted = rows_affected(
        sa.update(Passkey)
        .where(Passkey.id == passkey.id, grows)
        .values(sign_count=new_count, last_used_at=utcnow()),
        synchronize=False,
    )
    if counted != 1:
        raise PasskeyError(CLONED, "sign_count", user=user)
    db.session.refresh(passkey)
    return SignedIn(user, passkey)


def rename_passkey(user: User, passkey: Passkey, name: str) -> None:
    old = passkey.name
    passkey.name = clean_name(name)
    record_passkey_event("user.passkey_renamed", user, passkey, old_name=old)
    db.session.flush()


def remove_passkey(user: User, passkey: Passkey, password: str) -> None:
    """Remove ``passkey`` once the person proved again who they are (``reauth``); never the
    last passkey of an account without a password, which would then have no way in."""
    problem = reauthentication_problem(user, password)
    if problem:
        raise PasskeyError(problem, "password", field="password")
    _refuse_if_ruled_out(user)
    # Two removals at once must not each leave the other passkey as "the last one": the
    # account's row is locked first (PostgreSQL; SQLite runs one writer at a time) and the
    # DELETE itself re-checks that another passkey remains.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    statement = sa.delete(Passkey).where(Passkey.id == passkey.id)
    if not user.has_password:
        another = aliased(Passkey)
        statement = statement.where(
            sa.select(another.id)
            .where(another.user_id == user.id, another.id != passkey.id)
            .exists()
        )
    if rows_affected(statement, synchronize=False) != 1 and not user.has_password:
        raise PasskeyError(LAST_WAY_IN, "last_passkey", field="password")
    record_passkey_event("user.passkey_removed", user, passkey)
    db.session.expunge(passkey)


def record_passkey_event(event: str, user: User, passkey: Passkey, **details: Any) -> None:
    record(
        event,
        actor=user,
        subject=f"user:{user.id}",
        passkey_id=passkey.id,
        name=passkey.name,
        **details,
    )
