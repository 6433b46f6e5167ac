"""CORS: ChatGPT's origins may call the API and read the manifest; nobody else, nowhere else."""

from __future__ import annotations

import pytest

CHATGPT = "https://chat.openai.com"
EVIL = "https://evil.example"


@pytest.mark.parametrize("path", ["/.well-known/ai-plugin.json", "/openapi.yaml", "/openapi.json"])
def test_allowed_origin_is_echoed_on_plugin_files(client, path):
    response = client.get(path, headers={"Origin": CHATGPT})
    assert response.headers["Access-Control-Allow-Origin"] == CHATGPT
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_api_answers_carry_cors_even_when_refused(client, token):
    ok = client.get(
        "/api/me", headers={"Origin": "https://chatgpt.com", "Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://chatgpt.com"
    refused = client.get("/api/me", headers={"Origin": CHATGPT})
    assert refused.status_code == 401
    # The browser must be able to read the 401 to start the sign-in.
    assert refused.headers["Access-Control-Allow-Origin"] == CHATGPT


def test_other_origins_get_no_cors(client, token):
    response = client.get("/api/me", headers={"Origin": EVIL, "Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_preflight_for_an_allowed_origin(client):
    response = client.options(
        "/api/todos/5",
        headers={
            "Origin": CHATGPT,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == CHATGPT
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_preflight_for_another_origin_allows_nothing(client):
    response = client.options(
        "/api/todos", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


@pytest.mark.parametrize("path", ["/oauth/authorize", "/login", "/legal", "/"])
def test_pages_for_people_never_carry_cors(client, path):
    response = client.get(path, headers={"Origin": CHATGPT})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        path, headers={"Origin": CHATGPT, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_configured_origins_replace_the_defaults(app, client):
    app.config["CORS_ORIGINS"] = ["http://localhost:3000"]
    assert (
        client.get("/openapi.json", headers={"Origin": "http://localhost:3000"}).headers[
            "Access-Control-Allow-Origin"
        ]
        == "http://localhost:3000"
    )
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/openapi.json", headers={"Origin": CHATGPT}).headers
    )
