"""``flask users create-reviewer``: an account a directory's reviewer signs in to with a
password alone, with sample data, disabled after the review, every step audited."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.audit.models import AuditEvent
from plugin.extensions import db
from plugin.todos.models import Todo
from plugin.todos.samples import SAMPLE_TODOS
from tests.helpers import make_oauth_client, make_token, make_user


@pytest.fixture
def app_config(app_config) -> dict:
    # The strictest sign-in rules an operator can set for others.
    return {**app_config, "REQUIRE_VERIFIED_EMAIL": True}


def create_reviewer(runner, *args: str) -> dict:
    result = runner.invoke(args=["users", "create-reviewer", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def consent_url(oauth_client) -> str:
    query = {
        "response_type": "code",
        "client_id": oauth_client.client_id,
        "redirect_uri": oauth_client.redirect_uri,
        "scope": "todos:read todos:write",
        "state": "review",
    }
    return "/oauth/authorize?" + urlencode(query)


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == name)).all()


def test_the_command_prints_the_address_and_a_password_once(app, runner):
    result = runner.invoke(args=["users", "create-reviewer"])
    assert result.exit_code == 0, result.output
    assert "e-mail:   reviewer-" in result.output and "@example.com" in result.output
    assert "password: " in result.output and "users disable" in result.output
    made = create_reviewer(runner, "Review.Team@Example.org")
    assert made["email"] == "review.team@example.org"
    assert len(made["password"]) >= 20
    with app.app_context():
        user = db.session.get(User, made["id"])
        assert not user.is_admin and user.email_verified_at is not None
        # Only the hash is kept.
        assert made["password"] not in (user.password_hash or "")


def test_the_reviewer_signs_in_with_the_password_alone_and_reaches_consent(
    app, runner, auth, client
):
    # Passkeys required (of admins, the only accounts they can be required of) and verified
    # addresses required before any consent.
    assert runner.invoke(args=["settings", "set", "require-admin-passkeys", "on"]).exit_code == 0
    oauth_client = make_oauth_client(app)
    made = create_reviewer(runner)
    url = consent_url(oauth_client)

    assert auth.login(made["email"], made["password"], next=url).status_code == 303
    page = client.get(url)
    assert page.status_code == 200
    assert "Allow ChatGPT to use your account?" in page.get_data(as_text=True)


def test_an_ordinary_unverified_account_is_held_at_the_same_place(app, auth, client):
    person = make_user(app, "someone@example.com")
    url = consent_url(make_oauth_client(app))
    assert auth.login(person.email, next=url).status_code == 303
    held = client.get(url)
    assert held.status_code == 302 and held.location.startswith("/verify-email?next=")


def test_the_reviewer_finds_sample_todos(app, runner, client):
    made = create_reviewer(runner)
    with app.app_context():
        reviewer = db.session.get(User, made["id"])
        rows = db.session.scalars(sa.select(Todo).where(Todo.user_id == reviewer.id)).all()
        assert sorted(todo.title for todo in rows) == sorted(title for title, *_ in SAMPLE_TODOS)
        assert [todo.title for todo in rows if todo.done] == ["Send the quarterly report to Sam"]
    token = make_token(app, reviewer, make_oauth_client(app))["access_token"]
    answer = client.get("/api/todos", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert answer["items"][0]["title"] == SAMPLE_TODOS[0][0]


def test_disabling_it_after_the_review_refuses_its_sign_in(app, runner, auth):
    made = create_reviewer(runner)
    result = runner.invoke(args=["users", "disable", made["email"]])
    assert result.exit_code == 0, result.output
    response = auth.login(made["email"], made["password"])
    assert response.status_code != 303


def test_every_step_is_audited_without_the_password(app, runner):
    made = create_reviewer(runner)
    runner.invoke(args=["users", "disable", made["email"]])
    subject = f"user:{made['id']}"
    for name in ("user.created", "user.reviewer_created", "user.disabled"):
        (event,) = events(app, name)
        assert event.subject == subject
        assert made["password"] not in json.dumps(event.details)


def test_a_taken_address_is_one_clear_line(app, runner):
    make_user(app, "taken@example.com")
    result = runner.invoke(args=["users", "create-reviewer", "taken@example.com"])
    assert result.exit_code != 0
    assert "already exists" in result.output and "Traceback" not in result.output
    assert events(app, "user.reviewer_created") == []
