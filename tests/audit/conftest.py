"""Fixtures for the audit tests."""

from __future__ import annotations

import pytest

from tests.audit.audit_helpers import seed_events


@pytest.fixture
def seeded(app) -> list[int]:
    """The events of ``audit_helpers.EVENTS`` stored, oldest first; their ids."""
    return seed_events(app)
