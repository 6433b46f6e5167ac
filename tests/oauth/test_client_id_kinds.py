"""Every page, form and command that takes a client id takes every kind: a registered id, a
dynamic registration's id and a metadata document's https URL."""

from __future__ import annotations

import json
import re
from html import unescape
from types import SimpleNamespace

import pytest

from plugin.extensions import db
from plugin.oauth.models import OAuthClient
from tests.helpers import csrf_token_from, make_token
from tests.oauth.connector_helpers import (
    client_document,
    desktop_authorize_query,
    register_desktop_app,
)
from tests.oauth.oauth_helpers import allow, authorize_url

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture
def app_config(app_config):
    return app_config | {"OAUTH_CIMD_ALLOW_LOOPBACK": True}


def _connect(kind: str, http, oauth_client, host) -> str:
    """Allow a client of ``kind`` for the signed-in person; its client_id."""
    if kind == "registered":
        client_id = oauth_client.client_id
        url = authorize_url(oauth_client)
    else:
        if kind == "dynamic":
            client_id = register_desktop_app(http, CALLBACK)
        else:
            client_id = host.serve_json(
                "/client.json", client_document(host.url("/client.json"), CALLBACK)
            )
        query, _ = desktop_authorize_query(client_id, CALLBACK)
        url = "/oauth/authorize?" + query
    assert allow(http, url).status_code in (302, 303)
    return client_id


def _revoke_form(html: str) -> str:
    (action,) = re.findall(r'<form method="post" action="(/account/apps/[^"]+)"', html)
    return unescape(action)


@pytest.mark.parametrize("kind", ["registered", "dynamic", "metadata-document"])
def test_a_person_revokes_an_app_of_every_kind(app, signed_in, user, oauth_client, host, kind):
    client_id = _connect(kind, signed_in, oauth_client, host)
    with app.app_context():
        row = db.session.scalar(db.select(OAuthClient).filter_by(client_id=client_id))
        token = make_token(app, user, SimpleNamespace(id=row.id))["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert signed_in.get("/api/me", headers=bearer).status_code == 200

    page = signed_in.get("/account").get_data(as_text=True)
    response = signed_in.post(_revoke_form(page), data={"csrf_token": csrf_token_from(page)})

    assert response.status_code == 303, response.status_code
    assert "can no longer use your account" in signed_in.get("/account").get_data(as_text=True)
    assert "/account/apps/" not in signed_in.get("/account").get_data(as_text=True)
    assert signed_in.get("/api/me", headers=bearer).status_code == 401


def test_a_broken_encoded_id_is_a_404(signed_in):
    page = signed_in.get("/account").get_data(as_text=True)
    token = csrf_token_from(page)
    for path in ("/account/apps/~%%%/revoke", "/account/apps/~_w/revoke", "/account/apps/~/revoke"):
        assert signed_in.post(path, data={"csrf_token": token}).status_code == 404


def test_the_command_line_takes_a_metadata_document_url(app, runner, signed_in, host):
    client_id = _connect("metadata-document", signed_in, None, host)
    shown = runner.invoke(args=["clients", "show", client_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["client_id"] == client_id
    disabled = runner.invoke(args=["clients", "disable", client_id])
    assert disabled.exit_code == 0, disabled.output
    with app.app_context():
        row = db.session.scalar(db.select(OAuthClient).filter_by(client_id=client_id))
        assert row.is_disabled


def test_the_admin_pages_take_a_metadata_document_client(app, signed_in, host):
    from tests.helpers import AuthActions, make_user

    client_id = _connect("metadata-document", signed_in, None, host)
    make_user(app, "admin@example.com", is_admin=True)
    admin = AuthActions(app.test_client())
    assert admin.login("admin@example.com").status_code == 303
    with app.app_context():
        row_id = db.session.scalar(db.select(OAuthClient.id).filter_by(client_id=client_id))
    detail = admin.client.get(f"/admin/clients/{row_id}")
    assert detail.status_code == 200 and client_id in detail.get_data(as_text=True)
    traces = admin.client.get("/admin/connections", query_string={"client": client_id})
    assert traces.status_code == 200 and client_id in traces.get_data(as_text=True)
