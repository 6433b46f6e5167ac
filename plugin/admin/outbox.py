"""The outbox page: every e-mail handed to the mail server, and (in development, when
messages are printed instead of sent) their text, links included."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import bp, no_store, query_int
from plugin.mail.services import prints_instead_of_sending, recent_messages

PER_PAGE = 25


@bp.get("/outbox")
@admin_required
def outbox() -> ResponseReturnValue:
    before = query_int(request.args.get("before"))
    rows = recent_messages(limit=PER_PAGE + 1, before_id=before)
    page = render_template(
        "admin/outbox.html",
        messages=rows[:PER_PAGE],
        next_before=rows[PER_PAGE - 1].id if len(rows) > PER_PAGE else None,
        printing=prints_instead_of_sending(),
    )
    # Printed messages carry live links: never kept by a cache.
    return no_store(current_app.make_response(page))
