"""Fixtures for the todo API: a bearer-token caller per person."""

from __future__ import annotations

import pytest

from tests.helpers import make_token, make_user


class Api:
    """Call the API as ChatGPT does: a bearer token, JSON in and out."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(
            path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, json=None, **kwargs):
        return self.client.patch(
            path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def create(self, title: str, **fields) -> dict:
        response = self.post("/api/todos", json={"title": title, **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def api(client, token) -> Api:
    return Api(client, token)


@pytest.fixture
def other_user(app):
    return make_user(app, "someone-else@example.com")


@pytest.fixture
def other_api(app, client, other_user, oauth_client) -> Api:
    return Api(client, make_token(app, other_user, oauth_client)["access_token"])
