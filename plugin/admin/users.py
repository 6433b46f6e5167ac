"""Admin pages for people: search, disable/enable, admin rights, password-reset links."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue

from plugin.accounts.models import User
from plugin.accounts.passkeys import passkey_counts
from plugin.accounts.services import (
    AccountError,
    create_password_reset,
    set_admin,
    set_disabled,
)
from plugin.accounts.sessions import admin_required, get_current_user, signed_in_user
from plugin.admin import reveal
from plugin.admin.common import bp, no_store, query_int, see_other
from plugin.admin.forms import ConfirmForm
from plugin.admin.queries import search_users
from plugin.api.urls import external_url
from plugin.database import commit
from plugin.extensions import db

PER_PAGE = 25


@bp.get("/users")
@admin_required
def users() -> ResponseReturnValue:
    search = "".join(ch for ch in request.args.get("q", "") if ord(ch) >= 32).strip()[:254]
    number = query_int(request.args.get("page"), 1) or 1
    page = search_users(search, page=number, per_page=PER_PAGE)
    passkeys = passkey_counts([user.id for user in page.items])
    return render_template("admin/users.html", page=page, search=search, passkeys=passkeys)


def _user_page(user: User, *, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/user.html",
            user=user,
            passkeys=passkey_counts([user.id]).get(user.id, 0),
            form=ConfirmForm(),
            error=error,
            me=get_current_user(),
        ),
        status,
    )


@bp.get("/users/<int:user_id>")
@admin_required
def user_detail(user_id: int) -> ResponseReturnValue:
    return _user_page(db.get_or_404(User, user_id))


def _change(user_id: int, change: Callable[[User, User], None], done: str) -> ResponseReturnValue:
    """Apply ``change(user, actor)``, then 303; a refused change shows the page with why."""
    # CSRFProtect has already refused a missing or foreign token before this runs.
    user = db.get_or_404(User, user_id)
    actor = signed_in_user()
    try:
        change(user, actor)
    except AccountError as error:
        db.session.rollback()
        return _user_page(db.get_or_404(User, user_id), error=str(error), status=409)
    commit()
    flash(done.format(email=user.email), "success")
    if user.id == actor.id and (user.is_disabled or not user.is_admin):
        # Admins who took their own rights away can no longer see the admin pages.
        return see_other(url_for("accounts.account"))
    return see_other(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@admin_required
def user_disable(user_id: int) -> ResponseReturnValue:
    def change(user: User, actor: User) -> None:
        if user.id == actor.id:
            raise AccountError("You cannot disable your own account; ask another admin.")
        set_disabled(user, True, actor=actor)

    return _change(user_id, change, "{email} is disabled; their sessions and tokens have ended.")


@bp.post("/users/<int:user_id>/enable")
@admin_required
def user_enable(user_id: int) -> ResponseReturnValue:
    return _change(
        user_id, lambda user, actor: set_disabled(user, False, actor=actor), "{email} is enabled."
    )


@bp.post("/users/<int:user_id>/admin")
@admin_required
def user_grant_admin(user_id: int) -> ResponseReturnValue:
    return _change(
        user_id, lambda user, actor: set_admin(user, True, actor=actor), "{email} is now an admin."
    )


@bp.post("/users/<int:user_id>/admin/remove")
@admin_required
def user_remove_admin(user_id: int) -> ResponseReturnValue:
    return _change(
        user_id,
        lambda user, actor: set_admin(user, False, actor=actor),
        "{email} is no longer an admin.",
    )


@bp.post("/users/<int:user_id>/reset-link")
@admin_required
def user_reset_link(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    token = create_password_reset(user, ttl_seconds=ttl, actor=get_current_user())
    commit()
    # Post/redirect/get: reloading the page that shows the link makes no second link.
    reveal.stash(f"reset-link:{user.id}", external_url("accounts.reset_password", token=token))
    return see_other(url_for("admin.user_reset_link_page", user_id=user.id))


@bp.get("/users/<int:user_id>/reset-link")
@admin_required
def user_reset_link_page(user_id: int) -> ResponseReturnValue:
    """The one page that ever shows a reset link."""
    user = db.get_or_404(User, user_id)
    revealed = reveal.take(f"reset-link:{user.id}")
    if revealed is None:
        flash("A reset link is shown only once. If it was lost, make a new one.", "error")
        return see_other(url_for("admin.user_detail", user_id=user.id))
    link, _ = revealed
    hours = current_app.config["PASSWORD_RESET_TTL"] / 3600
    page = render_template("admin/reset_link.html", user=user, link=link, hours=hours)
    return no_store(current_app.make_response(page))
