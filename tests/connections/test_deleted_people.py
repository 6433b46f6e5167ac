"""Traces forget a deleted person: the address goes with the account."""

from __future__ import annotations

import json

from tests.helpers import PASSWORD, csrf_token_from
from tests.oauth.oauth_helpers import allow, authorize_url


def test_deleting_an_account_erases_its_address_from_the_traces(
    app, runner, signed_in, user, oauth_client, traces
):
    assert allow(signed_in, authorize_url(oauth_client)).status_code == 302
    assert any(trace["user"] == user.email for trace in traces())

    page = signed_in.get("/account").get_data(as_text=True)
    deleted = signed_in.post(
        "/account/delete",
        data={"delete_password": PASSWORD, "understood": "y", "csrf_token": csrf_token_from(page)},
    )
    assert deleted.status_code == 303

    remaining = traces()
    assert remaining, "the trace itself stays, for the operator"
    assert user.email not in json.dumps(remaining)
    tail = runner.invoke(args=["connections", "tail", "--json"])
    assert user.email not in tail.output
