"""The manifest ChatGPT reads, its assets, and the verification token setting."""

from __future__ import annotations

import json
import struct

import pytest

from plugin.audit.models import AuditEvent
from plugin.extensions import db
from plugin.oauth.scopes import scopes


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "PLUGIN_BASE_URL": "https://todo.example.com/"}


def test_manifest_fields_and_limits(app, client):
    response = client.get("/.well-known/ai-plugin.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    manifest = response.get_json()
    assert manifest["schema_version"] == "v1"
    assert len(manifest["name_for_human"]) <= 20
    assert manifest["name_for_model"] == "todo_plugin"
    assert len(manifest["description_for_human"]) <= 100
    assert len(manifest["description_for_model"]) <= 8000
    assert "confirm_url" in manifest["description_for_model"]
    assert manifest["auth"] == {
        "type": "oauth",
        "client_url": "https://todo.example.com/oauth/authorize",
        "scope": " ".join(scopes(app)),
        "authorization_url": "https://todo.example.com/oauth/token",
        "authorization_content_type": "application/json",
    }
    assert manifest["api"] == {
        "type": "openapi",
        "url": "https://todo.example.com/openapi.yaml",
        "is_user_authenticated": False,
    }
    assert manifest["logo_url"] == "https://todo.example.com/logo.png"
    assert manifest["legal_info_url"] == "https://todo.example.com/legal"
    assert manifest["contact_email"] == "support@example.com"


def test_manifest_follows_the_request_origin_without_a_base_url(app, client):
    app.config["PLUGIN_BASE_URL"] = None
    manifest = client.get(
        "/.well-known/ai-plugin.json", base_url="http://plugin.test:5003"
    ).get_json()
    assert manifest["api"]["url"] == "http://plugin.test:5003/openapi.yaml"
    assert manifest["auth"]["client_url"] == "http://plugin.test:5003/oauth/authorize"


def test_verification_token_from_config_then_from_the_settings_command(app, client, runner):
    app.config["OPENAI_VERIFICATION_TOKEN"] = "from-config"
    auth = client.get("/.well-known/ai-plugin.json").get_json()["auth"]
    assert auth["verification_tokens"] == {"openai": "from-config"}

    result = runner.invoke(args=["settings", "set", "openai-verification-token", "from-admin"])
    assert result.exit_code == 0, result.output
    auth = client.get("/.well-known/ai-plugin.json").get_json()["auth"]
    assert auth["verification_tokens"] == {"openai": "from-admin"}

    shown = runner.invoke(args=["settings", "show", "--json"])
    assert json.loads(shown.output) == {
        "openai-verification-token": {"set": True},
        "openai-apps-challenge-token": {"set": False},
        "require-admin-passkeys": {"set": False},
    }
    assert "from-admin" not in shown.output

    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent).filter_by(event="settings.changed")).one()
        assert "from-admin" not in json.dumps(event.details)

    runner.invoke(args=["settings", "set", "openai-verification-token", ""])
    app.config["OPENAI_VERIFICATION_TOKEN"] = None
    assert "verification_tokens" not in client.get("/.well-known/ai-plugin.json").get_json()["auth"]
    assert "not set" in runner.invoke(args=["settings", "show"]).output


def test_unknown_setting_is_one_clear_line(runner):
    result = runner.invoke(args=["settings", "set", "colour", "blue"])
    assert result.exit_code != 0
    assert "Unknown setting 'colour'" in result.output
    assert "Traceback" not in result.output


def test_logo_is_a_512_square_png(client):
    response = client.get("/logo.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    data = response.data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (512, 512)


def test_legal_page_names_the_contact(app, client):
    page = client.get("/legal").get_data(as_text=True)
    assert "Terms and privacy" in page and "support@example.com" in page
    app.config["PLUGIN_LEGAL_TEXT"] = "Our own terms.\n\nSecond paragraph."
    page = client.get("/legal").get_data(as_text=True)
    assert "<p>Our own terms.</p>" in page and "<p>Second paragraph.</p>" in page
