"""Fixtures for /mcp: an MCP caller per era with the default person's token."""

from __future__ import annotations

import pytest

from tests.mcp.mcp_helpers import LEGACY, MODERN, Mcp


@pytest.fixture(params=[LEGACY, MODERN])
def era(request) -> str:
    return request.param


@pytest.fixture
def mcp(client, token, era) -> Mcp:
    return Mcp(client, token, era)
