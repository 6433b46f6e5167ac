"""Helpers for the upstream sign-in tests: bring the provider's answer back to the app, start
from a real install, and read what the app kept (accounts, identities, trace steps)."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.accounts.upstream.models import UpstreamIdentity
from plugin.connections.models import TraceStep
from plugin.extensions import db
from tests.clients.oidc_provider import Answer


def start(client, name: str, next_path: str | None = None):
    """Press "Continue with …" of provider ``name``; the app's redirect to the provider."""
    query = f"?next={quote(next_path, safe='')}" if next_path else ""
    return client.get(f"/login/with/{name}{query}")


def come_back(client, answer: Answer | str):
    """Deliver the provider's answer to the app as the browser would."""
    if isinstance(answer, str):
        answer = Answer("GET", answer, {})
    parts = urlsplit(answer.url)
    if answer.method == "POST":
        return client.post(parts.path, data=answer.fields)
    return client.get(f"{parts.path}?{parts.query}")


def install_path(oauth_client) -> str:
    """ChatGPT's authorization request for ``oauth_client``, as a login's ``next``."""
    query = {
        "response_type": "code",
        "client_id": oauth_client.client_id,
        "redirect_uri": oauth_client.redirect_uri,
        "state": "chatgpt-state-1",
    }
    return "/oauth/authorize?" + urlencode(query)


def accounts(app) -> list[tuple[str, bool]]:
    """Each account's address and whether it counts as verified."""
    with app.app_context():
        rows = db.session.scalars(sa.select(User).order_by(User.id))
        return [(row.email, row.email_verified_at is not None) for row in rows]


def identities(app) -> list[tuple[str, str, str]]:
    """Each linked identity: provider, subject, address."""
    with app.app_context():
        rows = db.session.scalars(sa.select(UpstreamIdentity).order_by(UpstreamIdentity.id))
        return [(row.provider, row.subject, row.email) for row in rows]


def upstream_steps(app) -> list[tuple[bool, str | None, str | None]]:
    """The "upstream sign-in" steps of connection traces: ok, the cause and the reason."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(TraceStep).where(TraceStep.step == "upstream sign-in").order_by(TraceStep.id)
        )
        return [(row.ok, (row.details or {}).get("cause"), row.reason) for row in rows]
