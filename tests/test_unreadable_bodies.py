"""IN-02: a body that cannot be read is a 400 in the route's own format, never a 500.

The API answers with its JSON envelope, the OAuth endpoints with an OAuth error
(``invalid_request``), whatever made the body unreadable.
"""

from __future__ import annotations

import pytest

UNREADABLE = {
    "nested 1,000 levels": b"[" * 1000 + b"]" * 1000,
    "nested 1,000 levels inside an object": b'{"title": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "bad UTF-8": b'{"title": "caf\xe9"}',
    "an encoded lone surrogate": b'{"title": "\xed\xa0\x80"}',
    "an escaped lone surrogate": b'{"title": "\\ud800"}',
    "nested 40 levels": b'{"title": ' + b"[" * 40 + b"]" * 40 + b"}",
    "not JSON": b"{title: 1",
}


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_in02_the_api_answers_an_unreadable_body_with_its_envelope(client, token, body):
    response = client.post(
        "/api/todos",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.get_json()["error_description"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_in02_oauth_endpoints_answer_an_unreadable_body_with_invalid_request(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


def test_in02_nothing_was_stored(app, client, token):
    from plugin.extensions import db
    from plugin.todos.models import Todo

    for body in UNREADABLE.values():
        client.post(
            "/api/todos",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    with app.app_context():
        assert db.session.query(Todo).count() == 0
