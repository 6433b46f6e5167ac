"""Protocol edges: each is a clear JSON-RPC or HTTP error, never a 500 or a traceback."""

from __future__ import annotations

import json
import logging

import pytest

from plugin.accounts.models import User
from plugin.accounts.services import set_disabled
from plugin.extensions import db
from plugin.oauth.models import OAuthClient
from plugin.oauth.services import revoke_consent
from tests.helpers import make_token
from tests.mcp.mcp_helpers import ACCEPT, LEGACY, MODERN, Mcp, modern_meta


def _error(answer) -> dict:
    body = answer.get_json()
    assert body is not None and "error" in body, answer.get_data(as_text=True)
    return body["error"]


def test_legacy_handshake_ping_and_notification(mcp):
    mcp.era = LEGACY
    init = mcp.result(
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "tests", "version": "1"},
        },
    )
    assert init["protocolVersion"] == "2025-06-18"
    assert "tools" in init["capabilities"] and init["serverInfo"]["name"]
    note = mcp.post(
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        mcp.headers("notifications/initialized", None),
    )
    assert note.status_code == 202 and note.get_data() == b""
    assert mcp.result("ping") == {}


def test_a_missing_protocol_version_header_is_tolerated(client, token):
    answer = client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT},
    )
    assert answer.status_code == 200 and answer.get_json()["result"]["tools"]


def test_modern_discover_and_result_fields(client, token):
    mcp = Mcp(client, token, MODERN)
    found = mcp.result("server/discover")
    assert MODERN in found["supportedVersions"] and "tools" in found["capabilities"]
    listed = mcp.result("tools/list")
    assert listed["resultType"] == "complete" and "ttlMs" in listed or "cacheScope" in listed


def test_modern_header_mismatch_and_missing_meta(client, token):
    mcp = Mcp(client, token, MODERN)
    answer = mcp.request("tools/list", **{"Mcp-Method": "tools/call"})
    assert answer.status_code == 400 and _error(answer)["code"] == -32020
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    answer = mcp.post(body, mcp.headers("tools/list", None))
    assert answer.status_code == 400 and "code" in _error(answer)


def test_an_unsupported_version_names_the_supported_ones(client, token):
    mcp = Mcp(client, token, "2099-01-01")
    answer = mcp.request("tools/list")
    assert answer.status_code == 400
    error = _error(answer)
    assert error["code"] == -32022 and MODERN in json.dumps(error)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/destroy"}, -32601),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 5}}, None),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": "x"}, None),
        ([{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}], None),
        ({"id": 1}, None),
    ],
)
def test_malformed_requests_are_json_rpc_errors(mcp, body, code):
    params = body.get("params", {}) if isinstance(body, dict) else None
    if mcp.era == MODERN and isinstance(params, dict) and "method" in body:
        body["params"] = {**body.get("params", {}), "_meta": modern_meta()}
    method = body.get("method", "tools/list") if isinstance(body, dict) else "tools/list"
    headers = mcp.headers(method, None)
    answer = mcp.post(body, headers)
    assert 200 <= answer.status_code < 500
    error = _error(answer)
    if code is not None:
        assert error["code"] == code


def test_unparseable_json_is_a_parse_error(mcp):
    answer = mcp.post(None, mcp.headers("tools/list", None), raw=b"{not json")
    assert answer.status_code < 500 and _error(answer)["code"] == -32700


def test_a_ten_megabyte_body_is_refused(mcp):
    huge = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "' + b"a" * 10_000_000
    answer = mcp.post(None, mcp.headers("ping", None), raw=huge + b'"}}')
    assert answer.status_code == 413 and "error" in answer.get_json()


