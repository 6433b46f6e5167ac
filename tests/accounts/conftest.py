"""Fixtures for the account tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def signed_in(auth, user):
    """The ``client`` signed in as ``user``."""
    response = auth.login(user.email)
    assert response.status_code == 303
    return auth.client
