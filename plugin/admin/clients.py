"""Admin pages for OAuth clients: the client ID and secret an operator pastes into ChatGPT."""

from __future__ import annotations

from flask import current_app, flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from plugin.accounts.reauth import reauthentication_for, reauthentication_problem
from plugin.accounts.sessions import admin_required, get_current_user, signed_in_user
from plugin.admin import reveal
from plugin.admin.common import bp, no_store, see_other
from plugin.admin.forms import ClientForm, ConfirmForm, ReauthForm
from plugin.admin.setup import client_setup
from plugin.audit.services import record
from plugin.config import text_setting
from plugin.connections.queries import count_failed
from plugin.database import commit
from plugin.extensions import db, limiter
from plugin.oauth.clients.manage import (
    ClientError,
    create_client,
    delete_client,
    list_clients,
    rotate_client_secret,
    set_client_disabled,
    update_client,
)
from plugin.oauth.models import OAuthClient
from plugin.oauth.scopes import scopes
from plugin.oauth.services import active_grant_counts

CLIENT_GROUPS = (
    ("registered", "Registered here"),
    ("dynamic", "Registered themselves (dynamic registration)"),
    ("metadata-document", "Client ID Metadata Documents"),
)
WRONG_PASSWORD = "Your password is not correct; the secret was not changed."  # noqa: S105
SECRET_SHOWN_ONCE = (
    "The secret was shown once and cannot be shown again. If it was not copied, "  # noqa: S105
    "rotate it to get a new one."
)


def _client_or_404(client_id: int) -> OAuthClient:
    return db.get_or_404(OAuthClient, client_id, description="There is no client with this id.")


def _show_secret_once(client: OAuthClient, secret: str, *, rotated: bool) -> ResponseReturnValue:
    # Post/redirect/get: reloading the page that shows the secret repeats no POST.
    reveal.stash(f"client-secret:{client.id}", secret, rotated=rotated)
    return see_other(url_for("admin.client_secret", client_id=client.id))


@bp.get("/clients/<int:client_id>/secret")
@admin_required
def client_secret(client_id: int) -> ResponseReturnValue:
    """The one page that ever shows a client's secret, with what to paste where in ChatGPT."""
    client = _client_or_404(client_id)
    revealed = reveal.take(f"client-secret:{client.id}")
    if revealed is None:
        flash(SECRET_SHOWN_ONCE, "error")
        return see_other(url_for("admin.client_detail", client_id=client.id))
    secret, facts = revealed
    page = render_template(
        "admin/client_secret.html",
        client=client,
        secret=secret,
        rotated=bool(facts.get("rotated")),
        setup=client_setup(client),
    )
    return no_store(current_app.make_response(page))


@bp.get("/clients")
@admin_required
def clients() -> ResponseReturnValue:
    everyone = list_clients()
    groups = [
        (title, [client for client in everyone if client.kind == kind])
        for kind, title in CLIENT_GROUPS
    ]
    return render_template("admin/clients.html", groups=groups, grants=active_grant_counts())


@bp.route("/clients/new", methods=["GET", "POST"])
@admin_required
def client_new() -> ResponseReturnValue:
    form = ClientForm(data={"scopes": list(scopes())})
    if form.validate_on_submit():
        try:
            client, secret = create_client(
                form.name.data,
                form.redirect_uri_list(),
                form.scope_string(),
                public=bool(form.public.data),
                actor=get_current_user(),
            )
        except ClientError as error:
            db.session.rollback()
            # Name and scopes were checked by the form; what remains is about the URIs.
            form.redirect_uris.errors.append(str(error))
        else:
            commit()
            if secret is None:
                flash(
                    "The public client is created: it has no secret, PKCE is required.", "success"
                )
                return see_other(url_for("admin.client_detail", client_id=client.id))
            return _show_secret_once(client, secret, rotated=False)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/client_new.html", form=form), status


