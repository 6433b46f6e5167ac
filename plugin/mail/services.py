"""Render a message from its templates, send it, and note it in the outbox.

Sending happens inside the request, bounded by ``MAIL_TIMEOUT``: a mail server that is down or
slow costs the person seconds, never a hung page, and the caller hears about it (``False``)
so that the page can say "try again". Callers flush nothing themselves here; they commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, request, url_for
from flask_mailman import EmailMultiAlternatives

from plugin.clock import utcnow
from plugin.extensions import db, mail
from plugin.mail.models import MailMessage

log = logging.getLogger(__name__)

# The outbox is a record for support and development, not an archive.
OUTBOX_DAYS = 30


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link for a message: on ``PLUGIN_BASE_URL`` (required once real mail is sent)."""
    base = (current_app.config["PLUGIN_BASE_URL"] or request.host_url).rstrip("/")
    return base + url_for(endpoint, **values)


def prints_instead_of_sending() -> bool:
    return bool(current_app.config["MAIL_BACKEND"] == "console")


def send_message(
    template: str,
    to: str,
    subject: str,
    *,
    user_id: int | None = None,
    **context: Any,
) -> bool:
    """Send ``templates/mail/<template>.txt`` (and ``.html``) to ``to``; tell whether it went.

    A failure is logged (without the address) and recorded in the outbox.
    """
    config = current_app.config
    context = {
        "product": config["PLUGIN_NAME_FOR_HUMAN"],
        "base_url": (config["PLUGIN_BASE_URL"] or request.host_url).rstrip("/"),
        "contact": config["PLUGIN_CONTACT_EMAIL"],
        "subject": subject,
        **context,
    }
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", **context)
    message = EmailMultiAlternatives(
        subject=f"{subject} · {config['PLUGIN_NAME_FOR_HUMAN']}",
        body=text,
        to=[to],
        connection=mail.get_connection(),
    )
    message.attach_alternative(html, "text/html")
    error = None
    try:
        message.send()
    except (OSError, ValueError) as problem:  # smtplib's errors are OSErrors
        error = _describe(problem)
        log.warning("mail %r for user %s not sent: %s", template, user_id, error)
    printed = prints_instead_of_sending()
    _prune()
    db.session.add(
        MailMessage(
            user_id=user_id,
            kind=template,
            to_address=to[:254],
            subject=message.subject[:255],
            status="failed" if error else ("printed" if printed else "sent"),
            error=error,
            body_text=text if printed else None,
            body_html=html if printed else None,
        )
    )
    return error is None


def _describe(problem: Exception) -> str:
    # An SMTP reply may quote the address: keep the kind of error and its code only.
    detail = getattr(problem, "smtp_code", None) or getattr(problem, "errno", None)
    return f"{type(problem).__name__} {detail}" if detail else type(problem).__name__


def _prune() -> None:
    cutoff = utcnow() - timedelta(days=OUTBOX_DAYS)
    db.session.execute(sa.delete(MailMessage).where(MailMessage.created_at < cutoff))


def recent_messages(limit: int = 50, before_id: int | None = None) -> list[MailMessage]:
    """The newest outbox entries first (the admin outbox page)."""
    statement = sa.select(MailMessage)
    if before_id is not None:
        statement = statement.where(MailMessage.id < before_id)
    return list(db.session.scalars(statement.order_by(MailMessage.id.desc()).limit(limit)))


def forget_address(address: str) -> None:
    """Remove the outbox entries sent to ``address`` (an account is being deleted)."""
    db.session.execute(sa.delete(MailMessage).where(MailMessage.to_address == address))
