"""Fixtures for the admin tests: signed-in admin and non-admin clients, an API probe."""

from __future__ import annotations

import pytest

from tests.helpers import csrf_token_from, make_user


@pytest.fixture
def api_me(client):
    """Call the bearer-protected ``/api/me`` with a token; return the status code."""

    def call(access_token: str) -> int:
        return client.get(
            "/api/me", headers={"Authorization": f"Bearer {access_token}"}
        ).status_code

    return call


class Forms:
    """Post admin forms the way a browser does: token taken from the page the form is on."""

    def __init__(self, client):
        self.client = client

    def post(self, page: str, action: str, data: dict | None = None, **kwargs):
        token = csrf_token_from(self.client.get(page).get_data(as_text=True))
        return self.client.post(action, data={"csrf_token": token, **(data or {})}, **kwargs)


@pytest.fixture
def forms(admin):
    return Forms(admin)


@pytest.fixture
def other_admin(app):
    return make_user(app, "second.admin@example.com", is_admin=True)
