"""App-only tools (security bar OA-33): hidden from the model, protected like every call."""

from __future__ import annotations

import pytest

from plugin.api.operations import ApiBlueprint, api_operation
from plugin.audit.models import AuditEvent
from plugin.confirmations.schemas import PendingConfirmationSchema
from plugin.confirmations.services import pending_confirmation
from plugin.database import commit
from plugin.extensions import db
from plugin.oauth.resources.protect import current_token
from tests.helpers import make_token
from tests.mcp.mcp_helpers import Mcp, mcp_url

helpers = ApiBlueprint("app_helpers", __name__, url_prefix="/api")


@helpers.post("/todos/clear-done")
@api_operation(
    "clearDoneTodos",
    summary="Ask to delete every done todo; the person confirms on the page at confirm_url.",
    scope="todos:write",
    consequential=True,
    responses={202: PendingConfirmationSchema},
    visibility=("app",),
)
def clear_done() -> tuple[dict, int]:
    answer = pending_confirmation(
        "todos.delete", {"todo_id": 1, "title": "done items"}, current_token.user, None
    )
    commit()
    return answer


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "API_RATE_LIMIT": "5 per minute"}


@pytest.fixture
def app_with_helper(app):
    app.register_blueprint(helpers)
    return app


def test_an_app_only_tool_is_hidden_from_the_model_and_still_protected(
    app_with_helper, client, user, oauth_client, token, era
):
    app = app_with_helper
    tool = Mcp(client, token, era).tools()["clearDoneTodos"]
    assert tool["_meta"]["ui"]["visibility"] == ["app"]
    assert tool["_meta"]["openai/visibility"] == "private"

    # The same token rules as any call: none, or one without the scope, is refused.
    call = {"name": "clearDoneTodos", "arguments": {}}
    assert Mcp(client, None, era).request("tools/call", call).status_code == 401
    narrow = make_token(app, user, oauth_client, scope="todos:read", resource=mcp_url(app))
    refused = Mcp(client, narrow["access_token"], era).request("tools/call", call)
    assert refused.status_code == 403
    assert 'scope="todos:write"' in refused.headers["WWW-Authenticate"]

    # The same confirmation flow and audit: nothing happens until the person confirms.
    mcp = Mcp(client, token, era)
    answer = mcp.call("clearDoneTodos")
    assert answer["structuredContent"]["status"] == "pending_confirmation"
    assert "confirm_url" in answer["structuredContent"]
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent.event)).all()
    assert "action.requested" in events

    # The same rate limit as every call the person makes (5 per minute here).
    statuses = [mcp.request("tools/call", call).status_code for _ in range(5)]
    assert statuses[-1] == 429
