"""Passkey prompts for the browser, and the checks of its answers: adding one, signing in.

py_webauthn checks each answer the browser relays (``ceremonies`` keeps its challenge
single-use); this module words each refusal for the person. Functions flush; the view that
calls them commits (failures too, so a spent challenge stays spent and the audit event is
kept).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
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
from plugin.accounts.models import Passkey, User
from plugin.accounts.passkeys import (
    clean_name,
    list_passkeys,
    record_passkey_event,
    refuse_if_ruled_out,
)
from plugin.accounts.reauth import reauthentication_problem
from plugin.clock import utcnow
from plugin.database import rows_affected
from plugin.database_errors import is_unique_violation
from plugin.extensions import db

UNKNOWN = (
    "This passkey does not open an account here (it may have been removed). "
    "Log in with your email and password instead."
)
CLONED = (
    "This passkey's use counter went backwards, as happens when a passkey was copied, so it "
    "was refused. Log in with your password and remove that passkey from your account."
)
ALREADY_ADDED = "This passkey is already on an account here."


@dataclass
class SignedIn:
    user: User
    passkey: Passkey


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
    refuse_if_ruled_out(user)
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
    refuse_if_ruled_out(user)
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