def _detail_page(
    client: OAuthClient,
    *,
    form: ClientForm | None = None,
    reauth: ReauthForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    if form is None:
        form = ClientForm(
            data={
                "name": client.name,
                "redirect_uris": "\n".join(client.redirect_uris),
                "scopes": client.scope.split(),
            }
        )
    return (
        render_template(
            "admin/client.html",
            client=client,
            form=form,
            reauth=reauth or ReauthForm(),
            reauthentication=reauthentication_for(
                signed_in_user(), url_for("admin.client_detail", client_id=client.id)
            ),
            button=ConfirmForm(),
            grants=active_grant_counts().get(client.id, 0),
            error=error,
            setup=client_setup(client),
            failed_connections=count_failed(client.client_id),
        ),
        status,
    )


@bp.get("/clients/<int:client_id>")
@admin_required
def client_detail(client_id: int) -> ResponseReturnValue:
    return _detail_page(_client_or_404(client_id))


@bp.post("/clients/<int:client_id>/edit")
@admin_required
def client_update(client_id: int) -> ResponseReturnValue:
    client = _client_or_404(client_id)
    form = ClientForm()
    if form.validate_on_submit():
        try:
            update_client(
                client,
                name=form.name.data,
                redirect_uris=form.redirect_uri_list(),
                scope=form.scope_string(),
                actor=get_current_user(),
            )
        except ClientError as error:
            db.session.rollback()
            form.redirect_uris.errors.append(str(error))
        else:
            commit()
            flash("The client is saved.", "success")
            return see_other(url_for("admin.client_detail", client_id=client.id))
    return _detail_page(_client_or_404(client_id), form=form, status=400)


@bp.post("/clients/<int:client_id>/rotate-secret")
@admin_required
@limiter.limit(
    text_setting("LOGIN_RATE_LIMIT"),
    key_func=get_remote_address,
    scope="admin-reauth-ip",
)
def client_rotate_secret(client_id: int) -> ResponseReturnValue:
    client = _client_or_404(client_id)
    admin = signed_in_user()
    reauth = ReauthForm()
    if not reauth.validate_on_submit():
        return _detail_page(client, reauth=reauth, status=400)
    problem = reauthentication_problem(admin, reauth.password.data, wrong=WRONG_PASSWORD)
    if problem:
        record(
            "client.secret_rotation_refused",
            actor=admin,
            subject=f"client:{client.client_id}",
            reason="wrong password" if admin.has_password else "no recent passkey sign-in",
        )
        commit()
        reauth.password.errors.append(problem)
        return _detail_page(client, reauth=reauth, status=400)
    try:
        secret = rotate_client_secret(client, actor=admin)
    except ClientError as error:
        db.session.rollback()
        return _detail_page(_client_or_404(client_id), error=str(error), status=409)
    commit()
    return _show_secret_once(client, secret, rotated=True)


@bp.post("/clients/<int:client_id>/disable")
@admin_required
def client_disable(client_id: int) -> ResponseReturnValue:
    client = _client_or_404(client_id)
    set_client_disabled(client, True, actor=get_current_user())
    commit()
    flash(f"{client.name} is disabled: its tokens stop working and nobody can connect.", "success")
    return see_other(url_for("admin.client_detail", client_id=client.id))


@bp.post("/clients/<int:client_id>/enable")
@admin_required
def client_enable(client_id: int) -> ResponseReturnValue:
    client = _client_or_404(client_id)
    set_client_disabled(client, False, actor=get_current_user())
    commit()
    flash(f"{client.name} is enabled again.", "success")
    return see_other(url_for("admin.client_detail", client_id=client.id))


@bp.route("/clients/<int:client_id>/delete", methods=["GET", "POST"])
@admin_required
def client_delete(client_id: int) -> ResponseReturnValue:
    client = _client_or_404(client_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = client.name
        delete_client(client, actor=get_current_user())
        commit()
        flash(f"{name} is deleted; every token and consent it held is gone.", "success")
        return see_other(url_for("admin.clients"))
    return render_template(
        "admin/client_delete.html",
        client=client,
        form=form,
        grants=active_grant_counts().get(client.id, 0),
    )
