"""Client ID Metadata Documents: fetched safely, validated, cached, the last good copy kept."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from tests.oauth.connector_helpers import client_document
from tests.oauth.oauth_helpers import authorize_url, pkce_pair

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture
def app_config(app_config):
    return app_config | {"OAUTH_CIMD_ALLOW_LOOPBACK": True}


class Doc:
    def __init__(self, url: str, redirect_uri: str = CALLBACK) -> None:
        self.client_id = url
        self.redirect_uri = redirect_uri


def start(http, url: str, redirect_uri: str = CALLBACK):
    _, challenge = pkce_pair()
    return http.get(
        authorize_url(
            Doc(url, redirect_uri), code_challenge=challenge, code_challenge_method="S256"
        )
    )


def refused(response, words: str) -> None:
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers
    assert words in response.get_data(as_text=True)


def test_a_good_document_shows_consent_with_its_redirect_host(signed_in, host):
    url = host.serve_json("/client.json", client_document(host.url("/client.json"), CALLBACK))
    page = start(signed_in, url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Desk Agent" in html and "127.0.0.1" in html
    assert "has not reviewed it" in html and "runs on your own computer" in html


def test_loopback_redirect_matches_on_any_port(signed_in, host):
    url = host.serve_json("/client.json", client_document(host.url("/client.json"), CALLBACK))
    assert start(signed_in, url, "http://127.0.0.1:50123/callback").status_code == 200
    refused(start(signed_in, url, "http://127.0.0.1:50123/other"), "redirect")


def test_unregistered_redirect_is_refused(signed_in, host):
    url = host.serve_json("/client.json", client_document(host.url("/client.json"), CALLBACK))
    refused(start(signed_in, url, "https://evil.example/cb"), "redirect")


def test_mismatched_client_id_is_refused_and_audited(app, signed_in, host):
    url = host.serve_json("/client.json", client_document("https://other.example/c.json", CALLBACK))
    refused(start(signed_in, url), "client_id is not its own URL")
    from plugin.audit.models import AuditEvent
    from plugin.extensions import db

    with app.app_context():
        events = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == "client.metadata_fetch_failed")
        ).all()
    assert len(events) == 1 and "client_id" in events[0].details["reason"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"token_endpoint_auth_method": "client_secret_basic"}, "token_endpoint_auth_method"),
        ({"client_secret": "s"}, "client secret"),
        ({"grant_types": ["client_credentials"]}, "grant_types"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "https"),
        ({"client_name": "Desk\u0000Agent"}, "control characters"),
        ({"client_name": "Desk Agent\r\nby OpenAI"}, "control characters"),
    ],
)
def test_documents_outside_the_rules_are_refused(signed_in, host, extra, words):
    document = client_document(host.url("/c.json"), CALLBACK) | extra
    refused(start(signed_in, host.serve_json("/c.json", document)), words)


def test_chatgpts_array_of_auth_methods_is_accepted(signed_in, host):
    document = client_document(host.url("/c.json"), CALLBACK)
    del document["token_endpoint_auth_method"]
    document["token_endpoint_auth_methods_supported"] = ["none", "private_key_jwt"]
    assert start(signed_in, host.serve_json("/c.json", document)).status_code == 200


def test_redirects_are_not_followed(signed_in, host):
    target = host.serve_json("/real.json", client_document(host.url("/moved.json"), CALLBACK))
    refused(start(signed_in, host.serve_redirect("/moved.json", target)), "redirect")


def test_oversized_documents_are_refused(signed_in, host):
    document = client_document(host.url("/big.json"), CALLBACK, padding="x" * 6000)
    refused(start(signed_in, host.serve_json("/big.json", document)), "larger than")


def test_slow_hosts_are_given_up_on(signed_in, host, monkeypatch):
    from plugin.oauth.clients import fetch

    # Given up before the request stops waiting (OAUTH_CIMD_FETCH_WAIT), so the page says why.
    monkeypatch.setattr(fetch, "TIMEOUT", 0.2)
    refused(start(signed_in, host.serve_slowly("/slow.json", 2)), "in time")


def test_plain_http_is_refused_without_the_loopback_switch(app, signed_in, host):
    app.config["OAUTH_CIMD_ALLOW_LOOPBACK"] = False
    url = host.serve_json("/c.json", client_document(host.url("/c.json"), CALLBACK))
    # Without the switch an http:// client_id is not a document at all: an unknown client.
    refused(start(signed_in, url), "does not exist")
    from plugin.oauth.clients.fetch import FetchError, fetch_json

    with pytest.raises(FetchError, match="https"):
        fetch_json(url)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "192.168.1.1", "169.254.169.254"])
def test_private_loopback_and_link_local_addresses_are_refused(monkeypatch, address):
    from plugin.oauth.clients.fetch import FetchError, fetch_json

    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", (address, 443))]
    )
    with pytest.raises(FetchError, match="host is not allowed") as refused:
        fetch_json("https://docs.example/client.json")
    assert refused.value.detail == f"{address} is not a public address"


def test_one_private_answer_among_public_ones_is_refused(monkeypatch):
    from plugin.oauth.clients.fetch import FetchError, fetch_json

    answers = [(socket.AF_INET, 1, 6, "", (ip, 443)) for ip in ("93.184.215.14", "10.0.0.1")]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(FetchError) as refused:
        fetch_json("https://docs.example/client.json")
    assert "10.0.0.1" in refused.value.detail


def test_a_changing_dns_answer_cannot_redirect_the_connection(monkeypatch, host):
    """Resolved once: the connection goes to the checked address, whatever DNS says next."""
    from plugin.oauth.clients.fetch import fetch_json

    port = host.server.server_address[1]
    url = f"http://docs.test:{port}/c.json"
    host.serve_json("/c.json", {"client_id": url})
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    calls = []

    def rebinding(name, *args, **kwargs):
        calls.append(name)
        return [(socket.AF_INET, 1, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fetched = fetch_json(url, allow_loopback=True)
    assert fetched.document == {"client_id": url}
    assert calls == ["docs.test"]


def test_hosts_outside_the_allow_list_are_refused(app, signed_in, host):
    app.config["OAUTH_CIMD_ALLOWED_HOSTS"] = ["chatgpt.com"]
    url = host.serve_json("/c.json", client_document(host.url("/c.json"), CALLBACK))
    refused(start(signed_in, url), "OAUTH_CIMD_ALLOWED_HOSTS")
    assert host.hits == []


def test_documents_are_cached_and_the_last_good_copy_survives_an_outage(app, signed_in, host):
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient

    url = host.serve_json(
        "/c.json", client_document(host.url("/c.json"), CALLBACK), Cache_Control="max-age=600"
    )
    assert start(signed_in, url).status_code == 200
    assert start(signed_in, url).status_code == 200
    assert host.hits == ["/c.json"]  # fresh for max-age: asked once
    with app.app_context():
        row = db.session.scalar(db.select(OAuthClient).where(OAuthClient.client_id == url))
        assert row.kind == "metadata-document"
        assert row.metadata_fresh_until - row.metadata_fetched_at == timedelta(seconds=600)
        row.metadata_fresh_until = row.metadata_fetched_at  # expire the copy
        db.session.commit()
    host.serve_status("/c.json", 503)
    assert start(signed_in, url).status_code == 200  # the last good copy
    assert host.hits == ["/c.json", "/c.json"]


def test_disabled_switch_turns_documents_off(app, signed_in, host):
    app.config["OAUTH_CIMD_ENABLED"] = False
    url = host.serve_json("/c.json", client_document(host.url("/c.json"), CALLBACK))
    refused(start(signed_in, url), "does not exist")
    assert host.hits == []


def test_known_vendor_documents_work_without_reaching_their_hosts(app, signed_in):
    """chatgpt.com does not resolve here: the shipped copy is used, and the consent page
    names the host without the not-reviewed warning."""
    from plugin.oauth.clients.vendor_documents import KNOWN_DOCUMENTS

    url = "https://chatgpt.com/oauth/mcp/client.json"
    page = start(signed_in, url, KNOWN_DOCUMENTS[url]["redirect_uris"][0])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "chatgpt.com" in html and "has not reviewed it" not in html
