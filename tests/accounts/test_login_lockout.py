"""Guessing is throttled, but nobody can lock a chosen person out, and signing in never uses
up a limit (WL-07 stays true: see test_accounts_rate_limits.py)."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, csrf_token_from


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "LOGIN_RATE_LIMIT": "20 per minute",
        "LOGIN_PAIR_RATE_LIMIT": "3 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute",
    }


def _client(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


WRONG = "a wrong guess"


def _login(client, email: str, password: str = WRONG, next: str | None = None):
    query = f"?next={next}" if next else ""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        f"/login{query}", data={"email": email, "password": password, "csrf_token": token}
    )


def test_guesses_from_one_address_do_not_lock_the_owner_out(app, user):
    attacker = _client(app, "10.1.0.1")
    statuses = [_login(attacker, user.email).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # The attacker cannot get in even with the right password now...
    assert _login(attacker, user.email, PASSWORD).status_code == 429
    # ...but the owner, from elsewhere, logs in at once.
    assert _login(_client(app, "10.1.0.2"), user.email, PASSWORD).status_code == 303


def test_guesses_from_many_addresses_leave_the_owners_own_browser_in(app, user):
    owner = _client(app, "10.2.0.1")
    assert _login(owner, user.email, PASSWORD).status_code == 303  # a known browser now
    for i in range(5):
        assert _login(_client(app, f"10.2.1.{i}"), user.email).status_code == 200
    # A new browser meets the per-account limit; the owner's browser does not.
    assert _login(_client(app, "10.2.2.1"), user.email, PASSWORD).status_code == 429
    assert _login(owner, user.email, PASSWORD).status_code == 303


def test_a_forged_known_browser_cookie_is_ignored(app, user):
    for i in range(5):
        _login(_client(app, f"10.3.1.{i}"), user.email)
    forger = _client(app, "10.3.2.1")
    forger.set_cookie("known_accounts", "W10.forged", path="/login")
    assert _login(forger, user.email, PASSWORD).status_code == 429


def test_successful_logins_do_not_count_toward_the_address_limit(app, user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    office = _client(app, "10.4.0.1")
    statuses = [_login(office, user.email, PASSWORD).status_code for _ in range(6)]
    assert statuses == [303] * 6


def test_the_429_is_the_login_page_and_keeps_the_install(app, user):
    authorize = "/oauth/authorize%3Fclient_id%3Dabc"
    attacker = _client(app, "10.5.0.1")
    for _ in range(3):
        _login(attacker, user.email, next=authorize)
    response = _login(attacker, user.email, next=authorize)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Wait a minute, then try again." in html
    assert 'name="next" type="hidden" value="/oauth/authorize?client_id=abc"' in html
    assert response.headers["Retry-After"]


def test_an_expired_login_form_comes_back_with_the_install(app, user):
    client = _client(app, "10.6.0.1")
    response = client.post(
        "/login?next=/oauth/authorize%3Fclient_id%3Dabc",
        data={"email": user.email, "password": PASSWORD, "csrf_token": "stale"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired" in html
    assert 'name="next" type="hidden" value="/oauth/authorize?client_id=abc"' in html
    assert f'value="{user.email}"' in html


def test_wl17_a_known_browser_behind_the_attackers_address_still_gets_in(app, user):
    owner = _client(app, "10.6.0.1")
    assert _login(owner, user.email, PASSWORD).status_code == 303  # a known browser now
    attacker = _client(app, "10.6.0.1")  # the same address: one NAT, one office
    statuses = [_login(attacker, user.email).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # The per-account limits (pair and account) spare the owner's browser...
    assert _login(owner, user.email, PASSWORD).status_code == 303
    # ...while a browser the account never signed in from stays locked.
    assert _login(_client(app, "10.6.0.1"), user.email, PASSWORD).status_code == 429


def test_wl17_the_address_limit_still_holds_for_a_known_browser(app, user):
    app.config["LOGIN_RATE_LIMIT"] = "4 per minute"
    owner = _client(app, "10.7.0.1")
    assert _login(owner, user.email, PASSWORD).status_code == 303
    for i in range(4):
        _login(_client(app, "10.7.0.1"), f"someone{i}@example.com")
    # Guessing at many accounts from one address is not a per-account limit.
    assert _login(owner, user.email, WRONG).status_code == 429