def test_in01_a_ten_megabyte_chunked_body_is_refused_in_json_rpc(mcp):
    import io

    answer = mcp.client.post(
        "/mcp",
        input_stream=io.BytesIO(b'{"jsonrpc": "2.0", "x": "' + b"a" * 10_000_000 + b'"}'),
        headers=mcp.headers("ping", None) | {"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413 and _error(answer)["code"] == -32600


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": '
        + b'{"name": "createTodo", "arguments": {"title": "a\\u0000b"}}}',
        b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "\\ud800"}}',
    ],
    ids=["nested 1,000 levels", "a NUL in an argument", "a lone surrogate"],
)
def test_in02_in03_an_unreadable_body_is_a_json_rpc_error(mcp, raw):
    answer = mcp.post(None, mcp.headers("tools/call", None), raw=raw)
    assert 400 <= answer.status_code < 500
    assert answer.get_json()["jsonrpc"] == "2.0" and _error(answer)["code"] in (-32700, -32600)


def test_get_and_delete_are_405(client, token):
    for method in ("GET", "DELETE"):
        answer = client.open("/mcp", method=method, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 405 and "POST" in answer.headers["Allow"]


def test_a_foreign_origin_is_refused_and_chatgpt_is_not(mcp):
    answer = mcp.request("tools/list", Origin="https://evil.example")
    assert answer.status_code == 403 and "origin" in _error(answer)["message"].lower()
    assert mcp.request("tools/list", Origin="https://chatgpt.com").status_code == 200


class TestPublicOrigin:
    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"PLUGIN_BASE_URL": "https://todo.example.com"}

    def test_the_sdk_host_allowlist_is_the_public_origin(self, client, token):
        mcp = Mcp(client, token)
        ok = client.post(
            "/mcp",
            base_url="https://todo.example.com",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers=mcp.headers("tools/list", None),
        )
        assert ok.status_code == 200
        assert ok.headers["Strict-Transport-Security"]
        wrong = mcp.request("tools/list")  # Host: localhost
        assert wrong.status_code == 421


def test_without_a_token_the_challenge_points_at_the_resource_metadata(client, era):
    answer = Mcp(client, None, era).request("tools/list")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )
    assert "scope=" in challenge


def test_a_token_in_the_query_string_is_not_accepted(client, token):
    answer = client.post(
        f"/mcp?access_token={token}",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": ACCEPT},
    )
    assert answer.status_code == 401


def test_revocation_and_disabling_take_effect_at_once(app, mcp, user, oauth_client):
    assert mcp.request("tools/list").status_code == 200
    with app.app_context():
        revoke_consent(db.session.get(User, user.id), db.session.get(OAuthClient, oauth_client.id))
        db.session.commit()
    assert mcp.request("tools/list").status_code == 401


def test_a_disabled_person_is_refused(app, mcp, user):
    with app.app_context():
        set_disabled(db.session.get(User, user.id), True)
        db.session.commit()
    assert mcp.request("tools/list").status_code == 401


def test_requests_share_the_api_rate_limit(app, mcp, user, oauth_client):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    statuses = [mcp.request("tools/list").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = mcp.request("tools/list")
    assert limited.status_code == 429
    # The limit is the person's, whichever resource their tokens are for.
    api_token = make_token(app, user, oauth_client)["access_token"]
    api = mcp.client.get("/api/me", headers={"Authorization": f"Bearer {api_token}"})
    assert api.status_code == 429


def test_request_id_security_headers_and_log_line_as_on_the_api(mcp, caplog):
    caplog.set_level(logging.INFO, logger="plugin.requests")
    answer = mcp.request(
        "tools/call",
        {"name": "getMe", "arguments": {}},
        **{"X-Request-ID": "mcp-test-0001", "openai-conversation-id": "conv-123"},
    )
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "mcp-test-0001"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    [line] = [r for r in caplog.records if r.name == "plugin.requests"]
    assert line.path == "/mcp" and line.request_id == "mcp-test-0001"
    assert line.user_id is not None and line.conversation_id == "conv-123"


def test_a_failing_view_is_a_tool_error_without_a_traceback(app, mcp, monkeypatch):
    from plugin.todos import services

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "profile", broken)
    answer = mcp.call("getMe")
    assert answer["isError"] is True
    assert "secret" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)


def test_a_token_for_the_api_is_refused_at_mcp(app, client, user, oauth_client, era):
    api_token = make_token(app, user, oauth_client)["access_token"]
    answer = Mcp(client, api_token, era).request("tools/list")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert 'resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )
    assert 'error="invalid_token"' in challenge
