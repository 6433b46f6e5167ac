"""``/.well-known/openai-apps-challenge``: the app directory's domain-verification token."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from plugin.audit.models import AuditEvent
from plugin.extensions import db

PATH = "/.well-known/openai-apps-challenge"
SETTINGS = "/admin/settings"


@pytest.fixture
def admin(admin_user, auth):
    assert auth.login(admin_user.email).status_code == 303
    return auth.client


def served(client) -> tuple[int, str]:
    response = client.get(PATH)
    return response.status_code, response.get_data(as_text=True)


def test_not_found_while_unset(client):
    response = client.get(PATH)
    assert response.status_code == 404
    assert response.is_json  # a program asks: the JSON error envelope, not a page


def test_the_environment_value_is_served_as_plain_text(app, client):
    app.config["OPENAI_APPS_CHALLENGE_TOKEN"] = "env-token-123"
    response = client.get(PATH)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "env-token-123"
    assert "no-cache" in response.headers["Cache-Control"]


def test_the_settings_command_sets_and_removes_it(app, client, runner):
    result = runner.invoke(args=["settings", "set", "openai-apps-challenge-token", "cli-456"])
    assert result.exit_code == 0, result.output
    assert served(client) == (200, "cli-456")
    shown = json.loads(runner.invoke(args=["settings", "show", "--json"]).output)
    assert shown["openai-apps-challenge-token"] == {"set": True}

    runner.invoke(args=["settings", "set", "openai-apps-challenge-token", ""])
    assert served(client)[0] == 404


def test_an_admin_sets_and_clears_it_on_the_settings_page(app, admin):
    page = admin.get(SETTINGS).get_data(as_text=True)
    assert 'id="challenge-heading"' in page and PATH in page
    token = re.search(r'name="challenge-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = admin.post(
        SETTINGS + "/apps-challenge-token",
        data={"challenge-csrf_token": token, "challenge-token": "  admin-789  "},
    )
    assert response.status_code == 303
    assert served(admin) == (200, "admin-789")
    # The manifest's token is a different setting and stays unset.
    assert "verification_tokens" not in admin.get("/.well-known/ai-plugin.json").get_json()["auth"]

    page = admin.get(SETTINGS).get_data(as_text=True)
    assert "<code>admin-789</code>" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = admin.post(SETTINGS + "/apps-challenge-token/clear", data={"csrf_token": token})
    assert response.status_code == 303
    assert served(admin)[0] == 404
    with app.app_context():
        changes = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.event == "settings.changed")
        ).all()
        assert [(e.subject, e.details["cleared"]) for e in changes] == [
            ("setting:openai_apps_challenge_token", False),
            ("setting:openai_apps_challenge_token", True),
        ]
        assert "admin-789" not in str([e.details for e in changes])


def test_a_token_with_spaces_is_refused_beside_its_field(admin):
    page = admin.get(SETTINGS).get_data(as_text=True)
    token = re.search(r'name="challenge-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = admin.post(
        SETTINGS + "/apps-challenge-token",
        data={"challenge-csrf_token": token, "challenge-token": "two words"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="challenge-token-error"' in html and "has no spaces" in html
    assert served(admin)[0] == 404


def test_an_unknown_setting_name_in_the_url_is_not_found(admin):
    page = admin.get(SETTINGS).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert admin.post(SETTINGS + "/colour", data={"csrf_token": token}).status_code == 404
