"""Admin → Users: search, disable/enable, admin rights, one-time password-reset links."""

from __future__ import annotations

import re

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.audit.models import AuditEvent
from plugin.extensions import db
from tests.helpers import PASSWORD, csrf_token_from, make_token, make_user

NEW_PASSWORD = "a brand new passphrase for me"


def the_user(app, user_id: int) -> User:
    with app.app_context():
        row = db.session.get(User, user_id)
        db.session.expunge_all()
        return row


def audited(app, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == event)).all()
        db.session.expunge_all()
        return list(rows)


def test_the_list_searches_by_email_and_pages(app, admin, admin_user):
    for n in range(30):
        make_user(app, f"member{n:02d}@example.com")
    make_user(app, "someone@other.org")
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "32 users." in html and "Page 1 of 2" in html
    assert "member00@example.com" in html and "someone@other.org" not in html
    second = admin.get("/admin/users?page=2").get_data(as_text=True)
    assert "someone@other.org" in second and "member00@example.com" not in second

    found = admin.get("/admin/users?q=OTHER.org").get_data(as_text=True)
    assert "1 user matching" in found and "someone@other.org" in found
    assert "member00@example.com" not in found
    assert "No users match this search." in admin.get("/admin/users?q=nobody%25").get_data(
        as_text=True
    )
    # A nonsense page number is a page, not an error.
    assert admin.get("/admin/users?page=abc").status_code == 200
    assert admin.get("/admin/users?page=-3").status_code == 200


def test_the_user_page_shows_the_account(admin, user):
    html = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert user.email in html and "Disable account" in html and "Make admin" in html


def test_disabling_ends_their_sessions_and_tokens_and_enabling_lets_them_back(
    app, client, forms, user, oauth_client, api_me
):
    from flask.testing import FlaskClient

    access = make_token(app, user, oauth_client)["access_token"]
    theirs = FlaskClient(app, use_cookies=True)
    token = csrf_token_from(theirs.get("/login").get_data(as_text=True))
    theirs.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert theirs.get("/account").status_code == 200
    assert api_me(access) == 200

    page = f"/admin/users/{user.id}"
    response = forms.post(page, f"{page}/disable")
    assert response.status_code == 303 and response.headers["Location"] == page
    assert the_user(app, user.id).is_disabled
    assert theirs.get("/account").status_code == 302
    assert api_me(access) == 401
    assert "Enable account" in forms.client.get(page).get_data(as_text=True)
    assert audited(app, "user.disabled")[0].actor_email == "admin@example.com"

    response = forms.post(page, f"{page}/enable")
    assert response.status_code == 303
    assert not the_user(app, user.id).is_disabled
    assert audited(app, "user.enabled")
    token = csrf_token_from(theirs.get("/login").get_data(as_text=True))
    response = theirs.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_an_admin_cannot_disable_their_own_account(app, forms, admin_user, other_admin):
    page = f"/admin/users/{admin_user.id}"
    response = forms.post(page, f"{page}/disable")
    assert response.status_code == 409
    assert "You cannot disable your own account" in response.get_data(as_text=True)
    assert not the_user(app, admin_user.id).is_disabled


def test_granting_and_removing_admin_rights(app, forms, user):
    page = f"/admin/users/{user.id}"
    assert forms.post(page, f"{page}/admin").status_code == 303
    assert the_user(app, user.id).is_admin
    assert "Remove admin rights" in forms.client.get(page).get_data(as_text=True)
    assert forms.post(page, f"{page}/admin/remove").status_code == 303
    assert not the_user(app, user.id).is_admin
    assert audited(app, "user.admin_granted")[0].actor_email == "admin@example.com"
    assert audited(app, "user.admin_removed")[0].details["email"] == user.email


def test_the_last_admin_cannot_be_removed(app, forms, admin_user):
    page = f"/admin/users/{admin_user.id}"
    response = forms.post(page, f"{page}/admin/remove")
    assert response.status_code == 409
    assert "This is the last admin" in response.get_data(as_text=True)
    assert the_user(app, admin_user.id).is_admin
    assert forms.client.get("/admin/").status_code == 200
    assert not audited(app, "user.admin_removed")


def test_an_admin_who_removes_their_own_rights_leaves_the_admin_area(
    app, forms, admin_user, other_admin
):
    page = f"/admin/users/{admin_user.id}"
    response = forms.post(page, f"{page}/admin/remove")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert not the_user(app, admin_user.id).is_admin
    assert forms.client.get("/admin/").status_code == 403


def test_a_reset_link_is_shown_once_and_works_once(app, client, forms, user):
    page = f"/admin/users/{user.id}"
    posted = forms.post(page, f"{page}/reset-link")
    assert posted.status_code == 303
    assert posted.headers["Location"] == f"{page}/reset-link"
    response = forms.client.get(posted.headers["Location"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    link = re.search(r"<code>(http://localhost/reset/[^<]+)</code>", html).group(1)
    token = link.rsplit("/", 1)[1]
    assert token not in (posted.headers.get("Set-Cookie") or "")
    assert token not in forms.client.get(page).get_data(as_text=True)
    # A reload shows the link no more and makes no second one.
    again = forms.client.get(posted.headers["Location"])
    assert again.status_code == 303 and again.headers["Location"] == page
    assert "A reset link is shown only once." in forms.client.get(page).get_data(as_text=True)
    assert len(audited(app, "user.password_reset_created")) == 1
    assert audited(app, "user.password_reset_created")[0].actor_email == "admin@example.com"

    forms.client.post(
        "/logout",
        data={"csrf_token": csrf_token_from(forms.client.get("/account").get_data(as_text=True))},
    )
    path = link.removeprefix("http://localhost")
    form = client.get(path)
    assert form.status_code == 200 and user.email in form.get_data(as_text=True)
    response = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token_from(form.get_data(as_text=True)),
        },
    )
    assert response.status_code == 303
    assert client.get(path).status_code == 404
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_the_reset_link_uses_the_public_origin(app, forms, user):
    app.config["PLUGIN_BASE_URL"] = "https://todo.example.com"
    page = f"/admin/users/{user.id}"
    html = forms.post(page, f"{page}/reset-link", follow_redirects=True).get_data(as_text=True)
    assert "<code>https://todo.example.com/reset/" in html
