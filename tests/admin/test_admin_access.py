"""Every /admin route refuses anonymous visitors and non-admins; every form needs CSRF."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.audit.models import AuditEvent
from plugin.extensions import db
from tests.helpers import csrf_token_from

DUMMY = {"int": "1", "string": "x", "default": "x"}


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path) for every /admin rule, converters filled with dummy values."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
            lambda m: DUMMY.get(m.group(1) or "default", "x"),
            rule.rule,
        )
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, path))
    return found


def test_the_admin_area_has_the_pages_the_operator_needs(app):
    paths = {path for _, path in admin_routes(app)}
    for expected in (
        "/admin/",
        "/admin/clients",
        "/admin/clients/new",
        "/admin/users",
        "/admin/settings",
        "/admin/audit",
    ):
        assert expected in paths
    assert len(admin_routes(app)) >= 20


def test_anonymous_visitors_are_sent_to_log_in_for_every_admin_route(app, client):
    # A real token from the login page, so that POSTs reach the access check, not CSRF.
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    for method, path in admin_routes(app):
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 302, (method, path, response.status_code)
        location = response.headers["Location"]
        assert location.startswith("/login?next="), (method, path, location)
        assert "%2Fadmin" in location or "/admin" in location


def test_people_who_are_not_admins_get_403_on_every_admin_route(app, auth, user, client):
    auth.login(user.email)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    for method, path in admin_routes(app):
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "Not allowed" in response.get_data(as_text=True)
    with app.app_context():
        # Nothing the non-admin posted changed anything.
        assert db.session.get(User, user.id).is_admin is False
        assert not db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.event.startswith("client.") | AuditEvent.event.startswith("settings.")
            )
        )


def test_the_admin_link_appears_only_for_admins(app, auth, user, admin_user, client):
    auth.login(user.email)
    assert 'href="/admin/"' not in client.get("/account").get_data(as_text=True)
    auth.login(admin_user.email)
    assert 'href="/admin/"' in client.get("/account").get_data(as_text=True)


def test_every_admin_form_refuses_a_missing_or_foreign_csrf_token(
    app, admin, admin_user, user, oauth_client
):
    posts = [path for method, path in admin_routes(app) if method == "POST"]
    assert len(posts) >= 12
    with app.app_context():
        # The fixtures' own events (the client was registered through the service).
        before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    for path in posts:
        # Point the dummy ids at real rows so that only the token can make the difference.
        path = path.replace("/clients/1/", f"/clients/{oauth_client.id}/")
        path = path.replace("/users/1/", f"/users/{user.id}/")
        for data in ({}, {"csrf_token": "forged-token"}):
            response = admin.post(
                path,
                data={
                    **data,
                    "password": "x",
                    "name": "n",
                    "redirect_uris": oauth_client.redirect_uri,
                    "scopes": "todos:read",
                    "token": "t",
                },
            )
            assert response.status_code == 400, (path, data, response.status_code)
            assert "This form has expired or was not sent from this site" in response.get_data(
                as_text=True
            )
    with app.app_context():
        assert db.session.get(User, user.id).is_disabled is False
        assert db.session.get(User, user.id).is_admin is False
        events = db.session.scalars(sa.select(AuditEvent.event).where(AuditEvent.id > before)).all()
        assert not [
            e
            for e in events
            if e.startswith(
                ("client.", "settings.", "user.disabled", "user.admin", "user.password_reset")
            )
        ]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/clients/999999",
        "/admin/clients/999999/delete",
        "/admin/users/999999",
        "/admin/users/abc",
        "/admin/nothing-here",
    ],
)
def test_unknown_ids_get_a_404_page(admin, path):
    response = admin.get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Not found" in body and "Traceback" not in body


def test_posting_to_an_unknown_id_is_a_404_page(admin):
    token = csrf_token_from(admin.get("/admin/users").get_data(as_text=True))
    for path in (
        "/admin/clients/999999/disable",
        "/admin/users/999999/disable",
        "/admin/users/999999/reset-link",
        "/admin/clients/999999/rotate-secret",
    ):
        response = admin.post(path, data={"csrf_token": token, "password": "x"})
        assert response.status_code == 404, path
        assert "Not found" in response.get_data(as_text=True)


def test_admin_pages_are_never_cached_or_framed(admin):
    response = admin.get("/admin/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users?page=99999999999999999999999",
        "/admin/users?page=0",
        "/admin/users?q=%01ctl",
        "/admin/users?q=" + "x" * 5000,
        "/admin/audit?before=99999999999999999999999",
        "/admin/audit?before=-1",
        "/admin/audit?date_from=0001-01-01&date_to=9999-12-31",
    ],
)
def test_odd_query_strings_still_get_a_page(admin, path):
    response = admin.get(path)
    assert response.status_code == 200, path
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["event", "actor", "subject"])
def test_control_characters_in_audit_filters_are_form_errors(admin, field):
    response = admin.get(f"/admin/audit?{field}=a%01b")
    assert response.status_code == 400
    assert "Remove the control character U+0001 from this text." in response.get_data(as_text=True)
    # A NUL, valid nowhere, is refused before the page is even built.
    response = admin.get(f"/admin/audit?{field}=a%00b")
    assert response.status_code == 400
    assert "a character that is not allowed (U+0000)" in response.get_data(as_text=True)


def test_a_non_admin_is_told_who_they_are_and_what_the_area_is_for(auth, user, client):
    auth.login(user.email)
    response = client.get("/admin/clients")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"You are signed in as <strong>{user.email}</strong>." in page
    assert "This area is for administrators." in page
    assert '<a href="/account">Back to your account</a>' in page
    # Not Werkzeug's generic text.
    assert "read-protected" not in page
