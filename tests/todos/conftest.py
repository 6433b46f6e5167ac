"""Fixtures for the todo API: a bearer-token caller per person."""

from __future__ import annotations

import pytest

from tests.helpers import make_token, make_user
from tests.todos.todo_helpers import Api


@pytest.fixture
def api(client, token) -> Api:
    return Api(client, token)


@pytest.fixture
def other_user(app):
    return make_user(app, "someone-else@example.com")


@pytest.fixture
def other_api(app, client, other_user, oauth_client) -> Api:
    return Api(client, make_token(app, other_user, oauth_client)["access_token"])
