"""The outbox page: every e-mail handed to the mail server, and (in development, when
messages are printed instead of sent) their text, links included."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from plugin.accounts.sessions import admin_required
from plugin.admin.common import bp, newest_first, no_store
from plugin.mail.services import prints_instead_of_sending, recent_messages

PER_PAGE = 25


@bp.get("/outbox")
@admin_required
def outbox() -> ResponseReturnValue:
    messages = newest_first(
        lambda before_id, limit: recent_messages(limit=limit, before_id=before_id), PER_PAGE
    )
    page = render_template(
        "admin/outbox.html", messages=messages, printing=prints_instead_of_sending()
    )
    # Printed messages carry live links: never kept by a cache.
    return no_store(current_app.make_response(page))
