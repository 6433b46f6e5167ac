"""Admin → Connections: recent install attempts, and for a failed one the step that broke."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import bp, query_int
from plugin.admin.forms import ConnectionFilterForm
from plugin.connections.models import ConnectionTrace
from plugin.connections.services import query_traces
from plugin.extensions import db
from plugin.oauth.models import OAuthClient

PER_PAGE = 50


@bp.get("/connections")
@admin_required
def connections() -> ResponseReturnValue:
    form = ConnectionFilterForm(request.args)
    before = query_int(request.args.get("before"))
    if not form.validate():
        return render_template(
            "admin/connections.html", form=form, traces=[], next_before=None, filters={}
        ), 400
    filters = {key: value for key, value in request.args.items() if key in form.data and value}
    rows = query_traces(
        client=(form.client.data or "").strip() or None,
        person=(form.person.data or "").strip() or None,
        outcome=form.outcome.data or None,
        before_id=before,
        limit=PER_PAGE + 1,
    )
    next_before = rows[PER_PAGE - 1].id if len(rows) > PER_PAGE else None
    return render_template(
        "admin/connections.html",
        form=form,
        traces=rows[:PER_PAGE],
        next_before=next_before,
        before=before,
        filters=filters,
    )


@bp.get("/connections/<int:trace_id>")
@admin_required
def connection_detail(trace_id: int) -> ResponseReturnValue:
    trace = db.get_or_404(ConnectionTrace, trace_id, description="There is no such trace.")
    client = db.session.scalar(
        sa.select(OAuthClient).where(OAuthClient.client_id == (trace.client_id or ""))
    )
    return render_template("admin/connection.html", trace=trace, client=client)
