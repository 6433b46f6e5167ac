"""Download my data, and delete my account (with the tokens, consents and todos of it)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from plugin.audit.models import AuditEvent
from plugin.extensions import db
from plugin.oauth.models import Consent, OAuthToken
from plugin.todos.models import Todo
from tests.accounts.account_helpers import audit_events, is_signed_in
from tests.helpers import PASSWORD, AuthActions, csrf_token_from, make_user


def _give_consent_and_todo(app, user, oauth_client, token):
    from plugin.accounts.models import User
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.services import give_consent

    with app.app_context():
        person = db.session.get(User, user.id)
        chatgpt = db.session.get(OAuthClient, oauth_client.id)
        give_consent(person, chatgpt, "todos:read")
        db.session.commit()
    created = app.test_client().post(
        "/api/todos", json={"title": "Buy milk"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)


def test_download_holds_the_account_apps_and_todos(app, signed_in, user, oauth_client, token):
    _give_consent_and_todo(app, user, oauth_client, token)
    page = signed_in.get("/account").get_data(as_text=True)
    assert "Download my data" in page
    response = signed_in.post("/account/export", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-account.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == user.email
    assert [app_["app"] for app_ in data["connected_apps"]] == ["ChatGPT"]
    assert [todo["title"] for todo in data["todos"]] == ["Buy milk"]
    assert data["sessions"] and "password_hash" not in json.dumps(data)
    assert len(audit_events(app, "user.data_exported")) == 1


def test_download_needs_the_form_token(signed_in):
    response = signed_in.post("/account/export", data={})
    assert response.status_code == 400


def _delete(client, password=PASSWORD, understood="y"):
    page = client.get("/account").get_data(as_text=True)
    data = {"delete_password": password, "csrf_token": csrf_token_from(page)}
    if understood:
        data["understood"] = understood
    return client.post("/account/delete", data=data)


def test_deletion_asks_for_the_password_and_the_tick(app, signed_in, user):
    wrong = _delete(signed_in, password="nope nope nope")
    assert wrong.status_code == 200
    assert 'id="delete_password-error">Your password is not correct.' in wrong.get_data(
        as_text=True
    )
    unticked = _delete(signed_in, understood=None)
    assert 'id="understood-error">Tick this box to confirm.' in unticked.get_data(as_text=True)
    assert is_signed_in(signed_in)


def test_deletion_removes_the_person_and_keeps_an_anonymous_record(
    app, signed_in, user, oauth_client, token
):
    _give_consent_and_todo(app, user, oauth_client, token)
    other = app.test_client()
    AuthActions(other).login(user.email)
    response = _delete(signed_in)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Your account and everything in it are deleted." in signed_in.get("/").get_data(
        as_text=True
    )
    assert not is_signed_in(signed_in) and not is_signed_in(other)
    api = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    with app.app_context():
        for model in (OAuthToken, Consent, Todo):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        events = db.session.scalars(sa.select(AuditEvent)).all()
        leaks = [(e.event, e.details) for e in events if user.email in json.dumps(e.details or {})]
        assert leaks == []
        assert all(e.actor_email != user.email for e in events)
    (deleted,) = audit_events(app, "user.deleted")
    assert deleted.subject == f"user:{user.id}" and deleted.actor_email is None
    assert AuthActions(app.test_client()).login(user.email).status_code == 200


def test_the_last_admin_cannot_delete_themselves(app):
    make_user(app, "boss@example.com", is_admin=True)
    client = app.test_client()
    AuthActions(client).login("boss@example.com")
    response = _delete(client)
    assert "You are the last admin" in response.get_data(as_text=True)
    assert is_signed_in(client)
