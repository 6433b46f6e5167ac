"""The todo API: create, read, change, search; validation; isolation between people; tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.clock import utcnow
from plugin.extensions import db
from plugin.oauth.models import OAuthToken
from tests.helpers import make_token
from tests.todos.todo_helpers import Api


def test_create_then_read_returns_the_item_with_an_absolute_link(api):
    created = api.create("Buy oat milk", notes="The barista kind.", due_date="2031-01-31")
    assert created["title"] == "Buy oat milk"
    assert created["notes"] == "The barista kind."
    assert created["due_date"] == "2031-01-31"
    assert created["done"] is False
    assert created["url"].startswith("http://localhost/t/")
    # The link's secret part carries at least 128 bits (24 random bytes, base64url).
    assert len(created["url"].rsplit("/", 1)[1]) >= 32
    assert created["created_at"].endswith("+00:00")

    fetched = api.get(f"/api/todos/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.get_json() == created


def test_links_use_the_configured_public_origin(app, api):
    app.config["PLUGIN_BASE_URL"] = "https://todo.example.com"
    created = api.create("Water the plants")
    assert created["url"].startswith("https://todo.example.com/t/")


def test_update_changes_only_the_fields_sent(api):
    item = api.create("Call the plumber", notes="About the sink", due_date="2030-05-01")
    response = api.patch(f"/api/todos/{item['id']}", json={"done": True})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated["done"] is True
    assert updated["title"] == "Call the plumber" and updated["notes"] == "About the sink"

    cleared = api.patch(
        f"/api/todos/{item['id']}", json={"due_date": None, "title": "  Call Bob  "}
    )
    assert cleared.get_json()["due_date"] is None
    assert cleared.get_json()["title"] == "Call Bob"


def test_missing_title_gets_one_message_per_field(api):
    response = api.post("/api/todos", json={"notes": "x" * 2001, "due_date": "tomorrow"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_request"
    assert set(body["fields"]) == {"title", "notes", "due_date"}
    assert all(isinstance(messages, list) and messages for messages in body["fields"].values())
    assert "title" in body["error_description"]


def test_title_limits(api):
    assert api.post("/api/todos", json={"title": "   "}).status_code == 422
    assert api.post("/api/todos", json={"title": "x" * 201}).status_code == 422
    assert api.post("/api/todos", json={"title": "x" * 200}).status_code == 201


def test_unknown_fields_and_non_objects_are_refused(api):
    unknown = api.post("/api/todos", json={"title": "ok", "owner": 7})
    assert unknown.status_code == 422
    assert "owner" in unknown.get_json()["fields"]

    not_object = api.post("/api/todos", json=["a list"])
    assert not_object.status_code == 400
    assert not_object.get_json()["error_description"] == "The request body must be a JSON object."

    not_json = api.client.post(
        "/api/todos", data="title=x", headers=api.headers({"Content-Type": "text/plain"})
    )
    assert not_json.status_code == 400


def test_bad_types_in_an_update_are_refused(api):
    item = api.create("Check types")
    response = api.patch(f"/api/todos/{item['id']}", json={"done": "maybe"})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["done"]


def test_another_persons_item_is_not_found(api, other_api):
    mine = api.create("My secret plan", notes="Do not share")
    for call in (
        lambda: other_api.get(f"/api/todos/{mine['id']}"),
        lambda: other_api.patch(f"/api/todos/{mine['id']}", json={"done": True}),
        lambda: other_api.delete(f"/api/todos/{mine['id']}"),
    ):
        response = call()
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
        assert "secret" not in response.get_data(as_text=True)
    assert other_api.get("/api/todos").get_json()["items"] == []
    assert api.get(f"/api/todos/{mine['id']}").get_json()["done"] is False


def test_unknown_id_is_not_found(api):
    assert api.get("/api/todos/999999").status_code == 404


def test_no_token_or_a_bad_token_is_401(client):
    missing = client.get("/api/todos")
    assert missing.status_code == 401
    assert "error=" not in missing.headers["WWW-Authenticate"]  # RFC 6750 §3.1
    response = client.get("/api/todos", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "invalid_token"


def test_expired_token_is_401(app, api):
    with app.app_context():
        db.session.execute(
            sa.update(OAuthToken).values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert api.get("/api/me").status_code == 401


def test_read_only_token_cannot_write(app, client, user, oauth_client):
    reader = Api(client, make_token(app, user, oauth_client, scope="todos:read")["access_token"])
    assert reader.get("/api/todos").status_code == 200
    for response in (
        reader.post("/api/todos", json={"title": "Nope"}),
        reader.patch("/api/todos/1", json={"done": True}),
        reader.delete("/api/todos/1"),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"] == "insufficient_scope"


def test_write_only_token_cannot_read(app, client, user, oauth_client):
    writer = Api(client, make_token(app, user, oauth_client, scope="todos:write")["access_token"])
    assert writer.post("/api/todos", json={"title": "Allowed"}).status_code == 201
    assert writer.get("/api/todos").status_code == 403


def test_me_reports_the_person_counts_and_region(api, user):
    api.create("Open one")
    done = api.create("Done one")
    api.patch(f"/api/todos/{done['id']}", json={"done": True})
    me = api.get("/api/me", headers={"openai-subdivision-1-iso-code": "US-CA"}).get_json()
    assert me == {
        "id": user.id,
        "email": user.email,
        "region": "US-CA",
        "todos": {"total": 2, "open": 1, "done": 1},
    }
    for bad in ("us-ca", "USA-CA", "US-CALI", "<script>"):
        answer = api.get("/api/me", headers={"openai-subdivision-1-iso-code": bad}).get_json()
        assert answer["region"] is None, bad


def test_api_is_rate_limited_per_person(app, api):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    statuses = [api.get("/api/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert api.get("/api/me").get_json()["error"] == "rate_limited"


# --- IN-03: titles and searches are one line; notes keep their lines ----------------------


@pytest.mark.parametrize("title", ["two\nlines", "tab\there", "bell\x07", "esc\x1b[31m", "c1\x85"])
def test_in03_a_title_with_a_control_character_is_a_field_error(api, title):
    response = api.post("/api/todos", json={"title": title})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["title"]
    assert api.get("/api/todos").get_json()["items"] == []


def test_in03_notes_may_hold_tabs_and_line_breaks_but_no_other_control(api):
    notes = "first line\r\nsecond\tline\n"
    created = api.create("t", notes=notes)
    assert created["notes"] == notes
    response = api.patch(f"/api/todos/{created['id']}", json={"notes": "esc\x1b"})
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["notes"]


def test_in03_a_search_with_a_line_break_is_a_field_error(api):
    response = api.get("/api/todos?q=a%0ab")
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["q"]
