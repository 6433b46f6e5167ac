"""Fixtures for the OAuth tests (their helpers are in oauth_helpers and connector_helpers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oauth.connector_helpers import DocumentHost


@pytest.fixture
def host() -> Iterator[DocumentHost]:
    """A loopback host serving client metadata documents (and anything a test routes)."""
    server = DocumentHost()
    yield server
    server.stop()
