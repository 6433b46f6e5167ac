"""The admin outbox: printed messages (no MAIL_URL) with their links, and who is verified."""

from __future__ import annotations

import pytest

from tests.helpers import AuthActions, csrf_token_from


@pytest.fixture
def admin_client(app, admin_user):
    client = app.test_client()
    assert AuthActions(client).login(admin_user.email).status_code == 303
    return client


def test_without_a_mail_server_messages_are_printed_and_kept(app, admin_client, user, capsys):
    visitor = app.test_client()
    page = visitor.get("/forgot-password").get_data(as_text=True)
    token = csrf_token_from(page)
    visitor.post("/forgot-password", data={"email": user.email, "csrf_token": token})
    assert "Reset your password" in capsys.readouterr().out

    response = admin_client.get("/admin/outbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "No mail server is set" in html
    assert "Reset your password · Todo Plugin" in html and user.email in html
    assert 'href="http://localhost/reset/' in html


def test_people_cannot_read_the_outbox(app, user):
    client = app.test_client()
    AuthActions(client).login(user.email)
    assert client.get("/admin/outbox").status_code == 403


def test_the_users_page_shows_who_is_verified(app, admin_client, user):
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Not verified" in html
    detail = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Forgot your password?" in detail
