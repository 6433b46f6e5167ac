"""Consequential actions held until their owner confirms them on a page.

A feature registers an operation once (what it does, and how to say so in words); its API
view then calls ``request_confirmation`` instead of acting, and answers 202 with the link
from ``pending_body``. Nothing happens until the signed-in owner presses Confirm; the action
then runs exactly once, however many times the link is posted.

Services flush; the view commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from plugin.accounts.models import User
from plugin.api.urls import external_url
from plugin.audit.services import record
from plugin.clock import utcnow
from plugin.confirmations.models import PendingAction
from plugin.database import rows_affected
from plugin.digests import digest, new_secret
from plugin.extensions import db
from plugin.oauth.models import OAuthClient

# What the API reports for each stored status; "expired" is derived from expires_at.
API_STATUS = {
    "pending": "pending_confirmation",
    "confirmed": "confirmed",
    "cancelled": "cancelled",
    "failed": "failed",
}


class ActionFailed(Exception):
    """Raised by a ``perform`` function when the action can no longer be done."""


@dataclass(frozen=True)
class RegisteredAction:
    perform: Callable[[dict[str, Any], User], dict[str, Any]]
    describe: Callable[[dict[str, Any], User], str]


ACTIONS: dict[str, RegisteredAction] = {}


def register_action(
    operation: str,
    *,
    perform: Callable[[dict[str, Any], User], dict[str, Any]],
    describe: Callable[[dict[str, Any], User], str],
) -> None:
    """Make ``operation`` confirmable.

    ``perform(payload, user)`` does the work and returns a JSON-able result (raise
    ActionFailed when it cannot); ``describe(payload, user)`` says in words what will happen.
    """
    ACTIONS[operation] = RegisteredAction(perform=perform, describe=describe)


def request_confirmation(
    operation: str,
    payload: dict[str, Any],
    user: User,
    client: OAuthClient | None = None,
) -> tuple[PendingAction, str]:
    """Hold ``operation`` for ``user`` to confirm; return the action and the raw link token."""
    registered = ACTIONS[operation]
    token = new_secret()
    now = utcnow()
    action = PendingAction(
        public_id=secrets.token_hex(16),
        token_hash=digest(token),
        user_id=user.id,
        client_id=client.id if client is not None else None,
        operation=operation,
        payload=payload,
        summary=registered.describe(payload, user)[:500],
        status="pending",
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["PENDING_ACTION_TTL"]),
    )
    db.session.add(action)
    db.session.flush()
    record(
        "action.requested",
        actor=user,
        subject=f"action:{action.public_id}",
        operation=operation,
        client_id=client.client_id if client is not None else None,
    )
    return action, token


def find_by_token(token: str, user: User) -> PendingAction | None:
    """The action behind a confirm link, only for its owner (anyone else gets None)."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(
        sa.select(PendingAction).where(
            PendingAction.token_hash == digest(token), PendingAction.user_id == user.id
        )
    )


def find_by_public_id(public_id: str, user: User) -> PendingAction | None:
    if not public_id or len(public_id) > 32:
        return None
    return db.session.scalar(
        sa.select(PendingAction).where(
            PendingAction.public_id == public_id, PendingAction.user_id == user.id
        )
    )


def is_expired(action: PendingAction) -> bool:
    return action.status == "pending" and action.expires_at <= utcnow()


def api_status(action: PendingAction) -> str:
    return "expired" if is_expired(action) else API_STATUS.get(action.status, action.status)


def _claim(action: PendingAction, status: str) -> bool:
    """Move a pending, unexpired action to ``status``; False if someone else got there first."""
    now = utcnow()
    claimed = rows_affected(
        sa.update(PendingAction)
        .where(
            PendingAction.id == action.id,
            PendingAction.status == "pending",
            PendingAction.expires_at > now,
        )
        .values(status=status, decided_at=now),
        synchronize=False,
    )
    db.session.refresh(action)
    return claimed == 1


def current_summary(action: PendingAction, user: User) -> str:
    """What confirming would do now, in words: the items as they are, not as they were."""
    registered = ACTIONS.get(action.operation)
    if registered is None:
        return action.summary
    return registered.describe(dict(action.payload), user)[:500]


def summary_fingerprint(summary: str) -> str:
    """A short digest of the words a confirm page showed, sent back with its form."""
    return digest(summary)[:16]


class SummaryChanged(Exception):
    """What the action would do changed after the person's page showed it."""


def confirm(action: PendingAction, user: User, *, shown: str | None = None) -> bool:
    """Run the action once; False when it was already decided or has expired.

    ``shown`` is the fingerprint of the summary the person read; if the action would now do
    something else (the item was renamed meanwhile), SummaryChanged is raised and nothing runs.
    """
    if api_status(action) != "pending_confirmation":
        return False
    summary = current_summary(action, user)
    if shown is not None and shown != summary_fingerprint(summary):
        raise SummaryChanged(summary)
    if not _claim(action, "confirmed"):
        return False
    action.summary = summary
    registered = ACTIONS.get(action.operation)
    try:
        if registered is None:
            raise ActionFailed("This kind of action can no longer be performed.")
        result = registered.perform(dict(action.payload), user)
    except ActionFailed as error:
        action.status = "failed"
        action.result = {"error": str(error)}
    else:
        action.result = result
    record(
        "action.confirmed",
        actor=user,
        subject=f"action:{action.public_id}",
        operation=action.operation,
        outcome=action.status,
    )
    db.session.flush()
    return True


def cancel(action: PendingAction, user: User) -> bool:
    """Drop the action; False when it was already decided or has expired."""
    if not _claim(action, "cancelled"):
        return False
    record(
        "action.cancelled",
        actor=user,
        subject=f"action:{action.public_id}",
        operation=action.operation,
    )
    db.session.flush()
    return True


MESSAGE = (
    "Nothing has happened yet. Give the person the confirm_url link; the action runs only "
    "after they open it and press Confirm."
)


def pending_confirmation(
    operation: str, payload: dict[str, Any], user: User, client: OAuthClient | None
) -> tuple[dict[str, Any], int]:
    """Hold ``operation`` and return the 202 answer with its confirm link (the view commits)."""
    action, token = request_confirmation(operation, payload, user, client)
    body = {
        "status": "pending_confirmation",
        "action_id": action.public_id,
        "summary": action.summary,
        "confirm_url": external_url("confirmations.confirm", token=token),
        "status_url": external_url("confirmations.get_action_status", action_id=action.public_id),
        "expires_at": action.expires_at,
        "message": MESSAGE,
    }
    return body, 202
