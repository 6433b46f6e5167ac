"""OA-19: a whole install, at debug level, leaves no code, token, password or secret in the logs."""

from __future__ import annotations

import logging

import pytest

from tests.helpers import PASSWORD
from tests.oauth.oauth_helpers import refresh


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOG_LEVEL": "DEBUG"}


def test_logs_of_a_full_flow_hold_no_credentials(caplog, client, oauth_client, get_code, exchange):
    caplog.set_level(logging.DEBUG)
    code = get_code()
    body = exchange(code).json
    refreshed = refresh(client, oauth_client, body["refresh_token"]).json
    client.get("/api/me", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    client.post(
        "/oauth/revoke",
        data={
            "token": refreshed["refresh_token"],
            "client_id": oauth_client.client_id,
            "client_secret": oauth_client.client_secret,
        },
    )
    text = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert "/oauth/token" in text  # the requests were logged
    for secret in (
        code,
        body["access_token"],
        body["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        oauth_client.client_secret,
        PASSWORD,
    ):
        assert secret not in text
