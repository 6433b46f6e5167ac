"""What traces keep and for how long: no secret, code, state or token ever; expired traces go
on write and with ``flask connections prune``; the metadata fetch is traced."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.oauth.connector_helpers import DocumentHost
from tests.oauth.oauth_helpers import (
    allow,
    authorize_url,
    basic,
    callback_params,
    pkce_pair,
    refresh,
)

STATE = "state-value-that-must-not-be-stored-" + "s" * 20


def stored_text(app) -> str:
    """Every column of every trace and step, as one string."""
    from plugin.extensions import db

    with app.app_context():
        rows = []
        for table in ("connection_traces", "connection_trace_steps"):
            rows += [
                dict(row._mapping) for row in db.session.execute(sa.text(f"SELECT * FROM {table}"))
            ]
    return json.dumps(rows, default=str)


def test_no_secret_code_state_or_token_is_ever_stored(
    app, client, signed_in, oauth_client, exchange, traces
):
    verifier, challenge = pkce_pair()
    url = authorize_url(
        oauth_client, state=STATE, code_challenge=challenge, code_challenge_method="S256"
    )
    code = callback_params(allow(signed_in, url))["code"]
    assert exchange(code, client_secret="wrong-" + oauth_client.client_secret).status_code == 401
    assert exchange(code, code_verifier="x" * 43).status_code == 400
    tokens = exchange(code, code_verifier=verifier).json
    assert exchange(code, code_verifier=verifier).status_code == 400  # reuse revokes
    # Consent is remembered: the second authorization goes straight back with a code.
    second = callback_params(signed_in.get(url))["code"]
    fresh = exchange(second, code_verifier=verifier).json
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    assert (
        client.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
        ).status_code
        == 401
    )
    refresh(client, oauth_client, fresh["refresh_token"])
    refresh(client, oauth_client, fresh["refresh_token"])
    assert len(traces()) >= 2

    text = stored_text(app)
    for value in (
        oauth_client.client_secret,
        code,
        second,
        verifier,
        STATE,
        tokens["access_token"],
        tokens["refresh_token"],
        fresh["access_token"],
        fresh["refresh_token"],
    ):
        assert value not in text
    assert "wrong-" not in text


def age_all_traces(app, days: int) -> None:
    from plugin.connections.models import ConnectionTrace
    from plugin.extensions import db

    with app.app_context():
        # Row by row: SQLite has no interval arithmetic on stored datetimes.
        for trace in db.session.scalars(sa.select(ConnectionTrace)):
            trace.updated_at -= timedelta(days=days)
            trace.started_at -= timedelta(days=days)
        db.session.commit()


def test_expired_traces_are_pruned_when_a_new_one_starts(app, signed_in, oauth_client, traces):
    signed_in.get(authorize_url(oauth_client, redirect_uri="https://wrong.example/cb"))
    age_all_traces(app, app.config["CONNECTION_TRACE_DAYS"] + 1)
    signed_in.get(
        authorize_url(oauth_client, state="another", redirect_uri="https://wrong.example/cb2")
    )
    (left,) = traces()
    assert "cb2" in left["reason"]


def test_recent_traces_are_kept(app, signed_in, oauth_client, traces):
    signed_in.get(authorize_url(oauth_client, redirect_uri="https://wrong.example/cb"))
    age_all_traces(app, app.config["CONNECTION_TRACE_DAYS"] - 1)
    signed_in.get(
        authorize_url(oauth_client, state="another", redirect_uri="https://wrong.example/cb2")
    )
    assert len(traces()) == 2, traces()


def test_the_prune_command_removes_every_expired_trace(
    app, runner, signed_in, oauth_client, traces
):
    for n in range(3):
        signed_in.get(
            authorize_url(oauth_client, state=f"s{n}", redirect_uri=f"https://x.example/{n}")
        )
    age_all_traces(app, 30)
    result = runner.invoke(args=["connections", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Removed 3 expired connection traces."
    assert traces() == []


@pytest.fixture
def host():
    server = DocumentHost()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config):
    return app_config | {"OAUTH_CIMD_ALLOW_LOOPBACK": True}


def test_a_failed_metadata_fetch_is_the_step_that_broke(signed_in, host, traces):
    url = host.url("/missing.json")

    class Doc:
        client_id = url
        redirect_uri = "http://127.0.0.1:8765/callback"

    _, challenge = pkce_pair()
    page = signed_in.get(authorize_url(Doc, code_challenge=challenge, code_challenge_method="S256"))
    assert page.status_code == 400
    trace = traces()[0]
    assert trace["client_id"] == url
    assert steps_of(trace) == [("metadata document", False), ("authorization request", False)]
    fetch = trace["steps"][0]
    assert fetch["reason"].startswith(f"fetching {url} failed: ")
    assert "https" in fetch["fix"] and "client_id is its own URL" in fetch["fix"]


def steps_of(trace: dict) -> list[tuple[str, bool]]:
    return [(step["step"], step["ok"]) for step in trace["steps"]]


def test_a_trace_write_that_fails_never_fails_the_request(app, client, oauth_client, monkeypatch):
    from plugin.connections import services

    def broken(_steps):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is gone"))

    monkeypatch.setattr(services, "write_steps", broken)
    response = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code"},
        headers=basic(oauth_client.client_id, "x"),
    )
    assert response.status_code == 401
