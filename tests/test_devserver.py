"""``flask dev --no-serve``: migrate and keep one demo client whose secret works."""

from __future__ import annotations

import json
import re

from tests.oauth.oauth_helpers import basic


def test_dev_prints_a_working_demo_client_and_keeps_it(app, runner, client, tmp_path):
    app.instance_path = str(tmp_path)
    first = runner.invoke(args=["dev", "--no-serve"])
    assert first.exit_code == 0, first.output
    client_id = re.search(r"client_id:\s+(\S+)", first.output).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", first.output).group(1)
    assert "http://localhost:5003/.well-known/ai-plugin.json" in first.output
    saved = json.loads((tmp_path / "demo-client.json").read_text())
    assert saved == {"client_id": client_id, "client_secret": secret}
    assert (tmp_path / "demo-client.json").stat().st_mode & 0o077 == 0

    again = runner.invoke(args=["dev", "--no-serve"])
    assert f"client_id:     {client_id}" in again.output
    assert f"client_secret: {secret}" in again.output

    # The printed secret authenticates (the bogus refresh token is the only complaint).
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers=basic(client_id, secret),
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_dev_recreates_a_deleted_demo_client(app, runner, tmp_path):
    app.instance_path = str(tmp_path)
    first = runner.invoke(args=["dev", "--no-serve"])
    client_id = re.search(r"client_id:\s+(\S+)", first.output).group(1)
    assert runner.invoke(args=["clients", "delete", client_id]).exit_code == 0
    again = runner.invoke(args=["dev", "--no-serve"])
    assert again.exit_code == 0
    assert client_id not in again.output


def test_dev_says_so_when_the_port_is_taken(app, runner, tmp_path):
    import socket

    app.instance_path = str(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(args=["dev", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: Port {port} on 127.0.0.1 is already in use (another server running?); "
        "stop it or pass --port."
    )
    assert not (tmp_path / "demo-client.json").exists()
