"""Admin → Connections: recent install attempts, and for a failed one the step that broke."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import NewestFirst, active_filters, bp, newest_first
from plugin.admin.forms import ConnectionFilterForm
from plugin.connections.models import ConnectionTrace
from plugin.connections.queries import query_traces
from plugin.extensions import db
from plugin.oauth.models import OAuthClient

PER_PAGE = 50


@bp.get("/connections")
@admin_required
def connections() -> ResponseReturnValue:
    form = ConnectionFilterForm(request.args)
    if not form.validate():
        return _page(form, NewestFirst([]), {}), 400
    traces = newest_first(
        lambda before_id, limit: query_traces(
            client=(form.client.data or "").strip() or None,
            person=(form.person.data or "").strip() or None,
            outcome=form.outcome.data or None,
            before_id=before_id,
            limit=limit,
        ),
        PER_PAGE,
    )
    return _page(form, traces, active_filters(form))


def _page(
    form: ConnectionFilterForm, traces: NewestFirst[ConnectionTrace], filters: dict[str, str]
) -> str:
    return render_template("admin/connections.html", form=form, traces=traces, filters=filters)


@bp.get("/connections/<int:trace_id>")
@admin_required
def connection_detail(trace_id: int) -> ResponseReturnValue:
    trace = db.get_or_404(ConnectionTrace, trace_id, description="There is no such trace.")
    client = db.session.scalar(
        sa.select(OAuthClient).where(OAuthClient.client_id == (trace.client_id or ""))
    )
    return render_template("admin/connection.html", trace=trace, client=client)
