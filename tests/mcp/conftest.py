"""Fixtures for /mcp: an MCP caller per era with the default person's token."""

from __future__ import annotations

import pytest

from tests.helpers import make_token
from tests.mcp.mcp_helpers import LEGACY, MODERN, Mcp, mcp_url


@pytest.fixture
def token(app, user, oauth_client) -> str:
    """An access token issued for the /mcp resource, with both todo scopes."""
    return make_token(app, user, oauth_client, resource=mcp_url(app))["access_token"]


@pytest.fixture(params=[LEGACY, MODERN])
def era(request) -> str:
    return request.param


@pytest.fixture
def mcp(client, token, era) -> Mcp:
    return Mcp(client, token, era)
