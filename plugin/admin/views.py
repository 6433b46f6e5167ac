"""The operator's pages: clients, users, connections, settings and the audit log.

Every view is ``@admin_required`` and only calls the features' services. Each section lives
in its own module named as its URL and its template are (``/admin/audit``, ``audit.py``,
``templates/admin/audit.html``), all on the one ``admin`` blueprint; the modules that serve
several sections say what they hold (``common``, ``forms``, ``queries``, ``reveal``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin import (  # noqa: F401 - adds routes
    audit,
    clients,
    connections,
    outbox,
    passkey_gate,
    settings,
    users,
)
from plugin.admin.common import bp
from plugin.admin.queries import count_users
from plugin.audit.services import count_events, query_events
from plugin.clock import utcnow
from plugin.oauth.clients.manage import list_clients
from plugin.oauth.services import count_active_tokens

__all__ = ["bp"]


@bp.get("/")
@admin_required
def dashboard() -> ResponseReturnValue:
    return render_template(
        "admin/dashboard.html",
        users=count_users(),
        clients=len(list_clients()),
        active_tokens=count_active_tokens(),
        events_today=count_events(since=utcnow() - timedelta(days=1)),
        recent=query_events(limit=10),
    )
