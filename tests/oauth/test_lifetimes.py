"""Code and token lifetimes come from configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.extensions import db
from plugin.oauth.models import AuthorizationCode, OAuthToken


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ACCESS_TOKEN_TTL": 120, "REFRESH_TOKEN_TTL": 600, "AUTH_CODE_TTL": 60}


def test_lifetimes_come_from_configuration(app, tokens):
    assert tokens["expires_in"] == 120
    with app.app_context():
        row = db.session.scalar(sa.select(OAuthToken))
        assert row.access_expires_at - row.issued_at == timedelta(seconds=120)
        assert row.refresh_expires_at - row.issued_at == timedelta(seconds=600)
        code = db.session.scalar(sa.select(AuthorizationCode))
        assert code.expires_at - code.created_at <= timedelta(seconds=60)
