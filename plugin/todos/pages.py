"""An item's own page: the link every API answer carries, with its preview in ``<head>``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from plugin.accounts.sessions import get_current_user
from plugin.api.urls import external_url
from plugin.todos import services

bp = Blueprint("todos_pages", __name__)


@bp.get("/t/<share_token>")
def preview(share_token: str) -> str:
    todo = services.find_by_share_token(share_token)
    if todo is None:
        abort(404)
    viewer = get_current_user()
    # Link previews are fetched without a session: anyone but the owner sees the title and
    # whether it is done, never the notes or the due date.
    is_owner = viewer is not None and viewer.id == todo.user_id
    status = "Done" if todo.done else "Open"
    site = current_app.config["PLUGIN_NAME_FOR_HUMAN"]
    return render_template(
        "todos/preview.html",
        todo=todo,
        is_owner=is_owner,
        og_description=f"{status} todo in {site}.",
        og_url=external_url("todos_pages.preview", share_token=share_token),
        og_image=external_url("chatgpt.logo"),
    )
