"""Admin → Settings → "Require passkeys for admins": who gets into the admin area, and no way
for an admin to shut themselves out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.accounts.account_helpers import audit_events
from tests.accounts.passkey_helpers import PasskeyActions, SoftPasskey
from tests.helpers import AuthActions, csrf_token_from, make_user

PAGE = "/admin/settings"
SET = "/admin/settings/admin-passkeys"


@pytest.fixture
def admin_key(admin, admin_user) -> SoftPasskey:
    """A passkey the signed-in admin added; the session is still the password one."""
    key = SoftPasskey()
    assert PasskeyActions(admin).add(key).status_code == 200
    return key


def _turn(client, on: bool):
    token = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    data = {"csrf_token": token, **({"require": "y"} if on else {})}
    return client.post(SET, data=data)


def _sign_in_with(client, key: SoftPasskey, next: str | None = None):
    signed_in = PasskeyActions(client).sign_in(key, next=next)
    assert signed_in.status_code == 200, signed_in.get_json()
    return signed_in.get_json()["redirect"]


def test_an_admin_without_a_passkey_cannot_turn_it_on(app, admin):
    refused = _turn(admin, True)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="require-error">Add a passkey on your account page' in html
    assert 'aria-invalid="true"' in html
    assert "Currently <strong>off</strong>" in html
    assert audit_events(app, "settings.changed") == []


def test_an_admin_signed_in_with_a_password_cannot_turn_it_on(app, admin, admin_key):
    refused = _turn(admin, True)
    assert refused.status_code == 400
    assert 'id="require-error">Sign in with your passkey first' in refused.get_data(as_text=True)


def test_with_it_on_admins_need_a_passkey_session_and_everyone_else_is_unaffected(
    app, admin, admin_user, admin_key
):
    assert _sign_in_with(admin, admin_key, next=PAGE) == PAGE
    turned = _turn(admin, True)
    assert turned.status_code == 303
    assert "Currently <strong>on</strong>" in admin.get(PAGE).get_data(as_text=True)
    [change] = audit_events(app, "settings.changed")
    assert change.details["value"] == "on" and change.actor_email == admin_user.email

    # The same admin signing in with the password is signed in, but not let into /admin.
    password_only = AuthActions(app.test_client())
    assert password_only.login(admin_user.email).status_code == 303
    gate = password_only.client.get("/admin/users")
    assert gate.status_code == 302
    target = urlsplit(gate.location)
    assert target.path == "/login" and parse_qs(target.query)["next"] == ["/admin/users"]
    login_page = password_only.client.get(gate.location).get_data(as_text=True)
    assert "asks administrators to sign in with a passkey" in login_page
    # Their passkeys cannot be swapped from this password session either.
    swap = PasskeyActions(password_only.client).add_options("Mine now")
    assert (
        swap.status_code == 400
        and "before adding or removing" in swap.get_json()["error_description"]
    )
    # With the passkey, the pending page opens.
    assert _sign_in_with(password_only.client, admin_key, next="/admin/users") == "/admin/users"
    assert password_only.client.get("/admin/users").status_code == 200

    # A person who is not an admin signs in with a password as before.
    make_user(app, "person@example.com")
    person = AuthActions(app.test_client())
    assert person.login("person@example.com").status_code == 303
    assert person.client.get("/account").status_code == 200
    assert person.client.get("/admin/").status_code == 403


def test_an_admin_without_a_passkey_is_sent_to_add_one_then_to_sign_in_with_it(
    app, admin, admin_key, other_admin
):
    assert _sign_in_with(admin, admin_key) == "/account"
    assert _turn(admin, True).status_code == 303

    second = AuthActions(app.test_client())
    assert second.login(other_admin.email).status_code == 303
    gate = second.client.get("/admin/")
    assert gate.status_code == 302 and gate.location == "/account#passkeys-heading"
    page = second.client.get(gate.location).get_data(as_text=True)
    assert "Add one below, then sign in with it." in page

    key = SoftPasskey()
    assert PasskeyActions(second.client).add(key).status_code == 200
    assert urlsplit(second.client.get("/admin/").location).path == "/login"
    _sign_in_with(second.client, key)
    assert second.client.get("/admin/").status_code == 200


def test_turning_it_off_needs_no_passkey_and_the_cli_is_the_way_back_in(
    app, admin, admin_key, runner
):
    result = runner.invoke(args=["settings", "set", "require-admin-passkeys", "on"])
    assert result.exit_code == 0 and result.output == "require-admin-passkeys is on.\n"
    assert "require-admin-passkeys: on" in runner.invoke(args=["settings", "show"]).output
    assert urlsplit(admin.get("/admin/").location).path == "/login"

    bad = runner.invoke(args=["settings", "set", "require-admin-passkeys", "maybe"])
    assert bad.exit_code != 0 and "is either on or off" in bad.output
    assert "Traceback" not in bad.output

    result = runner.invoke(args=["settings", "set", "require-admin-passkeys", "off"])
    assert result.output == "require-admin-passkeys is off.\n"
    assert admin.get("/admin/").status_code == 200
    values = [e.details["value"] for e in audit_events(app, "settings.changed")]
    assert values == ["on", "off"]
