"""The audit log page: filters and newest-first pages over ``query_events``."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import NewestFirst, active_filters, bp, newest_first
from plugin.admin.forms import AuditFilterForm
from plugin.audit.models import AuditEvent
from plugin.audit.services import event_types, query_events

PER_PAGE = 50


@bp.get("/audit")
@admin_required
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    if not form.validate():
        return _page(form, NewestFirst([]), {}), 400
    events = newest_first(
        lambda before_id, limit: query_events(
            event=(form.event.data or "").strip() or None,
            actor=(form.actor.data or "").strip() or None,
            subject=(form.subject.data or "").strip() or None,
            since=form.since(),
            until=form.until(),
            before_id=before_id,
            limit=limit,
        ),
        PER_PAGE,
    )
    return _page(form, events, active_filters(form))


def _page(form: AuditFilterForm, events: NewestFirst[AuditEvent], filters: dict[str, str]) -> str:
    return render_template(
        "admin/audit.html", form=form, events=events, event_names=event_types(), filters=filters
    )
