"""What the OAuth feature adds to the account pages: connected apps, and the app waiting
behind a login."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from plugin.accounts.models import User
from plugin.accounts.sessions import get_current_user, login_required
from plugin.database import commit
from plugin.extensions import db
from plugin.oauth.clients.manage import find_client
from plugin.oauth.models import OAuthClient
from plugin.oauth.scopes import describe
from plugin.oauth.services import connected_apps, revoke_consent
from plugin.oauth.views import bp


def app_asking(next_target: str) -> str | None:
    """The name of the client whose authorization request waits behind a login."""
    parts = urlsplit(next_target)
    client_ids = parse_qs(parts.query).get("client_id", [])
    if parts.path != url_for("oauth.authorize") or len(client_ids) != 1:
        return None
    # A stored client only: a login page never fetches a metadata document.
    client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_ids[0]))
    return client.name if client and not client.is_disabled else None


def connected_apps_panel(user: User) -> str:
    apps = [(consent, describe(consent.scope)) for consent in connected_apps(user)]
    return render_template("oauth/connected_apps.html", apps=apps)


@bp.post("/account/apps/<client_id:client_id>/revoke")
@login_required
def revoke_app(client_id: str) -> BaseResponse:
    user = get_current_user()
    assert user is not None  # login_required
    client = find_client(client_id)
    if client is None or not any(c.client_id == client.id for c in connected_apps(user)):
        abort(404)
    revoke_consent(user, client)
    commit()
    flash(f"{client.name} can no longer use your account.", "success")
    return redirect(url_for("accounts.account"), code=303)
