"""IN-01: bodies over the limit get 413 on every route, before any view reads them.

Here through the test client (the dev server's WSGI environ, a chunked body included);
tests/production/test_gunicorn_body_limits.py sends the same bodies to a real gunicorn.
"""

from __future__ import annotations

import io

import pytest

from plugin import create_app

LIMIT = 1_048_576
TOO_LARGE = b"x" * (LIMIT + 1)
# A program's endpoint, a person's page, and a route that never reads its body.
ROUTES = [
    ("/oauth/token", "application/json"),
    ("/api/todos", "application/json"),
    ("/login", "text/html"),
    ("/.well-known/ai-plugin.json", "application/json"),
]


def chunked(client, path: str, body: bytes, content_type: str = "application/json"):
    """POST ``body`` as a server hands a chunked request over: no Content-Length at all."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
        environ_overrides={"wsgi.input_terminated": True},
    )


def assert_refused(response, mimetype: str) -> None:
    assert response.status_code == 413
    if mimetype == "application/json":
        body = response.get_json()
        assert body["error"] == "request_too_large"
        assert "1,048,576 bytes" in body["error_description"]
    else:
        assert response.mimetype == "text/html"
        assert "1,048,576 bytes" in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "mimetype"), ROUTES)
def test_in01_a_declared_body_over_the_limit_is_refused(client, path, mimetype):
    response = client.post(path, data=TOO_LARGE, content_type="application/json")
    assert_refused(response, mimetype)


@pytest.mark.parametrize(("path", "mimetype"), ROUTES)
def test_in01_a_chunked_body_over_the_limit_is_refused(client, path, mimetype):
    assert_refused(chunked(client, path, TOO_LARGE), mimetype)


def test_in01_a_chunked_body_within_the_limit_reaches_the_endpoint(client):
    response = chunked(
        client,
        "/oauth/token",
        b"grant_type=refresh_token&refresh_token=nope&client_id=x",
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_in01_a_form_with_too_many_fields_is_refused(client):
    body = "&".join(f"f{number}=1" for number in range(201))
    response = client.post(
        "/oauth/token", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.get_json()["error_description"] == "The form has more than 200 fields."


def test_in01_a_multipart_field_over_its_limit_is_refused(client):
    response = client.post(
        "/login", data={"email": "x" * 70_000}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "65,536 bytes in a field" in response.get_data(as_text=True)


def test_in01_the_limits_are_settings(app_config, monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("MAX_FORM_PARTS", "5")
    client = create_app(app_config).test_client()
    assert client.post("/oauth/token", data=b"x" * 2049).status_code == 413
    response = client.post(
        "/oauth/token",
        data="a=1&b=2&c=3&d=4&e=5&f=6",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.get_json()["error_description"] == "The form has more than 5 fields."


@pytest.mark.parametrize("value", ["0", "1MB", "-5"])
def test_a_limit_that_is_not_a_positive_number_stops_start_up(app_config, monkeypatch, value):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", value)
    with pytest.raises(SystemExit, match="MAX_CONTENT_LENGTH"):
        create_app(app_config)
