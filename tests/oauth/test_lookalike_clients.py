"""OA-32: no client passes for another by its name or where it sends people. Invisible
formatting characters are refused in names and redirect URIs on every way in; the consent
page shows hosts in punycode and warns when they mix alphabets; "reviewed" means a known
app's exact callback, and only those callbacks may carry its name."""

from __future__ import annotations

import pytest

from plugin.oauth.clients.known_apps import known_app_at
from plugin.oauth.clients.metadata_documents import KNOWN_DOCUMENTS
from tests.oauth.connector_helpers import (
    DocumentHost,
    client_document,
    desktop_authorize_query,
    desktop_registration,
)
from tests.oauth.oauth_helpers import allow

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
CHATGPT_CALLBACK = "https://chatgpt.com/connector/oauth/AbC123_x"
LOOPBACK = "http://127.0.0.1:8765/callback"


def register(http, redirect_uri: str, name: str):
    return http.post("/oauth/register", json=desktop_registration(redirect_uri, name))


def consent_page(http, redirect_uri: str, name: str = "Desk Agent") -> str:
    answer = register(http, redirect_uri, name)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    query, _ = desktop_authorize_query(answer.json["client_id"], redirect_uri)
    page = http.get("/oauth/authorize?" + query)
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize(
    "name", ["Claude\u202e", "Cl\u200baude Desktop", "Desk\u2066 Agent", "\ufeffAgent"]
)
def test_oa32_registration_refuses_format_characters_in_names(client, name):
    answer = register(client, LOOPBACK, name)
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_client_metadata"
    assert "U+" in answer.json["error_description"]


@pytest.mark.parametrize(
    "uri",
    ["https://chatgpt.com\u200b/cb", "https://exa\u202emple.com/cb", "https://a.example/\u200d"],
)
def test_oa32_registration_refuses_format_characters_in_redirect_uris(client, uri):
    answer = register(client, uri, "Agent")
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize("name", ["Claude", "claude desktop", "ChatGPT", "ＣｈａｔＧＰＴ"])
def test_oa32_only_the_real_app_may_use_its_name(client, name):
    answer = register(client, "https://evil.example/callback", name)
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_client_metadata"
    assert "may use the name" in answer.json["error_description"]


def test_oa32_the_real_apps_register_under_their_names(client):
    assert register(client, CLAUDE_CALLBACK, "Claude").status_code == 201
    assert register(client, CHATGPT_CALLBACK, "ChatGPT").status_code == 201


def test_oa32_every_known_document_uses_known_callbacks():
    for document in KNOWN_DOCUMENTS.values():
        for uri in document["redirect_uris"]:
            assert known_app_at(uri) == document["client_name"], uri


def test_oa32_a_metadata_document_cannot_claim_a_known_name(app, signed_in):
    app.config["OAUTH_CIMD_ALLOW_LOOPBACK"] = True
    host = DocumentHost()
    try:
        url = host.url("/client.json")
        host.serve_json("/client.json", client_document(url, LOOPBACK, client_name="ChatGPT"))
        query, _ = desktop_authorize_query(url, LOOPBACK)
        page = signed_in.get("/oauth/authorize?" + query)
    finally:
        host.stop()
    assert page.status_code == 400 and "Location" not in page.headers
    assert "Only ChatGPT itself may use the name" in page.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Chat\u202eGPT", "Team\u200bBot"])
def test_oa32_the_command_line_refuses_format_characters(runner, name):
    result = runner.invoke(
        args=["clients", "create", "--name", name, "--redirect-uri", "https://a.example/cb"]
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "invisible formatting character" in result.output


def test_oa32_the_command_line_refuses_format_characters_in_redirect_uris(runner):
    result = runner.invoke(
        args=["clients", "create", "--name", "Team", "--redirect-uri", "https://a\u202e.example/cb"]
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "invisible formatting character" in result.output


def test_oa32_a_lookalike_host_is_shown_in_punycode_with_a_warning(signed_in):
    html = consent_page(signed_in, "https://ch\u0430tgpt.com/callback")  # Cyrillic а
    assert "xn--chtgpt-" in html and "ch\u0430tgpt" not in html
    assert "mixes letters from different alphabets" in html
    assert "has not reviewed it" in html


def test_oa32_a_plain_host_gets_no_lookalike_warning(signed_in):
    html = consent_page(signed_in, "https://agent.example/callback")
    assert "agent.example" in html and "different alphabets" not in html


def test_oa32_any_other_path_on_a_known_host_is_not_reviewed(signed_in):
    assert "has not reviewed it" in consent_page(signed_in, "https://claude.ai/some/page")
    assert "has not reviewed it" in consent_page(signed_in, "https://chatgpt.com/g/forward")


def test_oa32_a_known_apps_exact_callback_is_reviewed(signed_in):
    html = consent_page(signed_in, CLAUDE_CALLBACK, "Claude")
    assert "has not reviewed it" not in html


def test_oa32_consent_still_completes_for_a_known_app(signed_in):
    answer = register(signed_in, CLAUDE_CALLBACK, "Claude")
    query, _ = desktop_authorize_query(answer.json["client_id"], CLAUDE_CALLBACK)
    response = allow(signed_in, "/oauth/authorize?" + query)
    assert response.headers["Location"].startswith(CLAUDE_CALLBACK + "?code=")


def test_oa32_a_client_without_a_name_is_named_after_its_host_in_ascii(client):
    metadata = desktop_registration("https://ch\u0430tgpt.com/callback")
    del metadata["client_name"]
    answer = client.post("/oauth/register", json=metadata)
    assert answer.status_code == 201
    assert answer.json["client_name"].startswith("xn--")


def test_oa32_a_host_past_idna_is_still_shown_in_ascii():
    from plugin.hosts import ascii_host

    assert ascii_host("ch\u0430tgpt.com") == "xn--chtgpt-4nf.com"
    shown = ascii_host("\u0430" * 70 + ".example")  # a label too long for IDNA
    assert shown.isascii() and shown.startswith("xn--")
