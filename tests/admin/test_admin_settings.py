"""Admin → Settings: the OpenAI verification token, and the overview page."""

from __future__ import annotations

import re

import sqlalchemy as sa

from plugin.audit.models import AuditEvent
from plugin.extensions import db
from tests.helpers import make_token

PAGE = "/admin/settings"
SET = "/admin/settings/verification-token"


def manifest_token(client) -> str | None:
    auth = client.get("/.well-known/ai-plugin.json").get_json()["auth"]
    return (auth.get("verification_tokens") or {}).get("openai")


def test_setting_and_clearing_the_verification_token(app, forms):
    assert "none set" in forms.client.get(PAGE).get_data(as_text=True)
    response = forms.post(PAGE, SET, {"token": "  abc123def456  "})
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    html = forms.client.get(PAGE).get_data(as_text=True)
    assert "<code>abc123def456</code>" in html
    assert manifest_token(forms.client) == "abc123def456"

    response = forms.post(PAGE, SET + "/clear")
    assert response.status_code == 303
    assert "none set" in forms.client.get(PAGE).get_data(as_text=True)
    assert manifest_token(forms.client) in (None, "")
    with app.app_context():
        changes = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.event == "settings.changed")
        ).all()
        assert [(e.actor_email, e.details["cleared"]) for e in changes] == [
            ("admin@example.com", False),
            ("admin@example.com", True),
        ]
        # The value itself is not copied into the audit log.
        assert "abc123def456" not in str([e.details for e in changes])


def test_a_malformed_token_is_refused_beside_the_field(forms):
    for bad, why in (("", "This field is required."), ("two words", "has no spaces")):
        response = forms.post(PAGE, SET, {"token": bad})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert 'id="token-error"' in html and why in html
    assert "none set" in forms.client.get(PAGE).get_data(as_text=True)


def test_the_environment_default_is_shown_as_such(app, forms):
    app.config["OPENAI_VERIFICATION_TOKEN"] = "from-env-123"
    html = forms.client.get(PAGE).get_data(as_text=True)
    assert "<code>from-env-123</code>" in html and "OPENAI_VERIFICATION_TOKEN" in html
    assert "Clear the stored token" not in html


def test_the_overview_counts_users_clients_tokens_and_events(app, admin, user, oauth_client):
    make_token(app, user, oauth_client)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "<strong>2</strong> users" in html
    assert "<strong>1</strong> client<" in html
    assert "<strong>1</strong> active token<" in html
    assert "audit event" in html and "user.login" in html
    for link in ("/admin/clients", "/admin/users", "/admin/settings", "/admin/audit"):
        assert f'href="{link}"' in html


def test_the_overview_points_a_new_operator_to_creating_a_client(admin):
    html = admin.get("/admin/").get_data(as_text=True)
    assert "<strong>0</strong> clients" in html
    assert 'href="/admin/clients/new">creating a client' in html


def test_a_token_with_control_characters_is_refused(forms):
    response = forms.post(PAGE, SET, {"token": "abc\x01def"})
    assert response.status_code == 400
    assert "Remove the control character U+0001" in response.get_data(as_text=True)
    assert "none set" in forms.client.get(PAGE).get_data(as_text=True)


def test_the_settings_page_shows_each_section_once(forms):
    # A section pasted twice renders twice, with the same heading and two forms alike.
    html = forms.client.get(PAGE).get_data(as_text=True)
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert "Passkeys for admins" in headings
    assert len(headings) == len(set(headings)), headings
