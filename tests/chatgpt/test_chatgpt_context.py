"""ChatGPT's conversation headers reach the request log; malformed ones are dropped."""

from __future__ import annotations

import logging


def test_conversation_and_ephemeral_user_are_on_the_log_line(client, token, caplog):
    caplog.set_level(logging.INFO, logger="plugin.requests")
    response = client.get(
        "/api/me",
        headers={
            "Authorization": f"Bearer {token}",
            "openai-conversation-id": "conv-0f3a",
            "openai-ephemeral-user-id": "eph-77",
            "openai-subdivision-1-iso-code": "FR-75",
        },
    )
    assert response.get_json()["region"] == "FR-75"
    (record,) = [r for r in caplog.records if r.name == "plugin.requests"]
    assert record.conversation_id == "conv-0f3a"
    assert record.ephemeral_user_id == "eph-77"


def test_malformed_headers_are_not_logged(client, token, caplog):
    caplog.set_level(logging.INFO, logger="plugin.requests")
    client.get(
        "/api/me",
        headers={
            "Authorization": f"Bearer {token}",
            "openai-conversation-id": "bad value\twith tab",
        },
    )
    (record,) = [r for r in caplog.records if r.name == "plugin.requests"]
    assert not hasattr(record, "conversation_id")
