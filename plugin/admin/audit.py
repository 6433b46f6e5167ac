"""The audit log page: filters and newest-first pages over ``query_events``."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import bp, query_int
from plugin.admin.forms import AuditFilterForm
from plugin.audit.services import event_types, query_events

PER_PAGE = 50


@bp.get("/audit")
@admin_required
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    before = query_int(request.args.get("before"))
    if not form.validate():
        return render_template(
            "admin/audit.html",
            form=form,
            events=[],
            next_before=None,
            before=None,
            event_names=event_types(),
            filters={},
        ), 400
    filters = {
        key: value for key, value in request.args.items() if key in form.data and value.strip()
    }
    rows = query_events(
        event=(form.event.data or "").strip() or None,
        actor=(form.actor.data or "").strip() or None,
        subject=(form.subject.data or "").strip() or None,
        since=form.since(),
        until=form.until(),
        before_id=before,
        limit=PER_PAGE + 1,
    )
    # One row more than a page tells whether an older page exists.
    next_before = rows[PER_PAGE - 1].id if len(rows) > PER_PAGE else None
    return render_template(
        "admin/audit.html",
        form=form,
        events=rows[:PER_PAGE],
        next_before=next_before,
        before=before,
        event_names=event_types(),
        filters=filters,
    )
