"""The confirmation page a person opens from ChatGPT, and the action status the API reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from plugin.accounts.models import User
from plugin.accounts.sessions import get_current_user, login_required
from plugin.chatgpt.openapi import api_operation
from plugin.chatgpt.urls import external_url
from plugin.confirmations import services
from plugin.confirmations.models import PendingAction
from plugin.confirmations.schemas import ActionStatusSchema
from plugin.extensions import db
from plugin.oauth.models import OAuthClient
from plugin.oauth.protect import current_token

bp = Blueprint("confirmations", __name__)

MESSAGE = (
    "Nothing has happened yet. Give the person the confirm_url link; the action runs only "
    "after they open it and press Confirm."
)


def pending_confirmation(
    operation: str, payload: dict[str, Any], user: User, client: OAuthClient | None
) -> tuple[dict[str, Any], int]:
    """Hold ``operation`` and return the 202 answer with its confirm link (the view commits)."""
    action, token = services.request_confirmation(operation, payload, user, client)
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


@bp.get("/api/actions/<action_id>")
@api_operation(
    "getActionStatus",
    summary="Read whether the person confirmed, cancelled or let expire an action (a delete).",
    description=(
        "Use after deleteTodo (or any call that answered pending_confirmation) to learn the "
        "outcome. status is pending_confirmation until the person decides on the confirm page."
    ),
    scope=None,
    responses={200: ActionStatusSchema},
    path_params={"action_id": "The action_id from the pending_confirmation answer."},
    tags=("actions",),
)
def get_action_status(action_id: str) -> PendingAction:
    action = services.find_by_public_id(action_id, current_token.user)
    if action is None:
        abort(404, "No such action.")
    return action


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@login_required
def confirm(token: str) -> Response | str:
    user = get_current_user()
    assert user is not None  # login_required
    action = services.find_by_token(token, user)
    if action is None:
        # Someone else's link looks exactly like a link that does not exist.
        abort(404)
    if request.method == "POST":
        decision = request.form.get("decision")
        if decision == "confirm":
            done = services.confirm(action, user)
        elif decision == "cancel":
            done = services.cancel(action, user)
        else:
            abort(400, "Choose Confirm or Cancel.")
        db.session.commit()
        if not done:
            flash(
                "This request was already decided or has expired; nothing more was done.", "error"
            )
        return redirect(url_for("confirmations.confirm", token=token), code=303)
    return render_template(
        "confirmations/confirm.html",
        action=action,
        status=services.api_status(action),
    )
