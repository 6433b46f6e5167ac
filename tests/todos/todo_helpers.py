"""What the todo tests share: calling the API as ChatGPT does."""

from __future__ import annotations


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
