"""The confirmation page a person opens from ChatGPT, and the action status the API reports."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from plugin.accounts.sessions import get_current_user, login_required
from plugin.api.operations import ApiBlueprint, api_operation
from plugin.confirmations import services
from plugin.confirmations.models import PendingAction
from plugin.confirmations.schemas import ActionStatusSchema
from plugin.database import commit
from plugin.oauth.resources.protect import current_token

bp = ApiBlueprint("confirmations", __name__)


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
            try:
                done = services.confirm(action, user, shown=request.form.get("shown", ""))
            except services.SummaryChanged as changed:
                flash(
                    f"This request changed since the page was shown; it now reads: {changed} "
                    "Nothing was done. Read it again, then confirm or cancel.",
                    "error",
                )
                return redirect(url_for("confirmations.confirm", token=token), code=303)
        elif decision == "cancel":
            done = services.cancel(action, user)
        else:
            abort(400, "Choose Confirm or Cancel.")
        commit()
        if not done:
            flash(
                "This request was already decided or has expired; nothing more was done.", "error"
            )
        return redirect(url_for("confirmations.confirm", token=token), code=303)
    status = services.api_status(action)
    # A pending action is described as it would happen now; a decided one as it was decided.
    summary = services.current_summary(action, user) if status == "pending_confirmation" else None
    return render_template(
        "confirmations/confirm.html",
        action=action,
        status=status,
        summary=summary or action.summary,
        shown=services.summary_fingerprint(summary) if summary else "",
    )
